"""Briefings written by the agent (the offline model) with citations, scheduled and
delivered; scheduled ingestion of watched symbols' filings and feeds (fake EDGAR, an
RSS file); and the planner's reading of briefing, alert and watchlist talk."""

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, update
from sqlmodel import Session

from assistant.auth import Role, User
from assistant.briefings import Cadence, next_run
from assistant.channels import WidgetChannel
from assistant.jobs import JobRow, Jobs
from assistant.settings import Settings
from assistant.store import utcnow
from assistant.watch_ingest import WatchIngest, tagger
from assistant.watchlists import WatchlistStore
from retrieval.embeddings import shared_embedder
from retrieval.index import DocumentIndex
from retrieval.models import DocType, Document, SearchFilters
from tests.agent_env import make_services
from tests.fakes.edgar import make_filings, serve_fake_edgar

ANN = User(id="ann", role=Role.TRADER)


def _plan(model_cache, question, stored="AAPL KO MSFT MRK PFE NVDA PEP"):
    from assistant.models.offline import planner as make_planner

    sample = set(stored.split())
    return make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)


def test_a_briefing_is_written_from_tools_with_citations(
    tmp_path, db_url, sample_store, sample_index_dir
):
    services = make_services(tmp_path / "data", db_url, sample_store, sample_index_dir)
    services.watchlists.add("ann", "tech", ["AAPL", "MSFT"])
    made = asyncio.run(services.briefings.make(ANN, "tech", 7))
    text = made.text
    assert text.startswith(
        "Briefing on your watchlist 'tech' (AAPL, MSFT) for the 7 days to 2022-12-28"
    )
    closes = {s: sample_store.load(s).price.iloc[-1] for s in ("AAPL", "MSFT")}
    assert f"AAPL closed at {closes['AAPL']:,.2f} on 2022-12-28" in text
    assert f"MSFT closed at {closes['MSFT']:,.2f}" in text
    assert made.citations and all(f"[{c.n}]" in text for c in made.citations)
    assert all(c.date >= date(2022, 12, 22) for c in made.citations)  # the period's documents
    assert [b.id for b in services.briefings.mine("ann")] == [made.id]
    assert services.briefings.mine("bob") == []
    with pytest.raises(Exception, match="no watchlist 'nope'"):
        asyncio.run(services.briefings.make(ANN, "nope"))


def test_a_schedule_runs_once_per_due_time_and_is_delivered(
    tmp_path, db_url, sample_store, sample_index_dir
):
    services = make_services(tmp_path / "data", db_url, sample_store, sample_index_dir)
    services.watchlists.add("ann", None, ["KO"])
    made = services.briefings.schedule(
        "ann", None, Cadence.DAILY, 6, None, [WidgetChannel(type="widget")]
    )
    assert made.next_run_at > utcnow() and made.next_run_at.hour == 6 and made.secret
    handlers = services.handlers()
    assert asyncio.run(services.jobs.arun_due(handlers)) == []  # not due yet
    with Session(services.store.engine) as s:
        s.exec(
            update(JobRow).where(JobRow.name == f"briefing:{made.id}").values(next_run_at=utcnow())
        )
        s.commit()
    [ran] = asyncio.run(services.jobs.arun_due(handlers))
    assert ran.error is None and ran.result.schedule_id == made.id
    assert asyncio.run(services.jobs.arun_due(handlers)) == []  # next one is tomorrow
    services.deliveries.run()
    [note] = services.notifications.mine("ann")
    assert note.kind == "briefing" and note.source_id == ran.result.id
    assert note.text.startswith("Briefing on your watchlist 'default' (KO) on 2022-12-28")
    [listed] = services.briefings.schedules("ann")
    assert listed.next_run_at > utcnow()
    services.watchlists.delete("ann", None)  # the list goes; the schedule's runs do nothing
    with Session(services.store.engine) as s:
        s.exec(
            update(JobRow).where(JobRow.name == f"briefing:{made.id}").values(next_run_at=utcnow())
        )
        s.commit()
    [skipped] = asyncio.run(services.jobs.arun_due(handlers))
    assert skipped.error is None and skipped.result is None
    services.briefings.unschedule("ann", made.id)
    assert services.briefings.schedules("ann") == []
    assert f"briefing:{made.id}" not in {j.name for j in services.jobs.states()}


def test_next_run_is_the_next_hour_and_weekday():
    monday_8 = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    assert next_run(Cadence.DAILY, 9, None, monday_8) == datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert next_run(Cadence.DAILY, 7, None, monday_8) == datetime(2026, 12, 8, 7, tzinfo=UTC)
    assert next_run(Cadence.WEEKLY, 7, 4, monday_8) == datetime(2026, 12, 11, 7, tzinfo=UTC)
    assert next_run(Cadence.WEEKLY, 7, 0, monday_8) == datetime(2026, 12, 14, 7, tzinfo=UTC)


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Widget Corp wins a contract</title><link>https://news.example/1</link>
<pubDate>Tue, 14 Feb 2023 10:00:00 GMT</pubDate><description>$WIDG rose after the award.</description></item>
<item><title>Rates unchanged</title><link>https://news.example/2</link>
<pubDate>Tue, 14 Feb 2023 11:00:00 GMT</pubDate><description>The central bank held rates.</description></item>
</channel></rss>"""


def test_scheduled_ingestion_fetches_watched_filings_and_feeds_once(tmp_path, db_url, model_cache):
    feed = tmp_path / "wire.xml"
    feed.write_text(RSS)
    engine = create_engine(db_url)
    WatchlistStore(engine, lambda s: True).add("ann", None, ["WIDG"])
    index = DocumentIndex(shared_embedder(cache_dir=model_cache), path=tmp_path / "qdrant")
    jobs = Jobs(engine)
    try:
        with serve_fake_edgar(make_filings(1234, "WIDG", "Widget Corp")) as edgar:
            settings = Settings(
                edgar_user_agent="Test test@example.com",
                edgar_base_url=edgar.url,
                ingest_feeds=[str(feed)],
                ingest_forms=["10-K", "8-K"],
            )
            watch = WatchIngest(settings, engine, lambda: index, jobs)
            assert watch.enabled
            jobs.ensure("alerts", datetime(2100, 1, 1, tzinfo=UTC))
            first = watch.run()
            assert first.written == 3, first  # the 10-K and both feed items
            [missing] = first.failures  # the fake has no 8-K document: retried next round
            assert "widg-8k.htm" in missing.error
            assert "alerts" in Jobs(engine).due()  # new data: the alert sweep is due now
            docs = {c.doc_id: c for c in index.chunks(SearchFilters())}
            filing = next(c for c in docs.values() if c.doc_type is DocType.FILING)
            assert filing.form == "10-K" and filing.tickers == ["WIDG"]
            news = {c.title: c.tickers for c in docs.values() if c.doc_type is DocType.NEWS}
            assert news == {"Widget Corp wins a contract": ["WIDG"], "Rates unchanged": []}
            again = watch.run()
            assert again.written == 0 and again.unchanged == 2
            ten_k = [p for p in edgar.paths if p.endswith("widg-20221231.htm")]
            assert len(ten_k) == 1  # an indexed filing is not downloaded again
    finally:
        index.close()
    off = WatchIngest(Settings(), engine, lambda: index, jobs)
    assert not off.enabled  # no EDGAR user agent and no feeds: nothing to run


def test_feed_items_are_tagged_with_the_symbols_they_name():
    tag = tagger(["KO", "AAPL"], {"KO": "coca cola", "AAPL": "apple"})
    doc = Document(
        doc_id="n",
        title="Coca-Cola and $AAPL",
        source="s",
        doc_type=DocType.NEWS,
        published_at="2023-01-01",
        text="ko is not a ticker here",
    )
    assert tag(doc).tickers == ["KO", "AAPL"]
    plain = doc.model_copy(update={"title": "Nothing", "text": "ko okay"})
    assert tag(plain).tickers == []


@pytest.mark.parametrize(
    ("question", "call"),
    [
        ("brief me on my watchlist", ("get_briefing", {})),
        (
            "give me my weekly digest for the pharma watchlist",
            ("get_briefing", {"watchlist": "pharma", "days": 7}),
        ),
        ("morning briefing please", ("get_briefing", {})),
        (
            "what happened on my tech watchlist in the last 3 days?",
            ("get_briefing", {"watchlist": "tech", "days": 3}),
        ),
        ("how is my watchlist doing?", ("get_briefing", {})),
        (
            "Write my daily briefing on my watchlist 'tech' (days=1).",
            ("get_briefing", {"watchlist": "tech", "days": 1}),
        ),
    ],
)
def test_briefing_talk(model_cache, question, call):
    assert _plan(model_cache, question).calls == [call]


@pytest.mark.parametrize(
    "question",
    ["give me a brief explanation of RSI", "brief me on Apple", "what's in Pfizer's latest 10-K?"],
)
def test_other_talk_is_not_briefing_talk(model_cache, question):
    assert all(name != "get_briefing" for name, _ in _plan(model_cache, question).calls)


@pytest.mark.parametrize(
    ("question", "calls"),
    [
        (
            "alert me when Apple files an 8-K",
            [("create_alert", {"symbol": "AAPL", "condition": "new_filing", "value": ["8-K"]})],
        ),
        (
            "notify me of any new filing from Merck",
            [("create_alert", {"symbol": "MRK", "condition": "new_filing"})],
        ),
        (
            "ping me on very negative news about Pfizer",
            [("create_alert", {"symbol": "PFE", "condition": "news_sentiment", "value": -0.6})],
        ),
        (
            "alert me if there's good news on KO",
            [("create_alert", {"symbol": "KO", "condition": "news_sentiment", "value": 0.4})],
        ),
        (
            "tell me if MSFT does something unusual",
            [("create_alert", {"symbol": "MSFT", "condition": "anomaly"})],
        ),
        (
            "alert me when AAPL drops below 120 and when MSFT goes above 250",
            [
                ("create_alert", {"symbol": "AAPL", "condition": "price_below", "value": 120.0}),
                ("create_alert", {"symbol": "MSFT", "condition": "price_above", "value": 250.0}),
            ],
        ),
        (
            "alert me when KO or PFE falls 4% in a day",
            [
                ("create_alert", {"symbol": "KO", "condition": "pct_drop", "value": 0.04}),
                ("create_alert", {"symbol": "PFE", "condition": "pct_drop", "value": 0.04}),
            ],
        ),
        (
            "email me at ann@example.com when KO closes above 70",
            [
                (
                    "create_alert",
                    {
                        "symbol": "KO",
                        "condition": "price_above",
                        "value": 70.0,
                        "email": "ann@example.com",
                    },
                )
            ],
        ),
        (
            "alert me at https://hooks.example.com/x?id=2 when AAPL's RSI drops below 30",
            [
                (
                    "create_alert",
                    {
                        "symbol": "AAPL",
                        "condition": "rsi_below",
                        "value": 30.0,
                        "webhook_url": "https://hooks.example.com/x?id=2",
                    },
                )
            ],
        ),
        (
            "post to #trading on slack when NVDA crosses its 50 day moving average, alert me",
            [
                (
                    "create_alert",
                    {
                        "symbol": "NVDA",
                        "condition": "cross_sma",
                        "value": 50.0,
                        "slack_channel": "#trading",
                    },
                )
            ],
        ),
        ("delete my alerts on AAPL", [("delete_alerts", {"symbol": "AAPL"})]),
        ("stop alerting me about Coca-Cola", [("delete_alerts", {"symbol": "KO"})]),
        ("remove all my alerts", [("delete_alerts", {"every": True})]),
        (
            "cancel alert alrt_0123456789abcdef",
            [("delete_alerts", {"alert_ids": ["alrt_0123456789abcdef"]})],
        ),
        (
            "take MSFT off my tech watchlist and add KO",
            [("update_watchlist", {"add": ["KO"], "remove": ["MSFT"], "name": "tech"})],
        ),
    ],
)
def test_alert_and_watchlist_talk(model_cache, question, calls):
    assert _plan(model_cache, question).calls == calls


@pytest.mark.parametrize(
    ("question", "calls"),
    [
        ("cancel the PEP alert for 190", [("delete_alerts", {"symbol": "PEP", "value": 190.0})]),
        ("get rid of the rsi alerts", [("delete_alerts", {"kinds": ["rsi_above", "rsi_below"]})]),
        ("unsubscribe me from the XOM alert", [("delete_alerts", {"symbol": "XOM"})]),
        (
            "post to #desk on slack when XOM moves 3% in a day",
            [
                (
                    "create_alert",
                    {
                        "symbol": "XOM",
                        "condition": "pct_move",
                        "slack_channel": "#desk",
                        "value": 0.03,
                    },
                )
            ],
        ),
        (
            "when KO crosses above its 200-day average, ping #trading on slack",
            [
                (
                    "create_alert",
                    {
                        "symbol": "KO",
                        "condition": "cross_sma",
                        "slack_channel": "#trading",
                        "value": 200.0,
                    },
                )
            ],
        ),
        (
            "if chevron rsi is above 75 or below 25 let me know",
            [
                ("create_alert", {"symbol": "CVX", "condition": "rsi_above", "value": 75.0}),
                ("create_alert", {"symbol": "CVX", "condition": "rsi_below", "value": 25.0}),
            ],
        ),
        (
            "heads up if Home Depot does anything weird",
            [("create_alert", {"symbol": "HD", "condition": "anomaly"})],
        ),
        (
            "can you set an alert for when pepsi hits 190?",
            [("create_alert", {"symbol": "PEP", "condition": "price_reaches", "value": 190.0})],
        ),
        (
            "alert me when AAPL breaks above the 200dma",
            [("create_alert", {"symbol": "AAPL", "condition": "cross_sma", "value": 200.0})],
        ),
        (
            "text me when nvda pops 10%",
            [("create_alert", {"symbol": "NVDA", "condition": "pct_rise", "value": 0.1})],
        ),
        (
            "notify me if BAC's price goes past 40 or under 28",
            [
                ("create_alert", {"symbol": "BAC", "condition": "price_above", "value": 40.0}),
                ("create_alert", {"symbol": "BAC", "condition": "price_below", "value": 28.0}),
            ],
        ),
        (
            "alert me to any new 8-K from JPM and any really bad news on them too",
            [
                ("create_alert", {"symbol": "JPM", "condition": "new_filing", "value": ["8-K"]}),
                ("create_alert", {"symbol": "JPM", "condition": "news_sentiment", "value": -0.6}),
            ],
        ),
        ("do I have any alerts on pepsi?", [("list_alerts", {})]),
        (
            "create a watchlist called energy with exxon and chevron",
            [("update_watchlist", {"add": ["XOM", "CVX"], "name": "energy"})],
        ),
        (
            "put LLY on the pharma list too",
            [("update_watchlist", {"add": ["LLY"], "name": "pharma"})],
        ),
        ("delete the staples watchlist", [("delete_watchlist", {"name": "staples"})]),
        ("digest for my pharma list", [("get_briefing", {"watchlist": "pharma"})]),
        ("give me a rundown of my staples watchlist", [("get_briefing", {"watchlist": "staples"})]),
        (
            "send me a daily briefing on my pharma watchlist every morning",
            [("schedule_briefing", {"watchlist": "pharma", "hour": 7})],
        ),
        (
            "weekly digest of my tech watchlist every friday at 6pm",
            [
                (
                    "schedule_briefing",
                    {"watchlist": "tech", "cadence": "weekly", "weekday": "friday", "hour": 18},
                )
            ],
        ),
    ],
)
def test_what_strangers_typed(model_cache, question, calls):
    stored = "AAPL KO MSFT MRK PFE NVDA PEP XOM CVX LLY JPM BAC HD"
    assert _plan(model_cache, question, stored).calls == calls


@pytest.mark.parametrize(
    "question",
    [
        "should I remove PFE from my watchlist?",
        "should I add KO to my watchlist?",
        "would it make sense to delete my KO alert?",
        "should i set an alert on PFE at 45?",
        "what's a good price to set an alert for on coke?",
        "is KO on my watchlist doing well?",
        "show me when AAPL last crossed its 200 day moving average",
    ],
)
def test_advice_and_history_questions_change_nothing(model_cache, question):
    acting = {"create_alert", "delete_alerts", "update_watchlist", "delete_watchlist"}
    assert not acting & {name for name, _ in _plan(model_cache, question).calls}


def test_a_move_over_a_week_is_not_silently_a_day(model_cache):
    plan = _plan(model_cache, "alert me if KO drops 5% or more in a week")
    assert plan.calls == [] and "one trading day" in plan.message


def test_a_request_then_an_alert_does_both(model_cache):
    stored = "AAPL KO MSFT MRK PFE NVDA PEP XOM CVX"
    both = _plan(model_cache, "compare KO and PEP, then alert me if either drops below 55", stored)
    assert [name for name, _ in both.calls] == [
        "get_prices",
        "get_prices",
        "create_alert",
        "create_alert",
    ]
    assert {args["symbol"] for name, args in both.calls if name == "create_alert"} == {"KO", "PEP"}
    brief = _plan(
        model_cache, "give me my briefing and then set an alert for XOM below 100", stored
    )
    assert brief.calls == [
        ("get_briefing", {}),
        ("create_alert", {"symbol": "XOM", "condition": "price_below", "value": 100.0}),
    ]
    again = _plan(
        model_cache,
        "alert me when AAPL drops below 120 and then again when it drops below 100",
        stored,
    )
    assert [args["value"] for _, args in again.calls] == [120.0, 100.0]


@pytest.mark.parametrize(
    ("question", "first", "alert"),
    [
        (
            "what's Apple's RSI; alert me when it goes below 30",
            "get_indicators",
            {"symbol": "AAPL", "condition": "rsi_below", "value": 30.0},
        ),
        (
            "whats the rsi on msft? ping me if it gets above 70",
            "get_indicators",
            {"symbol": "MSFT", "condition": "rsi_above", "value": 70.0},
        ),
        (
            "how did KO do this year and let me know if it falls below 55",
            "get_prices",
            {"symbol": "KO", "condition": "price_below", "value": 55.0},
        ),
        (
            "How is XOM doing. Tell me if it drops 4% in a day.",
            "get_prices",
            {"symbol": "XOM", "condition": "pct_drop", "value": 0.04},
        ),
    ],
)
def test_a_question_and_an_alert_on_it_answers_and_sets_it(model_cache, question, first, alert):
    """The question is answered, not dropped, and "it" in the alert part is the question's
    stock (its RSI, when the question was about the RSI)."""
    plan = _plan(model_cache, question, "AAPL KO MSFT XOM PEP")
    names = [name for name, _ in plan.calls]
    assert names[0] == first and names[-1] == "create_alert"
    assert plan.calls[-1][1] == alert


@pytest.mark.parametrize(
    ("question", "condition"),
    [
        ("alert me if KO drops 5% in a day", "pct_drop"),
        ("ping me when PEP jumps 3%", "pct_rise"),
        ("notify me if XOM swings 4 percent", "pct_move"),
        ("alert me on a 6% plunge in KO", "pct_drop"),
    ],
)
def test_a_move_alert_keeps_the_direction_asked_for(model_cache, question, condition):
    [(name, args)] = _plan(model_cache, question, "KO PEP XOM").calls
    assert (name, args["condition"]) == ("create_alert", condition)


def test_email_me_without_an_address_asks_for_one(model_cache):
    plan = _plan(model_cache, "email me when KO closes above 70")
    assert plan.calls == [] and "Which address" in plan.message


def test_a_watchlist_change_and_an_alert_do_both_and_delete_no_alert(model_cache):
    plan = _plan(model_cache, "remove KO from my watchlist and alert me when PFE drops below 40")
    assert plan.calls == [
        ("update_watchlist", {"remove": ["KO"]}),
        ("create_alert", {"symbol": "PFE", "condition": "price_below", "value": 40.0}),
    ]
    added = _plan(model_cache, "add PEP to my watchlist and alert me if it drops below 150")
    assert added.calls == [
        ("update_watchlist", {"add": ["PEP"]}),
        ("create_alert", {"symbol": "PEP", "condition": "price_below", "value": 150.0}),
    ]


def test_cli_briefing(cli, sample_dir, tmp_path, monkeypatch):
    data = tmp_path / "own"  # its own data dir: the session's sample dir stays as it was
    data.mkdir()
    (data / "prices").symlink_to(sample_dir / "prices")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    assert cli("watchlist", "add", "KO", "PEP", "--name", "drinks").exit_code == 0
    made = cli("briefing", "run", "drinks", "--weekly", "--json")
    assert made.exit_code == 0, made.output
    briefing = json.loads(made.output)
    assert briefing["text"].startswith("Briefing on your watchlist 'drinks' (KO, PEP) for the 7")
    planned = cli(
        "briefing",
        "schedule",
        "drinks",
        "--weekly",
        "--on",
        "fri",
        "--at",
        "6",
        "--widget",
        "--json",
    )
    assert planned.exit_code == 0, planned.output
    schedule = json.loads(planned.output)
    assert (schedule["cadence"], schedule["weekday"], schedule["hour"]) == ("weekly", "friday", 6)
    assert schedule["id"] in cli("briefing", "list").output
    for bad in (
        ["briefing", "run", "nope"],
        ["briefing", "run", "drinks", "--days", "40"],
        ["briefing", "schedule", "drinks", "--at", "24"],
        ["briefing", "schedule", "drinks", "--weekly", "--on", "someday"],
        ["briefing", "schedule", "drinks", "--email", "x@example.com"],  # no SMTP server
        ["briefing", "remove", "bsch_nope"],
    ):
        result = cli(*bad)
        assert result.exit_code == 2 and result.output.count("error:") == 1, (bad, result.output)
    assert cli("briefing", "remove", schedule["id"]).exit_code == 0
    assert "No briefing schedules." in cli("briefing", "list").output


@pytest.mark.parametrize(
    ("question", "symbol", "window"),
    [
        ("alert me when aapl crosses its 200 day", "AAPL", 200.0),
        ("ping me if KO breaks its 50 day", "KO", 50.0),
        ("alert me when AAPL breaks above the 200dma", "AAPL", 200.0),
    ],
)
def test_a_moving_average_alert_needs_no_word_average(model_cache, question, symbol, window):
    [(name, args)] = _plan(model_cache, question).calls
    assert (name, args) == (
        "create_alert",
        {"symbol": symbol, "condition": "cross_sma", "value": window},
    )
