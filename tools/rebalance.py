"""Multi-asset backtest that holds optimiser weights and rebalances monthly or quarterly.

At each rebalance close the weights are re-estimated on the trailing ``lookback_days``
of returns up to that close only (no look-ahead), then held and left to drift with
prices until the next rebalance. The step convention is the single-asset one::

    equity[t+1] = equity[t] * (1 + Σ h[t] · r[t+1] - c · turnover[t])

with ``h`` the weights held after the close of t and ``turnover`` Σ|w_new − w_drifted|
on rebalance days (Σ|w| on the first day, bought from cash). The only Python loop is
over rebalance dates; days within a holding period are array arithmetic.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.backtest import (
    RunResult,
    Strategy,
    _as_dates,
    check_costs,
    summarise_run,
    write_chart,
)
from tools.errors import InvalidInputError, NoDataError
from tools.market_data import PriceStore, check_range, normalise_symbol
from tools.performance import check_capital
from tools.portfolio import (
    MIN_OBSERVATIONS,
    Constraints,
    InfeasibleError,
    Method,
    estimate,
    optimize_estimates,
)


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class RebalanceEvent(BaseModel):
    date: date
    weights: dict[str, float]
    turnover: float
    note: str | None = Field(None, description="Why the method was not applied as asked.")


class RebalanceResult(RunResult):
    symbols: list[str]
    strategy: Strategy = Strategy.REBALANCE
    method: Method
    frequency: Frequency
    lookback_days: int
    rebalances: list[RebalanceEvent]

    def label(self) -> str:
        return f"{'+'.join(self.symbols)} rebalance {self.method} {self.frequency}"


def _rebalance_days(dates: pd.DatetimeIndex, frequency: Frequency) -> np.ndarray:
    """Index 0 and every last trading day of a month/quarter, except the final day."""
    period = dates.to_period("M" if frequency is Frequency.MONTHLY else "Q")
    last_of_period = np.flatnonzero(period[1:] != period[:-1])
    return np.unique(np.concatenate([[0], last_of_period]))


def rebalance_backtest(
    store: PriceStore,
    symbols: list[str],
    method: Method | str = Method.MAX_SHARPE,
    constraints: Constraints | None = None,
    *,
    frequency: Frequency | str = Frequency.MONTHLY,
    lookback_days: int = 252,
    start: date | None = None,
    end: date | None = None,
    cost_bps: float = 0.0,
    slippage_bps: float = 0.0,
    capital: float = 1.0,
    chart_dir: Path | None = None,
) -> RebalanceResult:
    method, frequency = Method(method), Frequency(frequency)
    symbols = [normalise_symbol(s) for s in symbols]
    if len(set(symbols)) != len(symbols):
        raise InvalidInputError(f"duplicate symbols in {', '.join(symbols)}: name each once")
    check_range(start, end)
    if lookback_days < MIN_OBSERVATIONS:
        raise InvalidInputError(f"lookback must be at least {MIN_OBSERVATIONS} trading days")
    check_costs(cost_bps, slippage_bps)
    check_capital(capital)
    frames = [store.load(s, None, end) for s in symbols]
    prices = pd.concat({f.symbol: f.price for f in frames}, axis=1, join="inner")
    if len(symbols) < 2:
        raise InvalidInputError("rebalance needs at least two symbols")
    if lookback_days >= len(prices):
        raise InvalidInputError(
            f"a lookback of {lookback_days} days is longer than the {len(prices)} days "
            f"{', '.join(symbols)} share: use a shorter --lookback"
        )
    if start:
        first = int(np.searchsorted(prices.index, pd.Timestamp(start)))
    else:  # from the first day a full lookback is shared (at least 60 days on short data)
        first = min(lookback_days, max(MIN_OBSERVATIONS, len(prices) - 2))
    if first >= len(prices) - 1:
        raise NoDataError(f"fewer than two common trading days for {', '.join(symbols)} in range")
    if first < MIN_OBSERVATIONS:
        raise NoDataError(
            f"rebalance estimates on the {lookback_days} days before each rebalance; "
            f"{', '.join(symbols)} share only {first} days before "
            f"{prices.index[first].date()} (need ≥ {MIN_OBSERVATIONS}): start later"
        )
    returns = prices.pct_change()
    values = prices.to_numpy()[first:]
    dates = prices.index[first:]
    days = _rebalance_days(dates, frequency)
    n_days, n = values.shape
    held = np.empty((n_days, n))
    turnover = np.zeros(n_days)
    events = []
    drifted = np.zeros(n)
    for k, day in enumerate(days):
        at = first + day
        window = returns.iloc[max(1, at - lookback_days + 1) : at + 1]
        est = estimate(window)
        note = None
        try:
            w, _ = optimize_estimates(est, method, constraints)
        except InfeasibleError as exc:
            if method is not Method.MAX_SHARPE:
                raise
            # Every asset lost money over the lookback: Sharpe has no maximum; hold the
            # least risky mix instead of stopping the whole backtest.
            w, _ = optimize_estimates(est, Method.MIN_VARIANCE, constraints)
            note = f"min-variance used: {exc}"
        stop = days[k + 1] if k + 1 < len(days) else n_days - 1
        if day > 0:
            drifted = held[day]  # drifted weights arriving at this close
        turnover[day] = float(np.abs(w - drifted).sum())
        growth = values[day : stop + 1] / values[day]
        block = w * growth
        held[day : stop + 1] = block / block.sum(axis=1, keepdims=True)  # row 0 is w
        events.append(
            RebalanceEvent(
                date=dates[day].date(),
                weights=dict(zip(symbols, map(float, w), strict=True)),
                turnover=turnover[day],
                note=note,
            )
        )
    r = values[1:] / values[:-1] - 1
    cost = (cost_bps + slippage_bps) / 10_000
    steps = (held[:-1] * r).sum(axis=1) - cost * turnover[:-1]
    invested = held.sum(axis=1)  # fully invested: the weights sum to one
    metrics, curve = summarise_run(steps, invested, _as_dates(dates), capital, trades=len(events))
    result = RebalanceResult(
        symbols=symbols,
        method=method,
        frequency=frequency,
        lookback_days=lookback_days,
        start=dates[0].date(),
        end=dates[-1].date(),
        as_of=dates[-1].date(),
        source="; ".join(sorted({f.source for f in frames})),
        bars=n_days,
        capital=capital,
        cost_bps=cost_bps,
        slippage_bps=slippage_bps,
        metrics=metrics,
        rebalances=events,
        equity_curve=curve,
    )
    if chart_dir is not None:
        result.chart_path = str(write_chart(result, chart_dir))
    return result
