"""The indicator engine: the full set on the longest sample symbol, the close-only set
next to bare TA-Lib calls for the same indicators, and a screen of 500 symbols.

Run: `.venv/bin/python -m benchmarks.bench_indicators` (or `make bench`). Targets
(issues 14 and 15): the whole set on 8,000+ daily bars in under 50 ms; the close-only
set within 3x of TA-Lib (SMA 20/50/200, EMA 12/26, WMA 20, RSI 14, MACD 12/26/9,
Bollinger 20/2, ROC 5/21/63/252, and the 20- and 60-day standard deviation of returns);
screening 500 symbols' full close-only set in under 1 s. The product computes the
close-only set with TA-Lib too (tools/indicator_math.py): the ratio is what our layer
costs on top of the bare C calls (gap handling, exact flat windows, the sample standard
deviation, pandas in and out). Before TA-Lib, the numpy engine stood at x4.6-7.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks._timing import median_ms
from tools.indicators import close_set, indicators_from_frame
from tools.market_data import PriceFrame, sample_frames
from tools.screen import parse_condition, screen

TARGET_MS = 50.0
TALIB_RATIO = 3.0
SCREEN_SYMBOLS = 500
SCREEN_TARGET_S = 1.0


def synthetic_ohlcv(close: pd.Series) -> pd.DataFrame:
    """OHLCV around a real close series, so every indicator (not only close-based) runs."""
    rng = np.random.default_rng(0)
    n = len(close)
    spread = 1 + rng.uniform(0, 0.01, n)
    return pd.DataFrame(
        {
            "open": close.to_numpy(),
            "high": close.to_numpy() * spread,
            "low": close.to_numpy() / spread,
            "close": close.to_numpy(),
            "volume": rng.integers(10_000, 1_000_000, n).astype(float),
        },
        index=close.index,
    )


def talib_close_set(values: np.ndarray) -> None:
    import talib

    for n in (20, 50, 200):
        talib.SMA(values, n)
    talib.EMA(values, 12)
    talib.EMA(values, 26)
    talib.WMA(values, 20)
    talib.RSI(values, 14)
    talib.MACD(values, 12, 26, 9)
    talib.BBANDS(values, 20, 2, 2)
    for n in (5, 21, 63, 252):
        talib.ROC(values, n)
    returns = talib.ROCP(values, 1)
    talib.STDDEV(returns, 20)
    talib.STDDEV(returns, 60)


def main() -> None:
    symbol, frame = max(sample_frames(), key=lambda item: len(item[1]))
    ohlcv = PriceFrame(symbol, "synthetic OHLCV", synthetic_ohlcv(frame["adj_close"]))
    close = frame["adj_close"]
    bars = len(frame)

    full = median_ms(lambda: indicators_from_frame(ohlcv))
    ours = median_ms(lambda: close_set(close))
    print(f"symbol {symbol}: {bars} daily bars, median of repeated runs")
    print(
        f"  full OHLCV set (27 indicators)   {full:8.2f} ms   target {TARGET_MS:.0f} ms: "
        + ("met" if full < TARGET_MS else "NOT met")
    )
    try:
        values = close.to_numpy(dtype="float64")
        reference = median_ms(lambda: talib_close_set(values))
    except ImportError:
        print("  TA-Lib not installed (dev extra): no reference")
    else:
        ratio = ours / reference
        print(
            f"  close-only set: ours {ours:6.2f} ms, TA-Lib {reference:6.2f} ms -> x{ratio:.1f} "
            f"(target within x{TALIB_RATIO:.0f}: "
            + ("met)" if ratio <= TALIB_RATIO else "NOT met)")
        )

    rng = np.random.default_rng(1)
    steps = rng.normal(0.0003, 0.015, (bars, SCREEN_SYMBOLS))
    universe = pd.DataFrame(100 * np.cumprod(1 + steps, axis=0), index=close.index)
    histories = {f"S{i:03d}": universe[i] for i in range(SCREEN_SYMBOLS)}
    started = time.perf_counter()
    close_set(universe)
    compute = time.perf_counter() - started
    started = time.perf_counter()
    result = screen(histories, "rsi_14", [parse_condition("price>sma_200")], top=10)
    whole = time.perf_counter() - started
    print(
        f"  {SCREEN_SYMBOLS} symbols x {bars} bars: full close-only set {compute:5.2f} s; "
        f"screen (rank + condition) {whole:5.2f} s, {result.matched} matched; target "
        f"< {SCREEN_TARGET_S:.0f} s: " + ("met" if whole < SCREEN_TARGET_S else "NOT met")
    )


if __name__ == "__main__":
    main()
