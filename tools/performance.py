"""Performance measures: one definition used by the backtest, the sweep, walk-forward
and the price summaries.

Conventions (ARCHITECTURE.md): simple daily returns; a year is ``TRADING_DAYS`` = 252
trading days; volatility is the sample standard deviation (ddof=1) × √252; Sharpe and
Sortino use a daily risk-free rate of ``rf / 252`` (0 unless given); equity starts at
1.0 before the first step; max drawdown is a negative fraction measured against that
running peak; VaR and CVaR are 95% one-day figures, negative returns.

Every function takes a matrix of step returns (rows: days, columns: independent runs,
e.g. the parameter sets of a sweep) so a sweep is array arithmetic, not a loop.
"""

from __future__ import annotations

import math

import numpy as np

from tools.errors import InvalidInputError

TRADING_DAYS = 252
"""Trading days in a year: the one annualisation factor of the product."""


def annual_volatility(daily_returns: np.ndarray) -> float | None:
    """Annualised volatility of one series of simple daily returns (None below 2 returns)."""
    values = np.asarray(daily_returns, dtype="float64")
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return None
    return float(values.std(ddof=1) * math.sqrt(TRADING_DAYS))


def window_measures(closes: np.ndarray) -> tuple[float, float, float | None]:
    """Return, maximum drawdown (a fraction <= 0) and Sharpe ratio (annualised, risk-free
    rate 0; None below 2 returns or with no movement) from ``closes[0]`` to
    ``closes[-1]``. ``closes[0]`` is the base: the close before the window when there is
    one, so that a calendar year's return runs from the previous year's last close, as
    index providers and fund factsheets count it."""
    values = np.asarray(closes, dtype="float64")
    steps = values[1:] / values[:-1] - 1
    drawdown = float((values / np.maximum.accumulate(values) - 1).min())
    sharpe = None
    if len(steps) >= 2 and steps.std(ddof=1) > 0:
        sharpe = float(steps.mean() / steps.std(ddof=1) * math.sqrt(TRADING_DAYS))
    return float(values[-1] / values[0] - 1), drawdown, sharpe


def ranking_measures(steps: np.ndarray, rf: float = 0.0) -> dict[str, np.ndarray]:
    """What a sweep ranks by, per column: total return, CAGR, Sharpe, max drawdown."""
    n = steps.shape[0]
    growth = np.cumprod(1 + steps, axis=0)
    final = growth[-1]
    peak = np.maximum.accumulate(np.maximum(growth, 1.0), axis=0)  # equity starts at 1
    std = steps.std(axis=0, ddof=1)
    excess = steps.mean(axis=0) - rf / TRADING_DAYS
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sharpe = np.where(std > 0, excess / std * math.sqrt(TRADING_DAYS), 0.0)
        cagr = np.where(final > 0, final ** (TRADING_DAYS / n) - 1, -1.0)
    return {
        "total_return": final - 1,
        "cagr": cagr,
        "sharpe": sharpe,
        "max_drawdown": np.minimum((growth / peak).min(axis=0) - 1, 0.0),
    }


def full_measures(steps: np.ndarray, rf: float = 0.0) -> dict[str, np.ndarray]:
    """Every measure a backtest reports, per column, plus the equity and drawdown paths
    (``equity`` has one more row than ``steps``: the starting 1.0)."""
    out = ranking_measures(steps, rf)
    equity = np.vstack([np.ones((1, steps.shape[1])), np.cumprod(1 + steps, axis=0)])
    drawdown = equity / np.maximum.accumulate(equity, axis=0) - 1
    std = steps.std(axis=0, ddof=1)
    excess = steps.mean(axis=0) - rf / TRADING_DAYS
    downside = np.sqrt(np.mean(np.minimum(steps, 0.0) ** 2, axis=0))
    mdd = out["max_drawdown"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["sortino"] = np.where(downside > 0, excess / downside * math.sqrt(TRADING_DAYS), 0.0)
        out["calmar"] = np.where(mdd < 0, out["cagr"] / np.abs(mdd), 0.0)
    var = np.quantile(steps, 0.05, axis=0)
    out.update(
        annual_volatility=std * math.sqrt(TRADING_DAYS),
        max_drawdown_duration=longest_underwater(drawdown),
        var_95=var,
        cvar_95=np.nanmean(np.where(steps <= var, steps, np.nan), axis=0),
        final_equity=equity[-1],
        equity=equity,
        drawdown=drawdown,
    )
    return out


def longest_underwater(drawdown: np.ndarray) -> np.ndarray:
    """Longest run of consecutive days below the running peak, per column (no loop over days)."""
    under = drawdown < 0
    count = np.cumsum(under, axis=0)
    reset = np.where(~under, count, 0)
    run = count - np.maximum.accumulate(reset, axis=0)
    return run.max(axis=0)


MAX_CAPITAL = 1e12
"""Larger starting equity overflows nothing, but no account holds it: a typo, said so."""


def check_capital(capital: float) -> None:
    if not (math.isfinite(capital) and 0 < capital <= MAX_CAPITAL):
        raise InvalidInputError(
            f"capital must be a number above 0 and at most {MAX_CAPITAL:,.0f}, got {capital:g}"
        )


def check_risk_free_rate(rate: float) -> None:
    """An annual fraction: 0.04 is 4%. Beyond ±100% a year it is a percent typed as a
    fraction, or NaN, which would poison every Sharpe ratio."""
    if not (math.isfinite(rate) and -1 < rate < 1):
        raise InvalidInputError(
            f"risk-free rate {rate:g} must be an annual fraction between -1 and 1 (0.04 is 4%)"
        )
