"""Technical indicators on stored prices: the formulas are :mod:`tools.indicator_math`
(TA-Lib for the close-only set; one symbol or many at once).

Indicators that need high/low/volume on a close-only symbol are reported in
``unavailable`` with the reason (never an exception, never NaN); so is any indicator
whose warm-up is longer than the history before the as-of date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools import indicator_math as m
from tools.indicator_math import Frame
from tools.market_data import PriceFrame, PriceStore

RETURN_HORIZONS = m.RETURN_HORIZONS
CLOSE_NAMES = m.CLOSE_NAMES


@dataclass(frozen=True)
class _Group:
    """Indicators computed together, and the data columns they need."""

    names: tuple[str, ...]
    needs: tuple[str, ...]
    compute: Callable[[PriceFrame], dict[str, pd.Series]]


def close_set(price: Frame) -> dict[str, Frame]:
    """Every indicator that needs only the close: of one symbol (a Series) or of many on
    one calendar (a DataFrame, a column each)."""
    arrays = m.close_arrays(m.as_columns(price))
    return {name: m.like(price, arrays[name]) for name in CLOSE_NAMES}


def _stochastic(p: PriceFrame) -> dict[str, pd.Series]:
    f = p.frame
    k, d = m.stochastic(f["high"], f["low"], f["close"], 14, 3)
    return {"stoch_k_14": k, "stoch_d_3": d}


GROUPS: tuple[_Group, ...] = (
    _Group(CLOSE_NAMES, (), lambda p: close_set(p.price)),
    _Group(("stoch_k_14", "stoch_d_3"), ("high", "low", "close"), _stochastic),
    _Group(
        ("atr_14",),
        ("high", "low", "close"),
        lambda p: {"atr_14": m.atr(p.frame["high"], p.frame["low"], p.frame["close"], 14)},
    ),
    _Group(("obv",), ("volume",), lambda p: {"obv": m.obv(p.price, p.frame["volume"])}),
    _Group(
        ("vwap_14",),
        ("high", "low", "close", "volume"),
        lambda p: {
            "vwap_14": m.vwap(
                p.frame["high"], p.frame["low"], p.frame["close"], p.frame["volume"], 14
            )
        },
    ),
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
