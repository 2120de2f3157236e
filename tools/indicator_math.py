"""The indicator formulas, each one pandas expression over a Series (one symbol) or a
DataFrame (one column per symbol, on a shared calendar): the same code gives
``get_indicators`` its values and lets a screen compute 500 symbols at once.

Definitions follow the usual (and the `ta` library's) conventions, so the values did
not change when this replaced `ta`: SMA and EMA need their full window (EMA: span n,
``adjust=False``); RSI is Wilder's (α = 1/n on gains and losses; 100 when there were
no losses); MACD 12/26/9 on those EMAs; Bollinger 20 bars ± 2 population standard
deviations (ddof=0); stochastic %K over 14 bars' high and low, %D its 3-bar SMA; OBV
adds the day's volume unless the close fell; VWAP is the 14-bar rolling sum of typical
price × volume over that of volume; ATR is Wilder's, seeded with the first 14 ranges.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from tools.performance import TRADING_DAYS

Frame = TypeVar("Frame", pd.Series, pd.DataFrame)


def _arrays(fn):
    """Run ``fn`` on the values as a (days × columns) float array and give back the
    caller's type: a Series stays a Series, a DataFrame a DataFrame."""

    def wrapped(x, *args, **kwargs):
        out = fn(as_columns(x), *args, **kwargs)
        if isinstance(out, tuple):
            return tuple(_like(x, o) for o in out)
        return _like(x, out)

    wrapped.__doc__, wrapped.__name__ = fn.__doc__, fn.__name__
    return wrapped


def as_columns(x: pd.Series | pd.DataFrame) -> np.ndarray:
    """The values as a (days × columns) float array stored column by column: each
    symbol's days are contiguous (running sums and filters walk them), and a DataFrame
    is built back from it without a copy."""
    values = x.to_numpy(dtype="float64")
    return np.asfortranarray(values.reshape(len(values), -1))


def _like(x, values: np.ndarray):
    if isinstance(x, pd.Series):
        return pd.Series(values[:, 0], index=x.index)
    return pd.DataFrame(values, index=x.index, columns=x.columns, copy=False)


def _starts(a: np.ndarray) -> np.ndarray:
    """Each column's first finite row (a later listing is leading gaps); len(a) if none."""
    finite = np.isfinite(a)
    return np.where(finite.any(axis=0), finite.argmax(axis=0), len(a))


def _blank_head(y: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """NaN where a column has fewer than ``n`` values so far (its warm-up)."""
    for column, start in enumerate(starts):
        y[: start + n - 1, column] = np.nan
    return y


def _filled(a: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Leading gaps filled with the first value (an EWM or a filter seeded there is
    unchanged by them); columns with no value stay empty."""
    if not starts.any():
        return a
    out = a.copy()
    for column, start in enumerate(starts):
        if 0 < start < len(a):
            out[:start, column] = a[start, column]
    return out


def _ewm(a: np.ndarray, alpha: float, min_periods: int, starts: np.ndarray | None = None):
    """pandas' ``ewm(alpha=α, adjust=False, min_periods=n).mean()``: y₀ = x₀, then
    yₜ = α xₜ + (1 − α) yₜ₋₁, a first-order filter run in C along the days."""
    starts = _starts(a) if starts is None else starts
    x = _filled(a, starts)
    if not len(x):
        return x.copy()
    y, _ = lfilter([alpha], [1.0, alpha - 1.0], x, axis=0, zi=(1 - alpha) * x[:1])
    return _blank_head(y, starts, max(min_periods, 1))


def _sums(a: np.ndarray, n: int, starts: np.ndarray) -> np.ndarray:
    """Sum of the last ``n`` rows, from a running sum (NaN during each column's warm-up)."""
    # leading gaps count as 0: every window kept lies after them
    c = np.cumsum(np.nan_to_num(a) if starts.any() else a, axis=0)
    out = np.empty_like(c)
    out[:n] = c[:n]
    np.subtract(c[n:], c[:-n], out=out[n:])
    return _blank_head(out, starts, n)


def _std(a: np.ndarray, n: int, ddof: int, starts: np.ndarray) -> np.ndarray:
    """Moving standard deviation from running sums of the values and their squares,
    centred on each column's first value so that the sums stay small; a window whose
    variance is below the sums' rounding is flat (0)."""
    first = np.array([a[s, c] if s < len(a) else 0.0 for c, s in enumerate(starts)])
    d = a - first
    s1 = _sums(d, n, starts)
    np.multiply(d, d, out=d)
    s2 = _sums(d, n, starts)
    var = s1 * s1  # (s2 − s1² / n) / (n − ddof), in place
    var /= -n
    var += s2
    var /= n - ddof
    s1 /= n  # the window's mean, less the centre
    np.abs(s1, out=s1)
    s1 += np.abs(first)
    np.multiply(s1, s1, out=s1)
    s1 *= 1e-12
    s2 *= 1e-15
    s1 += np.abs(s2, out=s2)
    var[var <= s1] = 0.0  # below the running sums' rounding: a window that did not move
    return np.sqrt(var, out=var)


def _pct(a: np.ndarray, periods: int) -> np.ndarray:
    out = np.empty_like(a)
    out[:periods] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(a[periods:], a[:-periods], out=out[periods:])
    out[periods:] -= 1
    return out


def _wma(a: np.ndarray, n: int, starts: np.ndarray) -> np.ndarray:
    weights = np.arange(n, 0, -1, dtype="float64") / (n * (n + 1) / 2)
    return _blank_head(lfilter(weights, [1.0], _filled(a, starts), axis=0), starts, n)


def _rsi(a: np.ndarray, n: int, starts: np.ndarray) -> np.ndarray:
    """Wilder's RSI; each column's first day counts as no change (as ``ta`` and
    ``diff().where(diff > 0, 0)`` make it)."""
    up = np.empty_like(a)
    up[0] = np.nan
    np.subtract(a[1:], a[:-1], out=up[1:])
    for column, start in enumerate(starts):
        if start < len(a):
            up[start, column] = 0.0
    down = np.negative(up)
    np.maximum(up, 0.0, out=up)
    np.maximum(down, 0.0, out=down)
    avg_up, avg_down = _ewm(up, 1 / n, n, starts), _ewm(down, 1 / n, n, starts)
    flat = avg_down == 0
    with np.errstate(divide="ignore", invalid="ignore"):  # 100 − 100 / (1 + up / down), in place
        value = np.divide(avg_up, avg_down, out=avg_up)
        value += 1
        np.divide(100.0, value, out=value)
        np.subtract(100.0, value, out=value)
    value[flat] = 100.0
    return value


def close_arrays(a: np.ndarray) -> dict[str, np.ndarray]:
    """The close-only set on a (days × columns) array, sharing what can be shared (the
    20-day sum is the SMA and the Bollinger middle; the EMAs feed the MACD)."""
    starts = _starts(a)
    sma20 = _sums(a, 20, starts) / 20
    ema12 = _ewm(a, 2 / 13, 12, starts)
    ema26 = _ewm(a, 2 / 27, 26, starts)
    line = ema12 - ema26
    signal = _ewm(line, 2 / 10, 9, starts + 25)
    std20 = _std(a, 20, 0, starts)
    upper, lower = sma20 + 2 * std20, sma20 - 2 * std20
    width = np.where(upper != lower, upper - lower, np.nan)
    daily = _pct(a, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pctb = (a - lower) / width
    return {
        "sma_20": sma20,
        "sma_50": _sums(a, 50, starts) / 50,
        "sma_200": _sums(a, 200, starts) / 200,
        "ema_12": ema12,
        "ema_26": ema26,
        "wma_20": _wma(a, 20, starts),
        "rsi_14": _rsi(a, 14, starts),
        "macd": line,
        "macd_signal": signal,
        "macd_hist": line - signal,
        "bb_upper": upper,
        "bb_middle": sma20,
        "bb_lower": lower,
        "bb_pctb": pctb,
        "bb_width": (upper - lower) / sma20,
        "volatility_20d": _std(daily, 20, 1, starts + 1) * np.sqrt(TRADING_DAYS),
        "volatility_60d": _std(daily, 60, 1, starts + 1) * np.sqrt(TRADING_DAYS),
    }


@_arrays
def sma(a: np.ndarray, n: int) -> np.ndarray:
    return _sums(a, n, _starts(a)) / n


@_arrays
def ema(a: np.ndarray, n: int) -> np.ndarray:
    return _ewm(a, 2 / (n + 1), n)


@_arrays
def rolling_std(a: np.ndarray, n: int, ddof: int = 1) -> np.ndarray:
    return _std(a, n, ddof, _starts(a))


@_arrays
def pct_change(a: np.ndarray, periods: int = 1) -> np.ndarray:
    return _pct(a, periods)


@_arrays
def wma(a: np.ndarray, n: int) -> np.ndarray:
    """Linearly weighted (1..n, newest heaviest): a finite filter run in C."""
    return _wma(a, n, _starts(a))


@_arrays
def rsi(a: np.ndarray, n: int = 14) -> np.ndarray:
    return _rsi(a, n, _starts(a))


@_arrays
def macd(
    a: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts = _starts(a)
    line = _ewm(a, 2 / (fast + 1), fast, starts) - _ewm(a, 2 / (slow + 1), slow, starts)
    sig = _ewm(line, 2 / (signal + 1), signal, starts + slow - 1)
    return line, sig, line - sig


@_arrays
def bollinger(
    a: np.ndarray, n: int = 20, k: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Upper, middle, lower band and %B ((x − lower) / (upper − lower))."""
    starts = _starts(a)
    middle = _sums(a, n, starts) / n
    std = _std(a, n, 0, starts)
    upper, lower = middle + k * std, middle - k * std
    width = np.where(upper != lower, upper - lower, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return upper, middle, lower, (a - lower) / width


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
