"""Unusual-trading flags: recall on injected patterns, false flags on clean series, and
flags per symbol-year on the real sample data.

Run: `.venv/bin/python -m benchmarks.bench_anomaly` (or `make bench`). Synthetic series
are random walks with 1.5% daily volatility (Student-t, 4 degrees of freedom: fat tails,
as real returns have); into each we inject one jump of 10–20% on a random day and one
pump-and-dump (a 25–40% rise over 3–5 days, given back within 10). Recall counts a jump
found on its day and an episode found within its span.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tools.anomaly import FlagKind, detect
from tools.market_data import sample_frames

SERIES = 200
DAYS = 756


def synthetic(rng: np.random.Generator) -> tuple[pd.Series, int, tuple[int, int]]:
    steps = 0.015 / np.sqrt(2) * rng.standard_t(4, DAYS)
    jump_at = int(rng.integers(100, 350))
    steps[jump_at] = rng.choice([-1, 1]) * rng.uniform(0.10, 0.20)
    pump_at = int(rng.integers(450, 700))
    length = int(rng.integers(3, 6))
    rise = rng.uniform(0.25, 0.40)
    steps[pump_at : pump_at + length] = (1 + rise) ** (1 / length) - 1
    fall = (1 + rise) ** -1 * (1 + rise * 0.4)  # ends 40% of the rise above the start
    steps[pump_at + length : pump_at + length + 5] = fall ** (1 / 5) - 1
    closes = 100 * np.cumprod(1 + steps)
    index = pd.bdate_range("2015-01-01", periods=DAYS)
    return pd.Series(closes, index=index), jump_at, (pump_at, pump_at + length + 5)


def main() -> None:
    rng = np.random.default_rng(7)
    jumps = pumps = false_returns = 0
    clean_flags = 0
    for _ in range(SERIES):
        closes, jump_at, (p0, p1) = synthetic(rng)
        flags = detect("S", closes).flags
        days = {f.date for f in flags if f.kind is FlagKind.RETURN}
        jumps += closes.index[jump_at].date() in days
        span = {d.date() for d in closes.index[p0 - 1 : p1 + 1]}
        pumps += any(f.kind is FlagKind.SPIKE_REVERSAL and f.date in span for f in flags)
        injected = {closes.index[jump_at].date(), *span}
        false_returns += len(days - injected)
        clean = pd.Series(
            100 * np.cumprod(1 + 0.015 / np.sqrt(2) * rng.standard_t(4, DAYS)), index=closes.index
        )
        clean_flags += len(detect("C", clean).flags)
    years = SERIES * DAYS / 252
    print(f"synthetic: {SERIES} series x {DAYS} days (fat-tailed, 1.5% daily)")
    print(f"  jump recall (10-20% on one day)        {jumps / SERIES:6.1%}")
    print(f"  pump-and-dump recall (25-40%, reversed) {pumps / SERIES:6.1%}")
    print(f"  other return flags per series-year     {false_returns / years:6.2f}")
    print(f"  flags per series-year on clean series  {clean_flags / years:6.2f}")
    counts: dict[str, int] = {}
    years = 0.0
    for symbol, frame in sample_frames():
        if symbol == "SPX":
            continue
        result = detect(symbol, frame["adj_close"])
        years += result.days / 252
        for kind, n in result.counts.items():
            counts[kind] = counts.get(kind, 0) + n
    print(f"sample data: {years:.0f} symbol-years (close only: no volume)")
    for kind in (FlagKind.RETURN, FlagKind.SPIKE_REVERSAL):
        print(f"  {kind.value:28s} {counts[kind.value] / years:6.2f} per symbol-year")


if __name__ == "__main__":
    main()
