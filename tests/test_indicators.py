"""Indicator values checked against plain formulas written here (loops, not `ta`)."""

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.indicators import INDICATOR_NAMES, Indicators, indicators
from tools.market_data import PriceStore

from .conftest import make_ohlcv

END = date(2020, 12, 31)


def ema_loop(values: np.ndarray, span: int) -> float:
    alpha = 2 / (span + 1)
    e = values[0]
    for x in values[1:]:
        e = alpha * x + (1 - alpha) * e
    return e


def ema_series(values: np.ndarray, span: int) -> np.ndarray:
    alpha, out = 2 / (span + 1), np.empty_like(values)
    out[0] = values[0]
    for i in range(1, len(values)):
        out[i] = alpha * values[i] + (1 - alpha) * out[i - 1]
    return out


def wilder_rsi(p: np.ndarray, n: int = 14) -> float:
    """Wilder's original: seed with the simple average of the first n moves."""
    d = np.diff(p)
    up, down = np.clip(d, 0, None), np.clip(-d, 0, None)
    avg_up, avg_down = up[:n].mean(), down[:n].mean()
    for u, dn in zip(up[n:], down[n:], strict=True):
        avg_up = (avg_up * (n - 1) + u) / n
        avg_down = (avg_down * (n - 1) + dn) / n
    return 100.0 if avg_down == 0 else 100 - 100 / (1 + avg_up / avg_down)


@pytest.fixture(scope="module")
def aapl_prices(sample_dir) -> np.ndarray:
    frame = pd.read_parquet(sample_dir / "prices" / "AAPL.parquet")
    return frame.loc[frame["date"] <= pd.Timestamp(END), "adj_close"].to_numpy()


def expected_close_only(p: np.ndarray) -> dict[str, float]:
    r = p[1:] / p[:-1] - 1
    window = p[-20:]
    sd = window.std(ddof=0)
    upper, lower = window.mean() + 2 * sd, window.mean() - 2 * sd
    macd_line = ema_series(p, 12) - ema_series(p, 26)
    signal = ema_series(macd_line[25:], 9)[-1]  # ta starts MACD after the 26-bar warm-up
    return {
        "sma_20": p[-20:].mean(),
        "sma_50": p[-50:].mean(),
        "sma_200": p[-200:].mean(),
        "ema_12": ema_loop(p, 12),
        "ema_26": ema_loop(p, 26),
        "wma_20": float(np.dot(p[-20:], np.arange(1, 21)) / 210),
        "rsi_14": wilder_rsi(p),
        "macd": macd_line[-1],
        "macd_signal": signal,
        "macd_hist": macd_line[-1] - signal,
        "bb_upper": upper,
        "bb_middle": window.mean(),
        "bb_lower": lower,
        "bb_pctb": (p[-1] - lower) / (upper - lower),
        "bb_width": (upper - lower) / window.mean(),
        "volatility_20d": r[-20:].std(ddof=1) * math.sqrt(252),
        "volatility_60d": r[-60:].std(ddof=1) * math.sqrt(252),
        "return_1w": p[-1] / p[-6] - 1,
        "return_1m": p[-1] / p[-22] - 1,
        "return_3m": p[-1] / p[-64] - 1,
        "return_1y": p[-1] / p[-253] - 1,
    }


def test_close_only_values_match_independent_formulas(sample_store, aapl_prices):
    result = indicators(sample_store, "AAPL", end=END)
    assert result.as_of == date(2020, 12, 31)
    assert result.price == pytest.approx(aapl_prices[-1])
    for name, value in expected_close_only(aapl_prices).items():
        assert getattr(result, name) == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_cli_json_matches_independent_formulas(cli, use_sample, aapl_prices):
    result = cli("tools", "indicators", "AAPL", "--end", "2020-12-31", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["symbol"] == "AAPL"
    assert data["as_of"] == "2020-12-31"
    assert data["source"].startswith("skfolio")
    for name, value in expected_close_only(aapl_prices).items():
        assert data[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_close_only_symbol_reports_ohlcv_indicators_unavailable(sample_store):
    result = indicators(sample_store, "AAPL", end=END)
    for name in ("stoch_k_14", "stoch_d_3", "atr_14", "vwap_14", "obv"):
        assert getattr(result, name) is None
        assert result.unavailable[name].startswith("needs OHLCV")
    assert "high" in result.unavailable["atr_14"] and "volume" in result.unavailable["obv"]
    assert "sma_20" not in result.unavailable


def test_warm_up_uses_data_before_start(sample_store):
    result = indicators(sample_store, "AAPL", date(2020, 12, 1), END, with_series=True)
    assert result.sma_200 is not None  # 21 bars in the window, but 200 bars of history
    assert result.start == date(2020, 12, 1)
    assert result.bars == 22
    assert len(result.series.dates) == 22
    assert result.series.values["sma_200"][0] is not None
    assert result.series.values["sma_20"][-1] == pytest.approx(result.sma_20)


def test_short_history_is_explained_not_nan(sample_store):
    result = indicators(sample_store, "AAPL", end=date(1990, 3, 1))
    assert result.sma_200 is None
    assert result.unavailable["sma_200"].startswith("not enough history")
    assert result.sma_20 is not None
    dumped = result.model_dump_json()
    assert "NaN" not in dumped


@pytest.fixture
def ohlcv_store(tmp_path) -> tuple[PriceStore, pd.DataFrame]:
    store = PriceStore(tmp_path / "prices")
    bars = make_ohlcv(600)
    store.save("ACME", bars, "test")
    return store, bars


def test_ohlcv_indicators_match_independent_formulas(ohlcv_store):
    store, bars = ohlcv_store
    result = indicators(store, "ACME")
    assert result.price_column == "close"
    assert result.unavailable == {}
    h, lo, c, v = (bars[k].to_numpy() for k in ("high", "low", "close", "volume"))

    k = (
        100
        * (c - pd.Series(lo).rolling(14).min())
        / (pd.Series(h).rolling(14).max() - pd.Series(lo).rolling(14).min())
    )
    assert result.stoch_k_14 == pytest.approx(k.iloc[-1])
    assert result.stoch_d_3 == pytest.approx(k.iloc[-3:].mean())

    tr = [h[0] - lo[0]] + [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))
    ]
    atr = float(np.mean(tr[:14]))
    for x in tr[14:]:
        atr = (atr * 13 + x) / 14
    assert result.atr_14 == pytest.approx(atr, rel=1e-10)

    obv = v[0]
    for i in range(1, len(c)):
        obv += v[i] if c[i] >= c[i - 1] else -v[i]
    assert result.obv == pytest.approx(obv)

    typical = (h + lo + c) / 3
    assert result.vwap_14 == pytest.approx((typical[-14:] * v[-14:]).sum() / v[-14:].sum())


def test_atr_series_matches_wilder_loop_throughout(ohlcv_store):
    store, bars = ohlcv_store
    series = indicators(store, "ACME", with_series=True).series.values["atr_14"]
    assert series[:13] == [None] * 13
    h, lo, c = (bars[k].to_numpy() for k in ("high", "low", "close"))
    tr = np.maximum.reduce([h[1:] - lo[1:], abs(h[1:] - c[:-1]), abs(lo[1:] - c[:-1])])
    tr = np.concatenate([[h[0] - lo[0]], tr])
    atr = tr[:14].mean()
    assert series[13] == pytest.approx(atr)
    for i in range(14, len(tr)):
        atr = (atr * 13 + tr[i]) / 14
        assert series[i] == pytest.approx(atr, rel=1e-10)


def test_model_fields_cover_every_indicator():
    fields = set(Indicators.model_fields)
    assert set(INDICATOR_NAMES) <= fields
    expected = {"sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "rsi_14", "macd"}
    expected |= {"macd_signal", "macd_hist", "bb_upper", "bb_middle", "bb_lower", "volatility_20d"}
    assert expected <= set(INDICATOR_NAMES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE"], "error: unknown symbol 'NOPE'"),
        (
            ["AAPL", "--start", "2021-01-01", "--end", "2020-01-01"],
            "error: start 2021-01-01 is after end",
        ),
        (["AAPL", "--start", "2023-01-01"], "error: no AAPL prices between 2023-01-01"),
        (
            ["AAPL", "--end", "1989-12-31"],
            "error: no AAPL prices between the beginning and 1989-12-31",
        ),
        (["BAD/SYM"], "error: invalid symbol 'BAD/SYM'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(cli, use_sample, args, message):
    result = cli("tools", "indicators", *args)
    assert result.exit_code == 2
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1


def test_cli_bad_date_format_exit_2(cli, use_sample):
    result = cli("tools", "indicators", "AAPL", "--end", "31/12/2020")
    assert result.exit_code == 2
    assert "--end" in result.output
