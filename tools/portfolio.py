"""Long-only (by default) portfolio optimisation with cvxpy and the Clarabel solver.

Expected returns are mean simple daily returns × 252 and the covariance the sample
covariance (ddof=1) × 252, optionally Ledoit–Wolf shrunk. Variance enters every
problem as ``||Lᵀw||²`` with ``Σ = L Lᵀ``: an SOCP that Clarabel solves faster and
more stably than a dense quadratic form. Max-Sharpe uses the Charnes–Cooper
transformation so it stays convex. Infeasible requests are caught before the solver
where they can be (bounds that cannot sum to one) and named either way.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.errors import InvalidInputError, NoDataError
from tools.market_data import PriceStore, check_range, normalise_symbol
from tools.performance import TRADING_DAYS
from tools.portfolio_inputs import (
    Constraints,
    InfeasibleError,
    Method,
    VolatilityTargetError,
    check_feasible,
    check_settings,
)

if TYPE_CHECKING:  # cvxpy takes 1.5 s to import: loaded by the functions that solve
    import cvxpy as cp

MIN_OBSERVATIONS = 60


class FrontierPoint(BaseModel):
    expected_return: float
    volatility: float
    sharpe: float
    weights: dict[str, float]


class PortfolioResult(BaseModel):
    """Optimal weights and what they imply, annualised; fractions throughout."""

    method: Method
    symbols: list[str]
    weights: dict[str, float]
    expected_return: float
    volatility: float
    sharpe: float
    risk_contributions: dict[str, float] = Field(
        description="Each asset's share of portfolio variance; sums to 1."
    )
    risk_free_rate: float
    shrinkage: bool
    observations: int
    start: date
    end: date
    as_of: date
    source: str
    frontier: list[FrontierPoint] | None = None


class Estimates(BaseModel):
    """Annualised inputs of the optimisation, kept as arrays in ``symbols`` order."""

    model_config = {"arbitrary_types_allowed": True}

    symbols: list[str]
    mu: np.ndarray
    cov: np.ndarray
    observations: int
    start: date
    end: date
    source: str


def aligned_returns(
    store: PriceStore, symbols: list[str], start: date | None, end: date | None
) -> tuple[pd.DataFrame, str]:
    """Simple daily returns of ``symbols`` on the dates they all trade."""
    check_range(start, end)
    frames = [store.load(s, start, end) for s in symbols]
    prices = pd.concat({f.symbol: f.price for f in frames}, axis=1, join="inner")
    returns = prices.pct_change().iloc[1:]
    sources = sorted({f.source for f in frames})
    return returns, "; ".join(sources)


def estimate(returns: pd.DataFrame, *, shrinkage: bool = False, source: str = "") -> Estimates:
    if len(returns) < MIN_OBSERVATIONS:
        raise NoDataError(
            f"only {len(returns)} overlapping daily returns for {', '.join(returns.columns)}; "
            f"at least {MIN_OBSERVATIONS} are needed (a wider date range)"
        )
    values = returns.to_numpy()
    if shrinkage:
        from sklearn.covariance import LedoitWolf

        cov = LedoitWolf().fit(values).covariance_ * len(values) / (len(values) - 1)
    else:
        cov = np.cov(values, rowvar=False, ddof=1)
    return Estimates(
        symbols=list(returns.columns),
        mu=values.mean(axis=0) * TRADING_DAYS,
        cov=cov * TRADING_DAYS,
        observations=len(values),
        start=returns.index[0].date(),
        end=returns.index[-1].date(),
        source=source,
    )


class _Problem:
    """Variables and constraints shared by every method (weights ``w`` sum to one)."""

    def __init__(self, est: Estimates, c: Constraints) -> None:
        import cvxpy as cp

        n = len(est.symbols)
        self.est, self.c = est, c
        self.chol = np.linalg.cholesky(est.cov + 1e-12 * np.eye(n))
        self.w = cp.Variable(n)
        self.constraints = [cp.sum(self.w) == 1, *self._limits(self.w, 1)]
        current = np.array([c.current_weights.get(s, 0.0) for s in est.symbols])
        self.turnover = c.turnover_penalty * cp.norm1(self.w - current) if c.turnover_penalty else 0

    def _limits(self, x: cp.Expression, scale: cp.Expression | float) -> list:
        import cvxpy as cp

        c = self.c
        out = [x >= c.min_weight * scale, x <= c.max_weight * scale]
        for sector, cap in c.sector_caps.items():
            members = [i for i, s in enumerate(self.est.symbols) if c.sectors.get(s) == sector]
            out.append(cp.sum(x[members]) <= cap * scale)
        if c.max_volatility is not None:  # ||Lᵀx|| ≤ σ·scale: a cone, convex in (y, κ) too
            out.append(cp.norm(self.chol.T @ x, 2) <= c.max_volatility * scale)
        return out

    def variance(self, x: cp.Expression) -> cp.Expression:
        import cvxpy as cp

        return cp.sum_squares(self.chol.T @ x)


def _solve(problem: cp.Problem, what: str) -> None:
    import cvxpy as cp

    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.SolverError as exc:
        raise InfeasibleError(f"the solver failed on {what}: {exc}") from exc
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise InfeasibleError(
            f"no portfolio satisfies the constraints for {what} ({problem.status})"
        )


def _min_variance(p: _Problem) -> np.ndarray:
    import cvxpy as cp

    _solve(cp.Problem(cp.Minimize(p.variance(p.w) + p.turnover), p.constraints), "min-variance")
    return p.w.value


def _max_sharpe(p: _Problem, rf: float) -> np.ndarray:
    import cvxpy as cp

    if p.c.turnover_penalty:
        raise InvalidInputError("a turnover penalty applies to min-variance and mean-variance")
    excess = p.est.mu - rf
    if excess.max() <= 0:
        raise InfeasibleError(
            "max-sharpe is undefined: no asset's expected return exceeds the risk-free rate "
            f"{rf} over this window; try min-variance"
        )
    y, kappa = cp.Variable(len(excess)), cp.Variable(nonneg=True)
    constraints = [excess @ y == 1, cp.sum(y) == kappa, *p._limits(y, kappa)]
    _solve(cp.Problem(cp.Minimize(p.variance(y)), constraints), "max-sharpe")
    return y.value / kappa.value


def _mean_variance(p: _Problem, target: float | None, risk_aversion: float) -> np.ndarray:
    import cvxpy as cp

    if target is not None:
        best = cp.Problem(cp.Maximize(p.est.mu @ p.w), p.constraints)
        _solve(best, "the highest attainable return")
        if target > best.value + 1e-9:
            raise InfeasibleError(
                f"target return {target:.4g} is above the highest attainable "
                f"{best.value:.4g} under these constraints"
            )
        constraints = [*p.constraints, p.est.mu @ p.w >= target]
        objective = cp.Minimize(p.variance(p.w) + p.turnover)
    else:
        constraints = p.constraints
        objective = cp.Maximize(p.est.mu @ p.w - risk_aversion / 2 * p.variance(p.w) - p.turnover)
    _solve(cp.Problem(objective, constraints), "mean-variance")
    return p.w.value


def _risk_parity(p: _Problem) -> np.ndarray:
    """Equal risk contributions: argmin ½yᵀΣy − (1/n)Σ log yᵢ, then normalise."""
    import cvxpy as cp

    n = len(p.est.symbols)
    y = cp.Variable(n, pos=True)
    objective = cp.Minimize(0.5 * p.variance(y) - cp.sum(cp.log(y)) / n)
    _solve(cp.Problem(objective), "risk-parity")
    w = y.value / y.value.sum()
    c = p.c
    if c.max_volatility is not None and math.sqrt(float(w @ p.est.cov @ w)) > c.max_volatility:
        raise InfeasibleError(
            f"risk-parity weights are fixed by the covariance; their volatility "
            f"{math.sqrt(float(w @ p.est.cov @ w)):.1%} is above the limit {c.max_volatility:.1%}"
        )
    if w.max() > c.max_weight + 1e-6 or w.min() < c.min_weight - 1e-6 or c.sector_caps:
        raise InfeasibleError(
            "risk-parity weights are fixed by the covariance "
            f"(here {w.min():.3f}–{w.max():.3f}); they cannot honour these weight limits"
        )
    return w


def optimize_estimates(
    est: Estimates,
    method: Method | str,
    constraints: Constraints | None = None,
    *,
    risk_free_rate: float = 0.0,
    target_return: float | None = None,
    risk_aversion: float | None = None,
    frontier_points: int = 0,
) -> tuple[np.ndarray, list[FrontierPoint] | None]:
    """``risk_aversion``: mean-variance without a target (default 1)."""
    method = Method(method)
    c = constraints or Constraints()
    for name, value in (("a target return", target_return), ("a risk aversion", risk_aversion)):
        if value is not None and method is not Method.MEAN_VARIANCE:
            raise InvalidInputError(
                f"{name} applies to mean-variance, not {method} (it would be ignored)"
            )
    if risk_aversion is not None and target_return is not None:
        raise InvalidInputError("give a target return or a risk aversion, not both")
    risk_aversion = 1.0 if risk_aversion is None else risk_aversion
    check_settings(target_return, risk_aversion, frontier_points, risk_free_rate)
    check_feasible(est.symbols, c)
    p = _Problem(est, c)
    try:
        if method is Method.MIN_VARIANCE:
            w = _min_variance(p)
        elif method is Method.MAX_SHARPE:
            w = _max_sharpe(p, risk_free_rate)
        elif method is Method.MEAN_VARIANCE:
            w = _mean_variance(p, target_return, risk_aversion)
        else:
            w = _risk_parity(p)
    except InfeasibleError:
        if c.max_volatility is not None and method is not Method.RISK_PARITY:
            _check_volatility(est, c)  # only when it failed: one solve more, not one per run
        raise
    w = _clean(w, c)
    frontier = _frontier(est, c, frontier_points, risk_free_rate) if frontier_points else None
    return w, frontier


def _check_volatility(est: Estimates, c: Constraints) -> None:
    """Name an unreachable volatility limit with the lowest reachable one, instead of the
    solver's bare "infeasible" (raises VolatilityTargetError; returns when the limit is
    reachable and something else made the problem infeasible)."""
    calmest = _min_variance(_Problem(est, c.model_copy(update={"max_volatility": None})))
    lowest = math.sqrt(max(float(calmest @ est.cov @ calmest), 0.0))
    if lowest > c.max_volatility * (1 + 1e-6):
        raise VolatilityTargetError(c.max_volatility, lowest)


def _clean(w: np.ndarray, c: Constraints) -> np.ndarray:
    """Remove solver noise (1e-10 weights) without leaving the feasible set."""
    w = np.where(np.abs(w) < 1e-8, 0.0, w)
    w = np.clip(w, c.min_weight, c.max_weight)
    return w / w.sum()


def _stats(est: Estimates, w: np.ndarray, rf: float) -> tuple[float, float, float]:
    ret = float(est.mu @ w)
    vol = math.sqrt(max(float(w @ est.cov @ w), 0.0))
    return ret, vol, (ret - rf) / vol if vol > 0 else 0.0


def _frontier(est: Estimates, c: Constraints, points: int, rf: float) -> list[FrontierPoint]:
    """Min-variance portfolios for evenly spaced target returns, low to high."""
    import cvxpy as cp

    base = _Problem(est, c)
    low = float(est.mu @ _min_variance(base))
    best = cp.Problem(cp.Maximize(est.mu @ base.w), base.constraints)
    _solve(best, "the frontier's top")
    target = cp.Parameter()
    problem = cp.Problem(
        cp.Minimize(base.variance(base.w)), [*base.constraints, est.mu @ base.w >= target]
    )
    out = []
    for level in np.linspace(low, best.value, max(points, 2)):
        target.value = float(level) - 1e-9
        _solve(problem, "a frontier point")
        w = _clean(base.w.value, c)
        ret, vol, sharpe = _stats(est, w, rf)
        out.append(
            FrontierPoint(
                expected_return=ret,
                volatility=vol,
                sharpe=sharpe,
                weights=dict(zip(est.symbols, map(float, w), strict=True)),
            )
        )
    return out


def optimize(
    store: PriceStore,
    symbols: list[str],
    method: Method | str = Method.MAX_SHARPE,
    constraints: Constraints | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    shrinkage: bool = False,
    risk_free_rate: float = 0.0,
    target_return: float | None = None,
    risk_aversion: float | None = None,
    frontier_points: int = 0,
) -> PortfolioResult:
    """Optimal weights for ``symbols`` estimated on ``[start, end]``; ``risk_aversion``:
    mean-variance without a target (default 1)."""
    method = Method(method)
    symbols = [normalise_symbol(s) for s in symbols]
    check_settings(
        target_return,
        1.0 if risk_aversion is None else risk_aversion,
        frontier_points,
        risk_free_rate,
    )
    check_feasible(symbols, constraints or Constraints())
    returns, source = aligned_returns(store, symbols, start, end)
    est = estimate(returns, shrinkage=shrinkage, source=source)
    w, frontier = optimize_estimates(
        est,
        method,
        constraints,
        risk_free_rate=risk_free_rate,
        target_return=target_return,
        risk_aversion=risk_aversion,
        frontier_points=frontier_points,
    )
    ret, vol, sharpe = _stats(est, w, risk_free_rate)
    marginal = est.cov @ w
    contributions = w * marginal / float(w @ marginal)
    return PortfolioResult(
        method=method,
        symbols=symbols,
        weights=dict(zip(symbols, map(float, w), strict=True)),
        expected_return=ret,
        volatility=vol,
        sharpe=sharpe,
        risk_contributions=dict(zip(symbols, map(float, contributions), strict=True)),
        risk_free_rate=risk_free_rate,
        shrinkage=shrinkage,
        observations=est.observations,
        start=est.start,
        end=est.end,
        as_of=est.end,
        source=source,
        frontier=frontier,
    )
