"""Backtest speed: one run over the longest sample symbol, and a 1,000-combination sweep.

Run: `.venv/bin/python -m benchmarks.bench_backtest` (or `make bench`). Targets: a single
backtest over 8,000 bars under 5 ms; a sweep of at least 2,000 combinations per second.
Reference: the same sweep as a plain pandas loop, one combination at a time.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._timing import median_ms
from tools.backtest import (
    Strategy,
    _Indicators,
    _positions,
    _step_returns,
    backtest,
    sweep,
)
from tools.market_data import PriceStore, sample_frames


def pandas_reference(price: pd.Series, fast: int, slow: int, cost: float) -> tuple[float, float]:
    """What a careful analyst writes without vectorising across combinations."""
    pos = (price.rolling(fast).mean() > price.rolling(slow).mean()).astype(float)
    steps = pos.shift(1) * price.pct_change() - cost * pos.diff().abs().shift(1).fillna(pos.iloc[0])
    steps = steps.iloc[1:]
    equity = (1 + steps).cumprod()
    sharpe = steps.mean() / steps.std() * math.sqrt(252)
    return float(equity.iloc[-1]), float(sharpe)


def main() -> None:
    symbol, frame = max(sample_frames(), key=lambda item: len(item[1]))
    bars = len(frame)
    with tempfile.TemporaryDirectory() as tmp:
        store = PriceStore(Path(tmp))
        store.save(symbol, frame, "sample")
        price = frame["adj_close"].to_numpy()

        def core() -> None:
            ind = _Indicators(price)
            pos = _positions(Strategy.SMA_CROSS, {"fast": 20, "slow": 50}, ind, False)
            r = np.concatenate([[np.nan], price[1:] / price[:-1] - 1])
            steps = _step_returns(pos[:, None], r, 0.001)
            np.cumprod(1 + steps, axis=0)

        core_ms = median_ms(core, 50)
        full_ms = median_ms(lambda: backtest(store, symbol, "sma-cross", cost_bps=10), 15)

        grid = {"fast": [float(x) for x in range(2, 52)], "slow": [float(x) for x in range(60, 80)]}
        sweep(store, symbol, "sma-cross", grid)
        started = time.perf_counter()
        result = sweep(store, symbol, "sma-cross", grid, cost_bps=10)
        sweep_s = time.perf_counter() - started

        series = frame["adj_close"].reset_index(drop=True)
        sample = [(f, s) for f in range(2, 52, 5) for s in range(60, 80, 4)]
        started = time.perf_counter()
        for f, s in sample:
            pandas_reference(series, f, s, 0.001)
        ref_rate = len(sample) / (time.perf_counter() - started)

    rate = result.combinations / sweep_s
    print(f"symbol {symbol}: {bars} daily bars")
    print(f"  single backtest, engine (signal+equity)  {core_ms:7.2f} ms   target 5 ms")
    print(f"  single backtest, full result (I/O, trades, curve, metrics) {full_ms:7.2f} ms")
    print(
        f"  sma-cross sweep: {result.combinations} combinations in {sweep_s * 1000:.0f} ms "
        f"= {rate:,.0f}/s   target 2,000/s"
    )
    print(f"  reference plain-pandas loop: {ref_rate:,.0f}/s   ratio {rate / ref_rate:.1f}x")


if __name__ == "__main__":
    main()
