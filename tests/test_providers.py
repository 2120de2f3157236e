"""The yfinance provider against a local fake of Yahoo's chart API (no network)."""

import json
from datetime import date

import pytest

from tests.fakes.yahoo import serve_fake_yahoo
from tools.errors import InvalidInputError, ProviderError
from tools.market_data import PriceStore
from tools.providers import fetch_into_store, get_provider

from .conftest import make_ohlcv

TODAY = date(2024, 12, 31)


@pytest.fixture
def fake():
    bars = make_ohlcv(120, start="2024-01-02")
    with serve_fake_yahoo({"ACME": bars}) as server:
        server.expected = bars
        yield server


@pytest.fixture
def provider(fake, tmp_path):
    return get_provider("yfinance", yahoo_base_url=fake.url, cache_dir=tmp_path / "yf-cache")


def test_fetch_writes_ohlcv_into_the_store(fake, provider, tmp_path):
    store = PriceStore(tmp_path / "prices")
    info = fetch_into_store(
        store, provider, "acme", date(2024, 1, 2), date(2024, 3, 29), today=TODAY
    )
    assert info.symbol == "ACME"
    assert info.source == "yfinance"
    assert info.columns == ["open", "high", "low", "close", "volume"]
    assert (info.start, info.end) == (date(2024, 1, 2), date(2024, 3, 29))
    stored = store.load("ACME").frame
    expected = fake.expected.loc["2024-01-02":"2024-03-29"]
    assert len(stored) == len(expected)
    assert stored["close"].to_numpy() == pytest.approx(expected["close"].to_numpy(), rel=1e-6)


def test_cached_range_makes_no_request_and_extension_fetches_only_new_days(
    fake, provider, tmp_path
):
    store = PriceStore(tmp_path / "prices")
    fetch_into_store(store, provider, "ACME", date(2024, 1, 2), date(2024, 3, 29), today=TODAY)
    calls = len(fake.chart_requests())

    again = fetch_into_store(
        store, provider, "ACME", date(2024, 2, 1), date(2024, 3, 1), today=TODAY
    )
    assert len(fake.chart_requests()) == calls  # served from the store
    assert again.end == date(2024, 3, 29)

    extended = fetch_into_store(
        store, provider, "ACME", date(2024, 1, 2), date(2024, 5, 31), today=TODAY
    )
    assert extended.end == date(2024, 5, 31)
    assert extended.bars == len(fake.expected.loc[:"2024-05-31"])
    newest = fake.chart_requests()[-1]
    # only the days after the cached end were asked for: period1 = 2024-03-30 (NY time)
    assert "period1=17117" in newest


def test_unknown_symbol_is_a_provider_error(provider, tmp_path):
    with pytest.raises(ProviderError, match="NOPE"):
        fetch_into_store(
            PriceStore(tmp_path), provider, "NOPE", None, date(2024, 2, 1), today=TODAY
        )


def test_future_end_and_unknown_provider(provider, tmp_path):
    with pytest.raises(InvalidInputError, match="in the future"):
        fetch_into_store(
            PriceStore(tmp_path), provider, "ACME", None, date(2030, 1, 1), today=TODAY
        )
    with pytest.raises(InvalidInputError, match="unknown price provider 'bloomberg'"):
        get_provider("bloomberg")


def test_cli_fetch_then_indicators_use_ohlcv(cli, fake, monkeypatch):
    monkeypatch.setenv("ASSISTANT_PRICE_PROVIDER", "yfinance")
    monkeypatch.setenv("ASSISTANT_YAHOO_BASE_URL", fake.url)
    result = cli("data", "fetch", "ACME", "--start", "2024-01-02", "--end", "2024-06-14", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["bars"] == len(fake.expected.loc[:"2024-06-14"])
    data = json.loads(cli("tools", "indicators", "ACME", "--json").output)
    assert data["atr_14"] is not None and data["obv"] is not None
    assert set(data["unavailable"]) == {"sma_200", "return_1y"}  # 120 bars: too short, not OHLCV
