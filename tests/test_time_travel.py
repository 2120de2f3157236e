"""A conversation pinned to a date: every read-only tool sees nothing after it."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from pydantic import BaseModel
from pydantic_ai import ModelRetry, ToolFailed

from assistant.auth import LOCAL_USER
from assistant.results import SearchSummary
from assistant.toolsets import READ_ONLY, call_directly
from tests.agent_env import make_services
from tests.fakes.edgar import apple_files, serve_fake_edgar
from tools.fundamentals import Fundamentals

PIN = date(2020, 3, 1)

CASES: dict[str, dict] = {
    "get_prices": {"symbol": "AAPL"},
    "find_symbol": {"query": "apple"},
    "get_indicators": {"symbol": "KO"},
    "optimize_portfolio": {"symbols": ["AAPL", "MSFT", "KO"]},
    "run_backtest": {"symbol": "KO", "start": date(2015, 1, 1)},
    "run_walk_forward": {
        "symbol": "KO",
        "sweep_grid": {"fast": [20, 50], "slow": [100, 200]},
        "start": date(2010, 1, 1),
    },
    "run_rebalance": {"symbols": ["AAPL", "MSFT"], "start": date(2018, 1, 1)},
    "search_documents": {"query": "earnings guidance outlook", "k": 10},
    "get_fundamentals": {"symbol": "AAPL"},
    "get_portfolio": {},
    "compare_symbols": {"symbols": ["KO", "PEP"]},
    "portfolio_risk": {"weights": {"KO": 0.5, "PEP": 0.5}},
    "screen_symbols": {"metric": "rsi_14", "where": ["price>sma_200"]},
    "news_sentiment": {"ticker": "AAPL"},
    "detect_anomalies": {"symbol": "AMD"},
    "find_sma_crosses": {"symbol": "JPM"},
}


def _dates(value) -> list[date]:
    """Every date anywhere in a result."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, date):
        return [value.date() if hasattr(value, "date") else value]
    if isinstance(value, dict):
        return [d for v in value.values() for d in _dates(v)]
    if isinstance(value, list | tuple):
        return [d for v in value for d in _dates(v)]
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            return [date.fromisoformat(value[:10])]
        except ValueError:
            return []
    return []


@pytest.fixture
def services(tmp_path, sample_store, sample_index_dir):
    with serve_fake_edgar(apple_files()) as sec:
        yield make_services(
            tmp_path / "data",
            f"sqlite:///{tmp_path / 'db.sqlite'}",
            sample_store,
            sample_index_dir,
            edgar_base_url=sec.url,
            edgar_user_agent="Tester test@example.com",
        )


def test_every_read_only_tool_sees_nothing_after_the_pinned_date(services):
    assert set(CASES) == set(READ_ONLY.tools), "a new read-only tool needs a case here"
    deps = services.chat.deps(LOCAL_USER)
    deps.as_of = PIN
    try:
        for name, args in CASES.items():
            fn = READ_ONLY.tools[name].function
            if name == "get_portfolio":  # today's account is not knowable on the pinned day
                with pytest.raises(ToolFailed, match="pinned to 2020-03-01"):
                    asyncio.run(call_directly(fn, deps, args))
                continue
            result = asyncio.run(call_directly(fn, deps, args))
            dates = _dates(result)
            assert all(d <= PIN for d in dates), (name, max(dates))
            if name != "find_symbol":
                assert dates, name  # a dated result, every date of it before the pin
            if isinstance(result, SearchSummary):
                assert result.hits and result.as_of == PIN
            if isinstance(result, Fundamentals):  # fiscal 2019, the 10-K filed 2019-10-31
                assert result.revenue.period_end == date(2019, 9, 28)
                assert result.price_date == date(2020, 2, 28)
        with pytest.raises(ModelRetry, match="pinned to 2020-03-01"):
            asyncio.run(
                call_directly(
                    READ_ONLY.tools["get_prices"].function,
                    deps,
                    {"symbol": "AAPL", "start": date(2021, 1, 1)},
                )
            )
    finally:
        deps.close()


def test_a_later_as_of_argument_cannot_see_past_the_pin(services):
    deps = services.chat.deps(LOCAL_USER)
    deps.as_of = PIN
    try:
        found = asyncio.run(
            call_directly(
                READ_ONLY.tools["search_documents"].function,
                deps,
                {"query": "vaccine", "as_of": date(2022, 12, 31), "k": 10},
            )
        )
        assert found.as_of == PIN
        assert all(h.published_at <= PIN for h in found.hits)
        indicators = asyncio.run(
            call_directly(
                READ_ONLY.tools["get_indicators"].function,
                deps,
                {"symbol": "AAPL", "end": date(2022, 6, 1)},
            )
        )
        assert indicators.as_of <= PIN
    finally:
        deps.close()


def test_chat_pinned_by_option_and_by_the_question(use_sample, cli):
    result = cli("chat", "--as-of", "2020-03-01", "How did Apple do over the last year?", "--json")
    assert result.exit_code == 0, result.output
    turn = json.loads(result.output)
    answer = turn["answer"]
    assert "As of 2020-03-01 (this conversation is pinned to it)" in answer
    assert "Data as of 2020-02-28" in answer
    assert "2019-02-28" in answer or "2019-03-01" in answer  # "last year" counts back from the pin
    follow = cli(
        "chat", "--conversation", turn["conversation_id"], "and Microsoft's RSI?", "--json"
    )
    assert "Data as of 2020-02-28" in json.loads(follow.output)["answer"]  # the pin stays

    asked = json.loads(cli("chat", "As of March 1 2020, what's Coca-Cola's RSI?", "--json").output)
    answer = asked["answer"]
    assert "As of 2020-02-28, KO closed at" in answer
    assert "Data as of 2020-02-28" in answer
    later = cli("chat", "--conversation", asked["conversation_id"], "and Pepsi's?", "--json")
    assert "Data as of 2020-02-28" in json.loads(later.output)["answer"]  # pinned by the question


@pytest.mark.parametrize("day", ["2999-01-01", "1800-01-01"])
def test_a_pin_outside_what_can_be_known_is_refused(use_sample, cli, day):
    result = cli("chat", "--as-of", day, "How did Apple do?")
    assert result.exit_code == 2 and "--as-of" in result.output
    assert (
        result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1
    )


@pytest.mark.parametrize(
    "question", ["buy 3 shares of JNJ", "alert me when KO drops below 40", "what do I own?"]
)
def test_a_pinned_conversation_places_no_order_and_sets_no_alert(use_sample, cli, question):
    """An order or an alert works on today's prices and account: in a conversation pinned
    to the past it is refused, with the reason, and nothing waits for approval."""
    result = cli("chat", "--as-of", "2020-03-01", question, "--json")
    assert result.exit_code == 0, result.output
    turn = json.loads(result.output)
    assert "pinned to 2020-03-01" in turn["answer"]
    assert turn.get("approvals", []) == [] and "approval" not in turn["answer"].lower()
    assert "No approvals" in cli("approvals", "list").output
    assert "No alerts." in cli("alerts", "list").output
