"""Walk-forward analysis of a parameter sweep: pick on each training window, report on
the test window that follows it, and stitch the test windows into one out-of-sample
record. Positions at a day depend only on data up to that day, so slicing one position
matrix per parameter set is equivalent to re-running each window (and much faster).
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import BaseModel, Field

from tools.backtest import (
    Strategy,
    _combinations,
    _Indicators,
    _position_matrix,
    _prepare,
    _step_returns,
    check_costs,
    check_rank_by,
    sweep_matrix,
)
from tools.errors import InvalidInputError, NoDataError
from tools.performance import ranking_measures


class WalkForwardWindow(BaseModel):
    train_start: date
    train_end: date
    test_start: date
    test_end: date
    params: dict[str, float] = Field(description="Best on the training window.")
    train_score: float
    test_total_return: float
    test_sharpe: float
    test_max_drawdown: float


class WalkForwardResult(BaseModel):
    symbol: str
    strategy: Strategy
    rank_by: str
    train_days: int
    test_days: int
    combinations: int
    start: date
    end: date
    as_of: date
    source: str
    windows: list[WalkForwardWindow]
    oos_total_return: float = Field(description="Test windows chained, costs included.")
    oos_cagr: float
    oos_sharpe: float
    oos_max_drawdown: float


def walk_forward(
    store,
    symbol: str,
    strategy: Strategy | str,
    grid: dict[str, list[float]],
    *,
    train_days: int = 756,
    test_days: int = 252,
    start: date | None = None,
    end: date | None = None,
    cost_bps: float = 0.0,
    slippage_bps: float = 0.0,
    allow_short: bool = False,
    rank_by: str = "sharpe",
) -> WalkForwardResult:
    strategy = Strategy(strategy)
    check_rank_by(rank_by)
    if train_days < 20 or test_days < 5:
        raise InvalidInputError("walk-forward needs train ≥ 20 and test ≥ 5 trading days")
    check_costs(cost_bps, slippage_bps)
    prep = _prepare(store, symbol, start, end)
    combos = _combinations(strategy, grid, 100_000)
    price = prep.price[prep.first :]
    dates = prep.window_dates()
    if len(price) < train_days + test_days:
        raise NoDataError(
            f"{prep.symbol} has {len(price)} bars in the range; walk-forward needs at least "
            f"train + test = {train_days + test_days}"
        )
    pos = _position_matrix(strategy, combos, _Indicators(prep.price), allow_short)[prep.first :]
    r = np.concatenate([[np.nan], price[1:] / price[:-1] - 1])
    cost = (cost_bps + slippage_bps) / 10_000

    windows, oos_steps = [], []
    for a in range(0, len(price) - train_days - 1, test_days):
        b = a + train_days  # train is [a, b); test is [b, c)
        c = min(b + test_days, len(price))
        if c - b < 2:
            break
        scores = sweep_matrix(price[a:b], pos[a:b], cost)[rank_by]
        best = int(np.argmax(scores))
        test = sweep_matrix(price[b:c], pos[b:c, [best]], cost)
        oos_steps.append(_step_returns(pos[b:c, [best]], r[b:c], cost)[:, 0])
        windows.append(
            WalkForwardWindow(
                train_start=dates[a].date(),
                train_end=dates[b - 1].date(),
                test_start=dates[b].date(),
                test_end=dates[c - 1].date(),
                params=combos[best],
                train_score=float(scores[best]),
                test_total_return=float(test["total_return"][0]),
                test_sharpe=float(test["sharpe"][0]),
                test_max_drawdown=float(test["max_drawdown"][0]),
            )
        )
    oos = ranking_measures(np.concatenate(oos_steps)[:, None])
    return WalkForwardResult(
        symbol=prep.symbol,
        strategy=strategy,
        rank_by=rank_by,
        train_days=train_days,
        test_days=test_days,
        combinations=len(combos),
        start=dates[0].date(),
        end=dates[-1].date(),
        as_of=dates[-1].date(),
        source=prep.source,
        windows=windows,
        oos_total_return=float(oos["total_return"][0]),
        oos_cagr=float(oos["cagr"][0]),
        oos_sharpe=float(oos["sharpe"][0]),
        oos_max_drawdown=float(oos["max_drawdown"][0]),
    )
