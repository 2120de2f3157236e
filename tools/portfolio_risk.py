"""What a set of holdings risks: value at risk four ways, who carries the risk, and how
past crises and a market shock would have treated it.

Conventions (README, "Analytics"): constant weights; the daily portfolio return is
Σ wᵢ rᵢ of simple close-to-close returns on the days every holding has one. VaR and
CVaR are one-day figures, negative fractions: historical VaR at level α is the (1 − α)
quantile of the portfolio's returns (linear interpolation), CVaR the mean of the
returns at or below it; parametric VaR = μ + z σ (σ with ddof=1, z the normal
quantile); Cornish–Fisher VaR adjusts z for the sample skewness S and excess kurtosis K
(population moments): z + (z² − 1)S/6 + (z³ − 3z)K/24 − (2z³ − 5z)S²/36. A holding's
contribution to risk is wᵢ(Σw)ᵢ / wᵀΣw, fractions that sum to 1. A stress scenario
replays a historical window with the same weights: Π(1 + r_p) − 1 over the returns
after the window's first close; a shock moves each holding by its beta to the market
times the market's move.
"""

from __future__ import annotations

import math
from datetime import date
from statistics import NormalDist

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.errors import InvalidInputError, NoDataError
from tools.performance import TRADING_DAYS

HISTORICAL_SCENARIOS: dict[str, tuple[date, date]] = {
    "black-monday-1987": (date(1987, 10, 13), date(1987, 10, 19)),
    "dot-com-2000": (date(2000, 3, 24), date(2002, 10, 9)),
    "gfc-2008": (date(2007, 10, 9), date(2009, 3, 9)),
    "covid-2020": (date(2020, 2, 19), date(2020, 3, 23)),
    "rates-2022": (date(2022, 1, 3), date(2022, 10, 12)),
}
"""Peak-to-trough windows of the S&P 500 (first and last close)."""
MARKET_SHOCK = -0.20
MIN_DAYS = 20
"""Fewer shared daily returns than this measure no risk: refused with the count."""
WEIGHT_SUM_TOLERANCE = 1e-3
EDGE_DAYS = 7
"""A holding whose prices begin (or end) more than this many days inside a scenario's
window did not trade through it: the scenario is skipped for the portfolio, saying why."""


class VaRLevel(BaseModel):
    level: float = Field(description="Confidence, 0.95 or 0.99.")
    historical: float
    cvar: float = Field(description="Mean of the returns at or below the historical VaR.")
    parametric: float
    cornish_fisher: float


class Contribution(BaseModel):
    symbol: str
    weight: float
    risk_share: float = Field(description="Share of the portfolio's variance; shares sum to 1.")
    beta: float | None = Field(description="To the market benchmark; None without one.")


class StressResult(BaseModel):
    scenario: str
    start: date | None
    end: date | None
    portfolio_return: float | None = Field(description="Fraction; None when skipped.")
    loss: float | None = Field(
        default=None, description="In currency, positive for a loss: −return × value."
    )
    skipped: str | None = Field(default=None, description="Why the scenario could not be run.")


class PortfolioRisk(BaseModel):
    weights: dict[str, float]
    start: date
    end: date
    days: int
    annual_volatility: float
    var: list[VaRLevel]
    contributions: list[Contribution]
    stress: list[StressResult]


def check_weights(weights: dict[str, float]) -> dict[str, float]:
    """Positive weights that sum to 1 (within 0.001), a clear error otherwise."""
    if not weights:
        raise InvalidInputError("no holdings: give SYMBOL=WEIGHT pairs, e.g. AAPL=0.6 KO=0.4")
    bad = [s for s, w in weights.items() if not (math.isfinite(w) and 0 < w <= 1)]
    if bad:
        raise InvalidInputError(
            f"weight of {bad[0]} is {weights[bad[0]]:g}: weights are fractions above 0 "
            "and at most 1"
        )
    total = sum(weights.values())
    if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
        raise InvalidInputError(f"weights sum to {total:.4g}; they must sum to 1")
    return {s: w / total for s, w in weights.items()}


def portfolio_returns(closes: dict[str, pd.Series], weights: dict[str, float]) -> pd.Series:
    returns = pd.concat({s: closes[s].dropna().pct_change() for s in weights}, axis=1).dropna()
    return returns @ pd.Series(weights)


def var_levels(r: np.ndarray, levels: tuple[float, ...] = (0.95, 0.99)) -> list[VaRLevel]:
    mu, sigma = float(r.mean()), float(r.std(ddof=1))
    centred = r - mu
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3) / m2**1.5) if m2 > 0 else 0.0
    kurt = float(np.mean(centred**4) / m2**2 - 3) if m2 > 0 else 0.0
    out = []
    for level in levels:
        z = NormalDist().inv_cdf(1 - level)
        z_cf = (
            z
            + (z**2 - 1) * skew / 6
            + (z**3 - 3 * z) * kurt / 24
            - (2 * z**3 - 5 * z) * skew**2 / 36
        )
        hist = float(np.quantile(r, 1 - level))
        out.append(
            VaRLevel(
                level=level,
                historical=hist,
                cvar=float(r[r <= hist].mean()),
                parametric=mu + z * sigma,
                cornish_fisher=mu + z_cf * sigma,
            )
        )
    return out


def beta(asset: pd.Series, market: pd.Series) -> float | None:
    joined = pd.concat([asset, market], axis=1, join="inner").dropna()
    if len(joined) < 3 or joined.iloc[:, 1].var(ddof=1) <= 0:
        return None
    return float(joined.iloc[:, 0].cov(joined.iloc[:, 1]) / joined.iloc[:, 1].var(ddof=1))


def replay(
    closes: dict[str, pd.Series], weights: dict[str, float], name: str, start: date, end: date
) -> StressResult:
    """The portfolio through one historical window (``closes`` cover at least it)."""
    for symbol in weights:
        series = closes[symbol].dropna()
        window = series[(series.index.date >= start) & (series.index.date <= end)]
        if window.empty or (window.index[0].date() - start).days > EDGE_DAYS:
            since = series.index[0].date() if len(series) else None
            reason = f"{symbol} has no prices from {start}" + (
                f" (its data begins {since})" if since and since > start else ""
            )
            return StressResult(
                scenario=name, start=start, end=end, portfolio_return=None, skipped=reason
            )
        if (end - window.index[-1].date()).days > EDGE_DAYS:
            return StressResult(
                scenario=name,
                start=start,
                end=end,
                portfolio_return=None,
                skipped=f"{symbol}'s prices end {window.index[-1].date()}, before {end}",
            )
    windowed = {s: c[(c.index.date >= start) & (c.index.date <= end)] for s, c in closes.items()}
    r_p = portfolio_returns(windowed, weights)
    return StressResult(
        scenario=name,
        start=start,
        end=end,
        portfolio_return=float(np.prod(1 + r_p.to_numpy()) - 1),
    )


def portfolio_risk(
    closes: dict[str, pd.Series],
    weights: dict[str, float],
    market: pd.Series | None = None,
    history: dict[str, pd.Series] | None = None,
    value: float | None = None,
    known_until: date | None = None,
    market_move: float = MARKET_SHOCK,
) -> PortfolioRisk:
    """``closes``: each holding over the risk window; ``market``: the benchmark over the
    same window (betas and the shock); ``history``: each holding's whole stored series
    (the scenarios); ``value``: the holdings' worth in currency (losses); ``known_until``:
    nothing after this day may be used (a scenario ending later is left out);
    ``market_move``: the market's move of the shock scenario, a fraction."""
    weights = check_weights(weights)
    r_p = portfolio_returns(closes, weights)
    if len(r_p) < MIN_DAYS:
        raise NoDataError(
            f"the holdings share {len(r_p)} daily returns in the window: at least {MIN_DAYS} "
            "are needed to measure risk"
        )
    returns = pd.concat({s: closes[s].dropna().pct_change() for s in weights}, axis=1).dropna()
    cov = returns.cov(ddof=1).to_numpy()
    w = np.array([weights[s] for s in returns.columns])
    variance = float(w @ cov @ w)
    shares = w * (cov @ w) / variance if variance > 0 else np.full(len(w), np.nan)
    market_returns = market.dropna().pct_change() if market is not None else None
    betas = {
        s: beta(returns[s], market_returns) if market_returns is not None else None
        for s in returns.columns
    }
    contributions = [
        Contribution(symbol=s, weight=weights[s], risk_share=float(shares[i]), beta=betas[s])
        for i, s in enumerate(returns.columns)
    ]
    stress = []
    for name, (start, end) in HISTORICAL_SCENARIOS.items():
        if known_until is not None and end > known_until:
            continue  # not yet history on the pinned day: not a scenario anyone knew
        stress.append(replay(history or closes, weights, name, start, end))
    if all(b is not None for b in betas.values()):
        shock = sum(weights[s] * betas[s] * market_move for s in betas)  # type: ignore[operator]
        stress.append(
            StressResult(
                scenario=f"market {market_move:+.0%}", start=None, end=None, portfolio_return=shock
            )
        )
    else:
        stress.append(
            StressResult(
                scenario=f"market {market_move:+.0%}",
                start=None,
                end=None,
                portfolio_return=None,
                skipped="no market benchmark prices for the betas",
            )
        )
    if value is not None:
        for s in stress:
            if s.portfolio_return is not None:
                s.loss = -s.portfolio_return * value
    dates = r_p.index
    return PortfolioRisk(
        weights=weights,
        start=dates[0].date(),
        end=dates[-1].date(),
        days=len(r_p),
        annual_volatility=float(r_p.std(ddof=1) * math.sqrt(TRADING_DAYS)),
        var=var_levels(r_p.to_numpy()),
        contributions=contributions,
        stress=stress,
    )
