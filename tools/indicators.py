"""Technical indicators on stored prices, computed with the `ta` library.

Two indicators are computed here rather than through `ta`, with `ta`'s exact
definitions: its WMA runs a Python lambda per bar (~0.7 s on 8,000 bars) and its ATR a
per-bar Python loop (~40 ms), which alone would break the 50 ms budget for the whole
set. Everything else is `ta`.

Indicators that need high/low/volume on a close-only symbol are reported in
``unavailable`` with the reason (never an exception, never NaN); so is any indicator
whose warm-up is longer than the history before the as-of date.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from ta.momentum import RSIIndicator, StochasticOscillator
from ta.trend import MACD, EMAIndicator, SMAIndicator
from ta.volatility import BollingerBands
from ta.volume import OnBalanceVolumeIndicator, VolumeWeightedAveragePrice

from tools.market_data import PriceFrame, PriceStore
from tools.performance import TRADING_DAYS

RETURN_HORIZONS = {"return_1w": 5, "return_1m": 21, "return_3m": 63, "return_1y": TRADING_DAYS}


@dataclass(frozen=True)
class _Group:
    """Indicators computed together, and the data columns they need."""

    names: tuple[str, ...]
    needs: tuple[str, ...]
    compute: Callable[[PriceFrame], dict[str, pd.Series]]


def _wma(price: pd.Series, window: int) -> pd.Series:
    """Linearly weighted moving average (weights 1..window, newest heaviest), as `ta`'s WMA."""
    weights = np.arange(1, window + 1, dtype="float64")
    values = np.convolve(price.to_numpy(), weights[::-1], mode="full")[: len(price)]
    out = values / weights.sum()
    out[: window - 1] = np.nan
    return pd.Series(out, index=price.index)


def _atr(high: pd.Series, low: pd.Series, close: pd.Series, window: int) -> pd.Series:
    """Wilder's average true range, seeded with the mean of the first ``window`` ranges.

    Wilder smoothing ``atr[i] = (atr[i-1]*(n-1) + tr[i]) / n`` is an EWM with
    ``alpha=1/n, adjust=False`` started at the seed, so pandas runs it in C.
    """
    prev = close.shift(1)
    true_range = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(
        axis=1
    )
    out = pd.Series(np.nan, index=close.index)
    if len(true_range) < window:
        return out
    seeded = true_range.iloc[window - 1 :].copy()
    seeded.iloc[0] = true_range.iloc[:window].mean()
    out.iloc[window - 1 :] = seeded.ewm(alpha=1 / window, adjust=False).mean().to_numpy()
    return out


def _trend(p: PriceFrame) -> dict[str, pd.Series]:
    price = p.price
    macd = MACD(price, window_slow=26, window_fast=12, window_sign=9)
    return {
        "sma_20": SMAIndicator(price, 20).sma_indicator(),
        "sma_50": SMAIndicator(price, 50).sma_indicator(),
        "sma_200": SMAIndicator(price, 200).sma_indicator(),
        "ema_12": EMAIndicator(price, 12).ema_indicator(),
        "ema_26": EMAIndicator(price, 26).ema_indicator(),
        "wma_20": _wma(price, 20),
        "rsi_14": RSIIndicator(price, 14).rsi(),
        "macd": macd.macd(),
        "macd_signal": macd.macd_signal(),
        "macd_hist": macd.macd_diff(),
    }


def _bollinger(p: PriceFrame) -> dict[str, pd.Series]:
    bands = BollingerBands(p.price, window=20, window_dev=2)
    upper, middle, lower = (
        bands.bollinger_hband(),
        bands.bollinger_mavg(),
        bands.bollinger_lband(),
    )
    return {
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "bb_pctb": bands.bollinger_pband(),
        # `ta`'s width is a percent; the product reports fractions.
        "bb_width": (upper - lower) / middle,
    }


def _volatility_and_returns(p: PriceFrame) -> dict[str, pd.Series]:
    daily = p.price.pct_change()
    out = {
        "volatility_20d": daily.rolling(20).std(ddof=1) * math.sqrt(TRADING_DAYS),
        "volatility_60d": daily.rolling(60).std(ddof=1) * math.sqrt(TRADING_DAYS),
    }
    out.update({name: p.price.pct_change(bars) for name, bars in RETURN_HORIZONS.items()})
    return out


def _stochastic(p: PriceFrame) -> dict[str, pd.Series]:
    f = p.frame
    stoch = StochasticOscillator(f["high"], f["low"], f["close"], window=14, smooth_window=3)
    return {"stoch_k_14": stoch.stoch(), "stoch_d_3": stoch.stoch_signal()}


def _atr_group(p: PriceFrame) -> dict[str, pd.Series]:
    f = p.frame
    return {"atr_14": _atr(f["high"], f["low"], f["close"], 14)}


def _obv(p: PriceFrame) -> dict[str, pd.Series]:
    return {"obv": OnBalanceVolumeIndicator(p.price, p.frame["volume"]).on_balance_volume()}


def _vwap(p: PriceFrame) -> dict[str, pd.Series]:
    f = p.frame
    vwap = VolumeWeightedAveragePrice(f["high"], f["low"], f["close"], f["volume"], window=14)
    return {"vwap_14": vwap.volume_weighted_average_price()}


GROUPS: tuple[_Group, ...] = (
    _Group(
        ("sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "wma_20", "rsi_14", "macd")
        + ("macd_signal", "macd_hist"),
        (),
        _trend,
    ),
    _Group(("bb_upper", "bb_middle", "bb_lower", "bb_pctb", "bb_width"), (), _bollinger),
    _Group(("volatility_20d", "volatility_60d", *RETURN_HORIZONS), (), _volatility_and_returns),
    _Group(("stoch_k_14", "stoch_d_3"), ("high", "low", "close"), _stochastic),
    _Group(("atr_14",), ("high", "low", "close"), _atr_group),
    _Group(("obv",), ("volume",), _obv),
    _Group(("vwap_14",), ("high", "low", "close", "volume"), _vwap),
)
INDICATOR_NAMES: tuple[str, ...] = tuple(n for g in GROUPS for n in g.names)


class IndicatorSeries(BaseModel):
    """Each indicator's values over ``[start, end]``, aligned with ``dates``."""

    dates: list[date]
    values: dict[str, list[float | None]]


class Indicators(BaseModel):
    """Latest value of every indicator at ``as_of``; nulls are explained in ``unavailable``."""

    symbol: str
    as_of: date = Field(description="Date of the last bar used.")
    source: str
    start: date = Field(description="First bar of the requested window.")
    end: date = Field(description="Last bar of the requested window (= as_of).")
    bars: int = Field(description="Bars in the window; indicators also warm up on earlier data.")
    price_column: str = Field(description="close when OHLCV was imported, else adj_close.")
    price: float
    sma_20: float | None = None
    sma_50: float | None = None
    sma_200: float | None = None
    ema_12: float | None = None
    ema_26: float | None = None
    wma_20: float | None = None
    rsi_14: float | None = Field(None, description="0-100.")
    macd: float | None = None
    macd_signal: float | None = None
    macd_hist: float | None = None
    bb_upper: float | None = None
    bb_middle: float | None = None
    bb_lower: float | None = None
    bb_pctb: float | None = Field(None, description="(price - lower) / (upper - lower).")
    bb_width: float | None = Field(None, description="(upper - lower) / middle, a fraction.")
    volatility_20d: float | None = Field(None, description="Annualised, ddof=1, 252 days.")
    volatility_60d: float | None = Field(None, description="Annualised, ddof=1, 252 days.")
    return_1w: float | None = Field(None, description="Simple return over 5 bars.")
    return_1m: float | None = Field(None, description="Simple return over 21 bars.")
    return_3m: float | None = Field(None, description="Simple return over 63 bars.")
    return_1y: float | None = Field(None, description="Simple return over 252 bars.")
    stoch_k_14: float | None = Field(None, description="0-100; needs high and low.")
    stoch_d_3: float | None = Field(None, description="3-bar SMA of %K; needs high and low.")
    atr_14: float | None = Field(None, description="Wilder ATR; needs high and low.")
    obv: float | None = Field(None, description="On-balance volume; needs volume.")
    vwap_14: float | None = Field(None, description="Rolling 14-bar VWAP; needs OHLCV.")
    unavailable: dict[str, str] = Field(
        default_factory=dict, description="Indicator -> why it has no value."
    )
    series: IndicatorSeries | None = None


def compute_series(prices: PriceFrame) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """Every indicator's full series, and the reasons for those that cannot be computed."""
    series: dict[str, pd.Series] = {}
    unavailable: dict[str, str] = {}
    for group in GROUPS:
        missing = prices.missing(*group.needs)
        if missing:
            reason = (
                f"needs OHLCV: {prices.symbol} has no {', '.join(missing)} data "
                f"(only {', '.join(prices.frame.columns)}); import OHLCV to enable it"
            )
            unavailable.update(dict.fromkeys(group.names, reason))
            continue
        series.update(group.compute(prices))
    return series, unavailable


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def indicators(
    store: PriceStore,
    symbol: str,
    start: date | None = None,
    end: date | None = None,
    *,
    with_series: bool = False,
) -> Indicators:
    """Indicators for ``symbol`` as of ``end`` (or its last bar), warmed up on all prior data."""
    window = store.load(symbol, start, end)  # validates the symbol and the range
    history = store.load(symbol, None, window.as_of)
    return indicators_from_frame(history, window.frame.index[0].date(), with_series=with_series)


def indicators_from_frame(
    history: PriceFrame, start: date | None = None, *, with_series: bool = False
) -> Indicators:
    """Indicators on ``history`` (warm-up included); ``start`` only trims the series."""
    series, unavailable = compute_series(history)
    bars_total = len(history.frame)
    latest: dict[str, float | None] = {}
    for name, values in series.items():
        value = _finite(values.iloc[-1])
        latest[name] = value
        if value is None:
            unavailable[name] = (
                f"not enough history: {history.symbol} has {bars_total} bars up to "
                f"{history.as_of}, too few for this indicator's warm-up"
            )
    first = pd.Timestamp(start) if start else history.frame.index[0]
    in_window = history.frame.index >= first
    result = Indicators(
        symbol=history.symbol,
        as_of=history.as_of,
        source=history.source,
        start=history.frame.index[in_window][0].date(),
        end=history.as_of,
        bars=int(in_window.sum()),
        price_column=history.price_column,
        price=float(history.price.iloc[-1]),
        unavailable={n: unavailable[n] for n in INDICATOR_NAMES if n in unavailable},
        **latest,
    )
    if with_series:
        dates = history.frame.index[in_window]
        result.series = IndicatorSeries(
            dates=[d.date() for d in dates],
            values={
                name: [_finite(v) for v in s.to_numpy()[in_window]] for name, s in series.items()
            },
        )
    return result
