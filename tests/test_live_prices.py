"""Prices on demand: a tool that needs a symbol or newer bars fetches them from the
provider (local fakes of Yahoo and Alpaca that speak their real protocols), and a
provider that fails costs one try, says so in the answer, and trips the breaker."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from assistant.resources import live_prices, price_store
from assistant.settings import get_settings
from tests.fakes.alpaca import KEY, SECRET, serve_fake_alpaca
from tests.fakes.yahoo import serve_fake_yahoo
from tools.errors import NoDataError, ProviderError, RateLimitedError, UnknownSymbolError
from tools.indicators import indicators
from tools.market_data import SAMPLE_SOURCE, PriceStore
from tools.providers import get_provider
from tools.providers.breaker import BreakerState, CircuitBreaker
from tools.providers.live import LivePrices, PriceView, RefreshStatus

from .conftest import make_ohlcv

NOW = datetime(2024, 7, 1, 22, 0, tzinfo=UTC)  # after Monday 2024-07-01's close
BARS = make_ohlcv(300, start="2023-05-01")  # ends 2024-06-21: the provider's history


def closes_to(frame: pd.DataFrame, day: str) -> pd.DataFrame:
    return frame.loc[:day]


@pytest.fixture
def yahoo():
    with serve_fake_yahoo({"NVDA": BARS, "AAPL": BARS * 1.5}) as fake:
        yield fake


def live(store: PriceStore, provider, *, failures: int = 3, quiet: float = 0) -> LivePrices:
    breaker = CircuitBreaker(provider.source, failures=failures, cooldown=60)
    return LivePrices(
        store, lambda: provider, provider.source, breaker, clock=lambda: NOW, quiet_seconds=quiet
    )


def yf(fake, tmp_path):
    return get_provider("yfinance", yahoo_base_url=fake.url, cache_dir=tmp_path / "yf", timeout=2)


def test_a_symbol_the_store_lacks_is_fetched_once_and_indicators_use_it(yahoo, tmp_path):
    store = PriceStore(tmp_path / "prices")
    prices = live(store, yf(yahoo, tmp_path))
    view = PriceView(store, prices, today=lambda: NOW)
    result = indicators(view, "NVDA")
    assert view.refreshes["NVDA"].status is RefreshStatus.FETCHED
    assert store.info("NVDA").source == "yfinance"
    assert result.as_of == BARS.index[-1].date()
    expected = indicators(_stored(tmp_path / "expected", "NVDA", BARS), "NVDA")
    assert result.rsi_14 == pytest.approx(expected.rsi_14, rel=1e-9)
    calls = len(yahoo.chart_requests())
    again = PriceView(store, prices, today=lambda: NOW)  # the provider has nothing newer
    again.load("NVDA")
    again2 = PriceView(store, prices, today=lambda: NOW)
    again2.load("NVDA")
    assert len(yahoo.chart_requests()) == calls + 1  # asked once more, then remembered
    said = "The prices of NVDA end 2024-06-21; yfinance had nothing newer."
    assert again.notes() == [said] and again2.notes() == [said]


def _stored(root, symbol, frame, source="yfinance") -> PriceStore:
    store = PriceStore(root)
    store.save(symbol, frame, source)
    return store


def test_stale_sample_data_is_replaced_but_an_imported_file_is_kept(yahoo, tmp_path):
    store = PriceStore(tmp_path / "prices")
    store.save("AAPL", BARS.loc[:"2024-01-31", ["close"]], SAMPLE_SOURCE)
    store.save("NVDA", BARS.loc[:"2024-01-31"], "import nvda.csv")
    view = PriceView(store, live(store, yf(yahoo, tmp_path)), today=lambda: NOW)
    assert view.load("AAPL").as_of == BARS.index[-1].date()
    assert store.info("AAPL").source == "yfinance"
    assert view.load("NVDA").as_of == date(2024, 1, 31)  # the user's file is not replaced
    assert store.info("NVDA").source == "import nvda.csv"
    assert view.notes() == [
        "The prices of NVDA come from an imported file and end 2024-01-31; imported data "
        "is not refreshed from a provider."
    ]


def test_only_the_missing_days_are_asked_for(yahoo, tmp_path):
    store = _stored(tmp_path / "prices", "NVDA", BARS.loc[:"2024-03-28"])
    view = PriceView(store, live(store, yf(yahoo, tmp_path)), today=lambda: NOW)
    assert view.load("NVDA").as_of == BARS.index[-1].date()
    assert store.info("NVDA").bars == len(BARS)
    assert "period1=17116" in yahoo.chart_requests()[-1]  # from 2024-03-29 on


def test_a_failing_provider_is_tried_once_per_call_said_and_then_left_alone(yahoo, tmp_path):
    store = PriceStore(tmp_path / "prices")
    for symbol in ("AAPL", "NVDA"):
        store.save(symbol, BARS.loc[:"2024-01-31"], SAMPLE_SOURCE)
    yahoo.fail_with = 500
    prices = live(store, yf(yahoo, tmp_path), failures=2)
    view = PriceView(store, prices, today=lambda: NOW)
    assert view.load("AAPL").as_of == date(2024, 1, 31)  # the stored data answers
    view.load("NVDA")
    tried = yahoo.chart_requests()
    assert not any("/NVDA?" in r for r in tried)  # not tried after AAPL failed
    [note] = view.notes()
    assert note.startswith("The prices of AAPL and NVDA could not be refreshed (yfinance")
    assert note.endswith("the stored data, which ends 2024-01-31, is used.")
    PriceView(store, prices, today=lambda: NOW).load("NVDA")  # second failure: breaker opens
    assert prices.status().state is BreakerState.OPEN
    third = PriceView(store, prices, today=lambda: NOW)
    asked = len(yahoo.chart_requests())
    third.load("AAPL")
    assert len(yahoo.chart_requests()) == asked  # failed a moment ago: not asked again
    assert "could not be refreshed (yfinance could not fetch AAPL" in third.notes()[0]
    with pytest.raises(UnknownSymbolError, match="could not be fetched: yfinance is paused"):
        PriceView(store, prices, today=lambda: NOW).load("MSFT")  # open: nobody asks
    assert len(yahoo.chart_requests()) == asked


def test_after_a_failure_no_symbol_is_asked_for_a_moment(yahoo, tmp_path):
    store = PriceStore(tmp_path / "prices")
    for symbol in ("AAPL", "NVDA"):
        store.save(symbol, BARS.loc[:"2024-01-31"], SAMPLE_SOURCE)
    yahoo.fail_with = 500
    prices = live(store, yf(yahoo, tmp_path), quiet=30)
    PriceView(store, prices, today=lambda: NOW).load("AAPL")
    asked = len(yahoo.chart_requests())
    other = PriceView(store, prices, today=lambda: NOW)  # another tool call, another stock
    assert other.load("NVDA").as_of == date(2024, 1, 31)
    assert len(yahoo.chart_requests()) == asked
    assert "could not be refreshed" in other.notes()[0]


def test_rate_limit_opens_the_breaker_at_once_with_backoff():
    clock = [0.0]
    breaker = CircuitBreaker("alpaca", failures=3, cooldown=60, clock=lambda: clock[0])
    breaker.failure("429", retry_after=7, rate_limited=True)
    assert breaker.status().state is BreakerState.OPEN
    assert breaker.status().retry_in_seconds == 7
    clock[0] = 7.5
    assert breaker.allow() and not breaker.allow()  # half-open: one probe only
    breaker.failure("429", retry_after=7, rate_limited=True)
    assert breaker.status().retry_in_seconds == 14  # doubled
    clock[0] = 30
    assert breaker.allow()
    breaker.success()
    assert breaker.status().state is BreakerState.CLOSED and breaker.allow()


def test_alpaca_bars_page_through_and_429_is_rate_limited(tmp_path):
    with serve_fake_alpaca({}, bars={"NVDA": BARS}) as fake:
        provider = get_provider(
            "alpaca", alpaca_keys=(KEY, SECRET), alpaca_data_url=fake.url, timeout=2
        )
        frame = provider.fetch("NVDA", date(2023, 6, 1), date(2024, 6, 14))
        expected = BARS.loc["2023-06-01":"2024-06-14"]
        assert len(frame) == len(expected) and len(fake.data_requests) > 1  # paged
        assert list(frame["date"]) == list(expected.index)
        assert frame["close"].to_numpy() == pytest.approx(expected["close"].to_numpy())
        fake.rate_limited, asked = 1, len(fake.data_requests)
        with pytest.raises(RateLimitedError) as caught:
            provider.fetch("NVDA", date(2024, 1, 2), None)
        assert caught.value.retry_after == 7
        assert len(fake.data_requests) == asked + 1  # one try, not alpaca-py's 3 retries
        bad = get_provider("alpaca", alpaca_keys=("x", "y"), alpaca_data_url=fake.url)
        with pytest.raises(ProviderError, match="refused the market-data keys"):
            bad.fetch("NVDA", None, None)
    with pytest.raises(ProviderError, match="needs an API key"):
        get_provider("alpaca")


def test_a_pinned_view_sees_nothing_later_and_fetches_nothing_later(yahoo, tmp_path):
    store = PriceStore(tmp_path / "prices")
    prices = live(store, yf(yahoo, tmp_path))
    view = PriceView(store, prices, as_of=date(2024, 1, 13), today=lambda: NOW)
    frame = view.load("NVDA")
    assert frame.as_of == date(2024, 1, 12)  # the Friday before
    assert store.info("NVDA").end == date(2024, 1, 12)  # no bar after the pin was stored
    assert view.info("NVDA").end == date(2024, 1, 12)
    with pytest.raises(NoDataError, match="pinned to 2024-01-13"):
        view.load("NVDA", date(2024, 2, 1))
    # a view that is not pinned brings the same table up to date
    assert PriceView(store, prices, today=lambda: NOW).load("NVDA").as_of == BARS.index[-1].date()


def test_chat_fetches_a_company_named_by_name(yahoo, monkeypatch, cli):
    monkeypatch.setenv("ASSISTANT_PRICE_PROVIDER", "yfinance")
    monkeypatch.setenv("ASSISTANT_YAHOO_BASE_URL", yahoo.url)
    result = cli("chat", "What's Nvidia's RSI?", "--json")
    assert result.exit_code == 0, result.output
    turn = json.loads(result.output)
    store = price_store(get_settings())
    assert store.info("NVDA").source == "yfinance"
    expected = indicators(store, "NVDA")
    assert f"{expected.rsi_14:.2f}" in turn["answer"]
    steps = [e for e in turn["events"] if e.get("name") == "fetch_prices"]
    assert steps and steps[-1]["summary"].startswith("NVDA: 300 bars from yfinance")
    assert "source: yfinance" in turn["answer"]


def test_no_reachable_provider_answers_from_the_store_and_says_so(use_sample, monkeypatch, cli):
    monkeypatch.setenv("ASSISTANT_PRICE_PROVIDER", "yfinance")
    monkeypatch.setenv("ASSISTANT_YAHOO_BASE_URL", "http://127.0.0.1:9")  # nothing listens
    result = cli("chat", "What's the RSI of Coca-Cola?", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)["answer"]
    assert "KO closed at" in answer
    assert "could not be refreshed (yfinance could not fetch KO" in answer
    assert "ends 2022-12-28, is used" in answer
    status = live_prices(get_settings()).status()
    assert status.consecutive_failures == 1 and status.last_error


def test_a_provider_with_a_shorter_history_keeps_the_older_stored_years(tmp_path):
    store = PriceStore(tmp_path / "prices")
    old = BARS.loc[:"2024-03-29", ["close"]].rename(columns={"close": "adj_close"}) * 0.5
    store.save("NVDA", old, SAMPLE_SOURCE)  # the sample: half the provider's price level
    with serve_fake_yahoo({"NVDA": BARS.loc["2024-02-01":]}) as fake:
        view = PriceView(store, live(store, yf(fake, tmp_path)), today=lambda: NOW)
        frame = view.load("NVDA").frame
    assert frame.index[0] == BARS.index[0] and frame.index[-1] == BARS.index[-1]
    assert len(frame) == len(BARS)
    # the older part is scaled to meet the provider's close on their first common day
    assert frame["close"].to_numpy() == pytest.approx(BARS["close"].to_numpy())
    assert store.info("NVDA").source == "yfinance"


def test_a_relative_period_counts_back_from_the_fetched_close(use_sample, monkeypatch, cli):
    """ "the last year" is the year to the newest close the provider has, not to the old end
    of the stored sample; with the provider down it is the stored year, said to be stale."""
    recent = make_ohlcv(400, start="2025-01-02", seed=3)
    with serve_fake_yahoo({"KO": recent}) as fake:
        data = use_sample.parent / "live-data"
        data.mkdir()
        (data / "prices").mkdir()
        for table in (use_sample / "prices").glob("*.parquet"):
            (data / "prices" / table.name).write_bytes(table.read_bytes())
        monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
        monkeypatch.setenv("ASSISTANT_PRICE_PROVIDER", "yfinance")
        monkeypatch.setenv("ASSISTANT_YAHOO_BASE_URL", fake.url)
        answer = json.loads(
            cli("chat", "how has coca-cola done over the last year", "--json").output
        )["answer"]
        last = recent.index[-1].date()
        assert f"KO closed at {recent['close'].iloc[-1]:,.2f} on {last}" in answer
        assert "source: yfinance" in answer
    monkeypatch.setenv("ASSISTANT_YAHOO_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(use_sample))
    down = json.loads(cli("chat", "how has pepsi done over the last year", "--json").output)
    assert "PEP closed at" in down["answer"] and "2022-12-28" in down["answer"]
    assert "could not be refreshed" in down["answer"]


def test_a_stock_whose_prices_stop_earlier_than_the_others_still_gets_an_answer(
    sample_dir, tmp_path, monkeypatch, cli
):
    """The store's newest day comes from another stock (fetched earlier); JPM's prices end
    in 2022 and nothing can refresh them: the same span ending at its last close, said."""
    data = tmp_path / "mixed"
    (data / "prices").mkdir(parents=True)
    for table in (sample_dir / "prices").glob("*.parquet"):
        (data / "prices" / table.name).write_bytes(table.read_bytes())
    start = (pd.Timestamp.today().normalize() - pd.offsets.BDay(299)).strftime("%Y-%m-%d")
    PriceStore(data / "prices").save("NVDA", make_ohlcv(300, start=start), "yfinance")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    answer = json.loads(cli("chat", "how has jpmorgan done over the last year", "--json").output)[
        "answer"
    ]
    assert "JPM closed at" in answer and "on 2022-12-28" in answer
    assert "No JPM prices after 2022-12-28: shown is the same span of time ending 2022-12-28" in (
        answer
    )
    assert "no price provider is configured" in answer
