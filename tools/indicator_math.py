"""The indicator formulas: the close-only set computed by TA-Lib's C functions, one
column (symbol) at a time, so one code path gives ``get_indicators`` its values and lets
a screen compute 500 symbols; the OHLCV indicators as pandas expressions.

Conventions (TA-Lib's defaults, the usual ones): SMA and WMA (weights 1..n, newest
heaviest) need their full window; EMA (α = 2/(n+1)) is seeded with the SMA of its first
n values; RSI is Wilder's, seeded with the average of the first n moves (100 when there
were no losses); MACD is EMA 12 − EMA 26, its signal the 9-bar EMA of that line (from
the line's first value); Bollinger 20 bars ± 2 population standard deviations (ddof=0),
%B (x − lower)/(upper − lower), undefined (NaN) over a window that did not move;
volatilities are the sample (ddof=1) standard deviation of simple daily returns × √252;
returns over n bars are x/x₋ₙ − 1. A symbol's missing days (leading gaps on a shared
calendar, a suspension) are skipped, not filled: each window counts trading days.
Stochastic %K over 14 bars' high and low, %D its 3-bar SMA; OBV adds the day's volume
unless the close fell; VWAP is the 14-bar rolling sum of typical price × volume over that
of volume; ATR is Wilder's, seeded with the first 14 ranges.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd
import talib

from tools.performance import TRADING_DAYS

Frame = TypeVar("Frame", pd.Series, pd.DataFrame)

RETURN_HORIZONS = {"return_1w": 5, "return_1m": 21, "return_3m": 63, "return_1y": TRADING_DAYS}
CLOSE_NAMES = (
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_12",
    "ema_26",
    "wma_20",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "bb_pctb",
    "bb_width",
    "volatility_20d",
    "volatility_60d",
    *RETURN_HORIZONS,
)


def as_columns(x: pd.Series | pd.DataFrame) -> np.ndarray:
    """The values as a (days × columns) float array stored column by column: each
    symbol's days are contiguous, and a DataFrame is built back from it without a copy."""
    values = x.to_numpy(dtype="float64")
    return np.asfortranarray(values.reshape(len(values), -1))


def like(x: pd.Series | pd.DataFrame, values: np.ndarray):
    """``values`` (days × columns) as the caller's type: a Series stays a Series."""
    if isinstance(x, pd.Series):
        return pd.Series(values[:, 0], index=x.index)
    return pd.DataFrame(values, index=x.index, columns=x.columns, copy=False)


def _volatility(returns: np.ndarray, n: int) -> np.ndarray:
    """Annualised sample standard deviation of the last ``n`` returns (TA-Lib's STDDEV
    is the population one)."""
    return talib.STDDEV(returns, n, 1.0) * np.sqrt(n / (n - 1) * TRADING_DAYS)


def close_column(x: np.ndarray) -> dict[str, np.ndarray]:
    """The close-only set of one symbol's consecutive closes (no gaps)."""
    sma20 = talib.SMA(x, 20)
    ema12, ema26 = talib.EMA(x, 12), talib.EMA(x, 26)
    line = ema12 - ema26
    signal = talib.EMA(line, 9) if np.isfinite(line).any() else np.full_like(x, np.nan)
    spread = 2 * talib.STDDEV(x, 20, 1.0)
    flat = talib.MAX(x, 20) == talib.MIN(x, 20)
    spread[flat] = 0.0  # exactly, not the running sums' rounding
    upper, lower = sma20 + spread, sma20 - spread
    width = upper - lower
    width[flat] = np.nan
    daily = talib.ROCP(x, 1)
    out = {
        "sma_20": sma20,
        "sma_50": talib.SMA(x, 50),
        "sma_200": talib.SMA(x, 200),
        "ema_12": ema12,
        "ema_26": ema26,
        "wma_20": talib.WMA(x, 20),
        "rsi_14": talib.RSI(x, 14),
        "macd": line,
        "macd_signal": signal,
        "macd_hist": line - signal,
        "bb_upper": upper,
        "bb_middle": sma20,
        "bb_lower": lower,
        "bb_pctb": (x - lower) / width,
        "bb_width": (upper - lower) / sma20,
        "volatility_20d": _volatility(daily, 20),
        "volatility_60d": _volatility(daily, 60),
    }
    out.update({name: talib.ROCP(x, n) for name, n in RETURN_HORIZONS.items()})
    return out


def close_arrays(a: np.ndarray) -> dict[str, np.ndarray]:
    """The close-only set on a (days × columns) array, a column (symbol) at a time over
    its own trading days; NaN where a symbol has no close or too few before it."""
    if a.shape[1] == 1 and np.isfinite(a).all():  # one symbol with no gaps: no copies
        return {k: v.reshape(-1, 1) for k, v in close_column(np.ascontiguousarray(a[:, 0])).items()}
    out = {name: np.empty(a.shape, order="F") for name in CLOSE_NAMES}
    for column in range(a.shape[1]):
        days = np.flatnonzero(np.isfinite(a[:, column]))
        first, last = (days[0], days[-1] + 1) if len(days) else (0, 0)
        for target in out.values():  # NaN outside the symbol's days (each written once)
            target[:first, column] = np.nan
            target[last:, column] = np.nan
        if not len(days):
            continue
        if last - first == len(days):  # no gap inside: a slice, not an index
            days = slice(first, last)
        else:
            for target in out.values():
                target[first:last, column] = np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            values = close_column(np.ascontiguousarray(a[days, column]))
        for name, v in values.items():
            out[name][days, column] = v
    return out


def stochastic(
    high: pd.Series, low: pd.Series, close: pd.Series, n: int = 14, smooth: int = 3
) -> tuple[pd.Series, pd.Series]:
    lowest = low.rolling(n, min_periods=n).min()
    highest = high.rolling(n, min_periods=n).max()
    k = 100 * (close - lowest) / (highest - lowest)
    return k, k.rolling(smooth, min_periods=smooth).mean()


def obv(close: pd.Series, volume: pd.Series) -> pd.Series:
    signed = np.where(close < close.shift(1), -volume, volume)
    return pd.Series(signed, index=close.index).cumsum()


def vwap(
    high: pd.Series, low: pd.Series, close: pd.Series, volume: pd.Series, n: int = 14
) -> pd.Series:
    typical = (high + low + close) / 3.0
    return (typical * volume).rolling(n, min_periods=n).sum() / volume.rolling(
        n, min_periods=n
    ).sum()


def atr(high: pd.Series, low: pd.Series, close: pd.Series, n: int = 14) -> pd.Series:
    """Wilder's average true range, seeded with the mean of the first ``n`` ranges:
    ``atr[i] = (atr[i-1]·(n−1) + tr[i]) / n`` is an EWM with α = 1/n started at the seed."""
    prev = close.shift(1)
    true_range = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(
        axis=1
    )
    out = pd.Series(np.nan, index=close.index)
    if len(true_range) < n:
        return out
    seeded = true_range.iloc[n - 1 :].copy()
    seeded.iloc[0] = true_range.iloc[:n].mean()
    out.iloc[n - 1 :] = seeded.ewm(alpha=1 / n, adjust=False).mean().to_numpy()
    return out


def moving_average(closes: np.ndarray, kind: str, n: int) -> float | None:
    """The last ``n``-bar SMA or EMA (``kind`` "sma" or "ema") of consecutive closes, the
    same definitions as the set above (TA-Lib's: the EMA seeded with the SMA of its first
    ``n`` closes); None with fewer than ``n`` closes."""
    x = np.asarray(closes, dtype="float64")
    if len(x) < n:
        return None
    line = talib.SMA(x, n) if kind == "sma" else talib.EMA(x, n)
    return float(line[-1]) if np.isfinite(line[-1]) else None
