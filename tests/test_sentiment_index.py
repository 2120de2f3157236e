"""The news-sentiment index: story scores, daily and rolling means against sums written
out here; the tool's citations; the CLI; the offline agent."""

import asyncio
from datetime import date

import pytest

from retrieval.models import Chunk, DocType
from retrieval.sentiment_index import sentiment_index


def _chunk(doc, position, day, score, ticker="ACME"):
    return Chunk(
        chunk_id=f"{doc}-{position}",
        doc_id=doc,
        position=position,
        text=f"text {doc} {position}",
        title=f"title {doc}",
        source="test",
        doc_type=DocType.NEWS,
        tickers=[ticker],
        published_at=day,
        sentiment=score,
        doc_hash="h",
    )


def test_stories_days_and_the_rolling_week():
    chunks = [
        _chunk("a", 0, date(2022, 1, 3), 0.8),
        _chunk("a", 1, date(2022, 1, 3), 0.2),  # story a: 0.5
        _chunk("b", 0, date(2022, 1, 3), -0.4),  # story b: -0.4
        _chunk("c", 0, date(2022, 1, 8), -1.0),  # story c: -1.0
        _chunk("d", 0, date(2022, 1, 20), 0.3),  # story d: 0.3 (a week after c: alone)
    ]
    out = sentiment_index("ACME", chunks, None, None, top=2)
    assert out.stories == 4
    assert out.average == pytest.approx((0.5 - 0.4 - 1.0 + 0.3) / 4)
    assert out.label == "negative"
    days = {d.date: d for d in out.days}
    assert days[date(2022, 1, 3)].score == pytest.approx((0.5 - 0.4) / 2)
    assert days[date(2022, 1, 8)].rolling == pytest.approx((0.5 - 0.4 - 1.0) / 3)
    assert days[date(2022, 1, 20)].rolling == pytest.approx(0.3)
    assert [s.doc_id for s in out.most_positive] == ["a", "d"]
    assert [s.doc_id for s in out.most_negative] == ["c", "b"]
    assert sentiment_index("ACME", [], None, None).label == "no news"


def test_the_tool_cites_its_stories_and_sees_nothing_after_the_pin(sample_index_dir, tmp_path):
    from assistant.analytics_tools import load_sentiment
    from assistant.resources import embedder
    from retrieval.index import DocumentIndex

    index = DocumentIndex(embedder(), path=sample_index_dir)
    full = load_sentiment(index, "aapl", None, None, None, tmp_path)
    assert full.ticker == "AAPL" and full.stories > 0 and full.chart is not None
    stories = [*full.most_positive, *full.most_negative]
    assert [h.doc_id for h in full.hits] == [s.doc_id for s in stories]
    assert [h.n for h in full.hits] == list(range(1, len(stories) + 1))
    pinned = load_sentiment(index, "AAPL", None, None, date(2020, 12, 31), tmp_path)
    assert pinned.stories < full.stories
    assert all(d.date <= date(2020, 12, 31) for d in pinned.days)


def test_cli_sentiment(cli, use_sample, sample_index_dir, tmp_path, monkeypatch):
    import json
    import shutil

    data = tmp_path / "data"
    shutil.copytree(sample_index_dir, data / "qdrant")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    done = cli("tools", "sentiment", "PFE", "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["ticker"] == "PFE"
    assert out["stories"] == sum(d["stories"] for d in out["days"]) > 0
    weighted = sum(d["score"] * d["stories"] for d in out["days"]) / out["stories"]
    assert out["average"] == pytest.approx(weighted, abs=1e-3)
    shown = cli("tools", "sentiment", "PFE")
    assert (
        shown.exit_code == 0 and "News sentiment for PFE" in shown.output and "[1]" in shown.output
    )
    bad = cli("tools", "sentiment", "NOPE")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: unknown ticker NOPE")


def test_the_offline_agent_reads_the_tone_and_cites(tmp_path, sample_store, sample_index_dir):
    from assistant.auth import LOCAL_USER
    from assistant.events import CitationEvent
    from tests.agent_env import make_services

    services = make_services(
        tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", sample_store, sample_index_dir
    )
    turn = asyncio.run(services.chat.ask("what's the news sentiment on pfizer", LOCAL_USER))
    assert [(c.name, c.args) for c in turn.tool_calls] == [("news_sentiment", {"ticker": "PFE"})]
    assert "News sentiment for PFE" in turn.answer and "[1]" in turn.answer
    cited = [e for e in turn.events if isinstance(e, CitationEvent)]
    assert cited and all(c.doc_id.startswith("sample:") for c in cited)
