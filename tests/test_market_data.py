import json
from datetime import date

import pandas as pd
import pytest

from tools.errors import DataExistsError, InvalidInputError, NoDataError, UnknownSymbolError
from tools.market_data import SAMPLE_SOURCE, PriceStore, load_sample

from .conftest import make_ohlcv

SAMPLE_STOCKS = {
    "AAPL",
    "AMD",
    "BAC",
    "BBY",
    "CVX",
    "GE",
    "HD",
    "JNJ",
    "JPM",
    "KO",
    "LLY",
    "MRK",
    "MSFT",
    "PEP",
    "PFE",
    "PG",
    "RRC",
    "UNH",
    "WMT",
    "XOM",
}


def test_sample_holds_real_close_only_prices(sample_store: PriceStore):
    assert set(sample_store.symbols()) == SAMPLE_STOCKS | {"SPX"}
    info = sample_store.info("AAPL")
    assert (info.start, info.end, info.bars) == (date(1990, 1, 2), date(2022, 12, 28), 8313)
    assert info.columns == ["adj_close"]  # nothing invented
    assert info.source == SAMPLE_SOURCE
    aapl = sample_store.load("AAPL", date(2020, 3, 16), date(2020, 3, 16))
    # skfolio's dataset: AAPL adjusted close on 2020-03-16 (the COVID crash low week).
    assert aapl.price.iloc[0] == pytest.approx(59.7, abs=0.5)
    spx = sample_store.load("SPX", date(1990, 1, 2), date(1990, 1, 2))
    assert spx.price.iloc[0] == pytest.approx(359.69)


def test_load_range_is_inclusive_and_case_insensitive(sample_store: PriceStore):
    frame = sample_store.load("msft", date(2020, 1, 2), date(2020, 1, 10)).frame
    assert frame.index[0] == pd.Timestamp("2020-01-02")
    assert frame.index[-1] == pd.Timestamp("2020-01-10")
    assert len(frame) == 7


def test_unknown_symbol_names_it(sample_store: PriceStore):
    with pytest.raises(UnknownSymbolError, match="unknown symbol 'NOPE'"):
        sample_store.load("NOPE")


def test_start_after_end(sample_store: PriceStore):
    with pytest.raises(InvalidInputError, match="start 2021-01-01 is after end 2020-01-01"):
        sample_store.load("AAPL", date(2021, 1, 1), date(2020, 1, 1))


def test_range_without_data_says_what_is_covered(sample_store: PriceStore):
    with pytest.raises(NoDataError, match="covers 1990-01-02 to 2022-12-28"):
        sample_store.load("AAPL", date(2023, 1, 1), date(2023, 6, 1))


def test_invalid_symbol_cannot_escape_the_store(tmp_path):
    with pytest.raises(InvalidInputError):
        PriceStore(tmp_path).path("../etc/passwd")


def test_save_never_overwrites_without_replace(tmp_path):
    store = PriceStore(tmp_path)
    first = make_ohlcv(10)
    store.save("ACME", first, "test")
    with pytest.raises(DataExistsError, match="--replace"):
        store.save("ACME", make_ohlcv(5, seed=1), "other")
    assert store.info("ACME").bars == 10
    store.save("ACME", make_ohlcv(5, seed=1), "other", replace=True)
    assert store.info("ACME").bars == 5


def test_a_table_rewritten_by_another_process_is_never_served_stale(tmp_path):
    server, importer = PriceStore(tmp_path), PriceStore(tmp_path)  # two processes' stores
    importer.save("ACME", make_ohlcv(10), "feed")
    first = server.load("ACME")
    assert len(first.frame) == 10
    importer.save("ACME", make_ohlcv(30, seed=3), "other", replace=True)
    again = server.load("ACME")
    assert len(again.frame) == 30 and again.source == "other"
    again.frame.loc[again.frame.index[0], "close"] = -1.0  # a caller scribbling on its copy
    assert server.load("ACME").frame["close"].iloc[0] > 0
    importer.delete("ACME")
    with pytest.raises(UnknownSymbolError):
        server.load("ACME")


def test_merge_adds_new_rows_and_new_wins(tmp_path):
    store = PriceStore(tmp_path)
    bars = make_ohlcv(20)
    store.save("ACME", bars.iloc[:12], "feed")
    update = bars.iloc[10:].copy()
    update.loc[update.index[0], "close"] = 999.0
    update.loc[update.index[0], "high"] = 1000.0
    info = store.merge("ACME", update, "feed")
    assert info.bars == 20
    assert store.load("ACME").frame["close"].iloc[10] == 999.0
    with pytest.raises(DataExistsError):
        store.merge("ACME", update, "another-feed")


def test_load_sample_keeps_user_imports(tmp_path):
    store = PriceStore(tmp_path)
    store.save("AAPL", make_ohlcv(10), "import:mine.csv")
    report = load_sample(store)
    assert "AAPL" in report.skipped
    assert store.info("AAPL").source == "import:mine.csv"
    assert len(report.loaded) == 20
    again = load_sample(store)  # idempotent: sample tables are refreshed, not duplicated
    assert store.info("MSFT").bars == 8313 and len(again.loaded) == 20


def test_cli_load_sample_and_list(cli, isolated_env):
    result = cli("data", "load-sample", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["loaded"]) == 21
    listed = json.loads(cli("data", "list", "--json").output)
    aapl = next(i for i in listed if i["symbol"] == "AAPL")
    assert aapl == {
        "symbol": "AAPL",
        "start": "1990-01-02",
        "end": "2022-12-28",
        "bars": 8313,
        "columns": ["adj_close"],
        "source": SAMPLE_SOURCE,
    }
    assert (isolated_env / "prices" / "AAPL.parquet").is_file()


def test_cli_list_on_empty_store(cli):
    result = cli("data", "list")
    assert result.exit_code == 0
    assert "empty" in result.output


def test_get_prices_says_what_money_invested_at_the_base_close_became(sample_store, tmp_path):
    import asyncio
    from datetime import date

    from assistant.auth import LOCAL_USER
    from assistant.toolsets import READ_ONLY, call_directly
    from tests.agent_env import make_services

    services = make_services(
        tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", sample_store, tmp_path / "ix"
    )
    deps = services.chat.deps(LOCAL_USER)
    fn = READ_ONLY.tools["get_prices"].function
    args = {"symbol": "AAPL", "start": date(2010, 1, 1), "invested": 10_000.0}
    result = asyncio.run(call_directly(fn, deps, args))
    assert result.invested == 10_000.0 and result.base_date == date(2009, 12, 31)
    assert result.worth == pytest.approx(10_000.0 * result.last_close / result.base_close, rel=1e-3)
    plain = asyncio.run(call_directly(fn, deps, {"symbol": "AAPL", "start": date(2010, 1, 1)}))
    assert plain.invested is None and plain.worth is None


def test_get_indicators_reads_other_averages_as_asked(sample_store, tmp_path):
    import asyncio

    import talib

    from assistant.auth import LOCAL_USER
    from assistant.toolsets import READ_ONLY, call_directly
    from tests.agent_env import make_services

    services = make_services(
        tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", sample_store, tmp_path / "ix"
    )
    deps = services.chat.deps(LOCAL_USER)
    fn = READ_ONLY.tools["get_indicators"].function
    result = asyncio.run(call_directly(fn, deps, {"symbol": "HD", "sma": [100], "ema": [20]}))
    closes = sample_store.load("HD").price.dropna().to_numpy(dtype="float64")
    assert result.values["sma_100"] == pytest.approx(talib.SMA(closes, 100)[-1], abs=1e-4)
    assert result.values["ema_20"] == pytest.approx(talib.EMA(closes, 20)[-1], abs=1e-4)
    assert "sma_50" in result.values  # the usual set is still there
