"""Full indicator set on the longest sample symbol: median time, bar count, target ratio.

Run: `.venv/bin/python benchmarks/bench_indicators.py` (or `make bench`). Target: the
whole set on 8,000+ daily bars in under 50 ms. Reference: the same set computed with
`ta` alone (its WMA and ATR included), to show what the two vectorised ones save.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ta.trend import WMAIndicator
from ta.volatility import AverageTrueRange

from benchmarks._timing import median_ms
from tools.indicators import indicators_from_frame
from tools.market_data import PriceFrame, sample_frames

TARGET_MS = 50.0
REPEATS = 25


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


def main() -> None:
    symbol, frame = max(sample_frames(), key=lambda item: len(item[1]))
    close_only = PriceFrame(symbol, "sample", frame)
    ohlcv = PriceFrame(symbol, "synthetic OHLCV", synthetic_ohlcv(frame["adj_close"]))
    bars = len(frame)

    ours_close = median_ms(lambda: indicators_from_frame(close_only))
    ours_full = median_ms(lambda: indicators_from_frame(ohlcv))
    f = ohlcv.frame
    ta_extra = median_ms(
        lambda: (
            WMAIndicator(f["close"], 20).wma(),
            AverageTrueRange(f["high"], f["low"], f["close"], 14).average_true_range(),
        ),
        repeats=3,
    )
    reference = ours_full + ta_extra  # upper bound of a `ta`-only set: ours + ta's WMA/ATR

    print(f"symbol {symbol}: {bars} daily bars, median of {REPEATS} runs")
    print(f"  close-only set (21 indicators)      {ours_close:8.2f} ms")
    print(
        f"  full OHLCV set (27 indicators)      {ours_full:8.2f} ms   target {TARGET_MS:.0f} ms "
        f"-> {ours_full / TARGET_MS:.2f} of budget"
    )
    print(
        f"  reference: ta's own WMA + ATR alone {ta_extra:8.2f} ms   "
        f"(a ta-only set ≈ {reference:.0f} ms, {reference / ours_full:.1f}x ours)"
    )


if __name__ == "__main__":
    main()
