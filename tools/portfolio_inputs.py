"""What a portfolio optimisation is asked for, and the checks that refuse impossible or
contradictory requests before a solver sees them (bounds that cannot sum to one, caps for
sectors nobody is in, settings a method would ignore): each refusal names the problem.
Weights are fractions of the portfolio."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from tools.errors import InvalidInputError, ToolError
from tools.performance import check_risk_free_rate


class Method(StrEnum):
    MAX_SHARPE = "max-sharpe"
    MIN_VARIANCE = "min-variance"
    RISK_PARITY = "risk-parity"
    MEAN_VARIANCE = "mean-variance"


class InfeasibleError(ToolError):
    """The constraints admit no portfolio."""


class VolatilityTargetError(InfeasibleError):
    """No mix of the symbols is as calm as the volatility limit asks."""

    def __init__(self, limit: float, lowest: float) -> None:
        super().__init__(
            f"no mix of these stocks has volatility as low as {limit:.1%} over this window "
            f"(the lowest is {lowest:.1%})"
        )
        self.limit, self.lowest = limit, lowest


Fraction = Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]


class Constraints(BaseModel):
    """Weight limits; every weight is a fraction of the portfolio."""

    min_weight: float = Field(0.0, ge=-1.0, le=1.0, allow_inf_nan=False)
    max_weight: float = Field(1.0, gt=0.0, le=1.0, allow_inf_nan=False)
    sectors: dict[str, str] = Field(default_factory=dict, description="symbol -> sector")
    sector_caps: dict[str, Fraction] = Field(
        default_factory=dict, description="sector -> max weight"
    )
    current_weights: dict[str, Fraction] = Field(default_factory=dict)
    turnover_penalty: float = Field(
        0.0, ge=0.0, allow_inf_nan=False, description="λ in λ·Σ|w - current|."
    )
    max_volatility: float | None = Field(
        None,
        gt=0.0,
        le=5.0,
        allow_inf_nan=False,
        description="Annualised volatility the portfolio may not exceed (a risk profile's "
        "target); None: no limit.",
    )


def check_feasible(symbols: list[str], c: Constraints) -> None:
    n = len(symbols)
    if n < 2:
        raise InvalidInputError("optimisation needs at least two symbols")
    if len(set(symbols)) != n:
        raise InvalidInputError(f"duplicate symbols in {', '.join(symbols)}")
    if c.min_weight > c.max_weight:
        raise InvalidInputError(
            f"the minimum weight {c.min_weight} is above the maximum weight {c.max_weight}"
        )
    if c.max_weight * n < 1 - 1e-12:
        raise InfeasibleError(
            f"infeasible: a cap of {c.max_weight:.2%} on each of {n} stocks adds up to "
            f"{c.max_weight * n:.2%}, short of 100%; allow at least {math.ceil(10000 / n) / 100:.2f}% "
            "each, or add stocks"
        )
    if c.min_weight * n > 1 + 1e-12:
        raise InfeasibleError(
            f"infeasible: min weight {c.min_weight} × {n} assets = {c.min_weight * n:.4g} > 1"
        )
    unknown = set(c.sector_caps) - set(c.sectors.values())
    if unknown:
        raise InvalidInputError(f"sector caps for sectors no symbol belongs to: {sorted(unknown)}")
    negative = sorted(sec for sec, cap in c.sector_caps.items() if cap < 0)
    if negative:
        raise InvalidInputError(
            f"a sector cap is a fraction between 0 and 1; {', '.join(negative)} has "
            f"{c.sector_caps[negative[0]]}"
        )
    strangers = sorted(set(c.sectors) - set(symbols))
    if strangers:
        raise InvalidInputError(f"sectors given for symbols not optimised: {', '.join(strangers)}")
    held = sorted(set(c.current_weights) - set(symbols))
    if held:
        raise InvalidInputError(
            f"current weights for symbols not optimised: {', '.join(held)} (name them too)"
        )
    if c.current_weights and not c.turnover_penalty:
        raise InvalidInputError(
            "current weights only matter with a turnover penalty (they would be ignored)"
        )
    if c.sector_caps:
        by_sector = {
            sec: min(cap, c.max_weight * sum(1 for s in symbols if c.sectors.get(s) == sec))
            for sec, cap in c.sector_caps.items()
        }
        uncapped = c.max_weight * sum(1 for s in symbols if c.sectors.get(s) not in c.sector_caps)
        capacity = sum(by_sector.values()) + uncapped
        if capacity < 1 - 1e-9:
            raise InfeasibleError(
                f"infeasible: sector caps and max weight allow at most {capacity:.4g} in total"
            )


MAX_FRONTIER_POINTS = 200


MAX_RISK_AVERSION = 1e6
"""Beyond it the return term vanishes against the variance term (min-variance), and the
solver's numerics fail."""


def check_settings(
    target: float | None, risk_aversion: float, frontier_points: int, risk_free_rate: float
) -> None:
    check_risk_free_rate(risk_free_rate)
    if target is not None and not (math.isfinite(target) and -1 < target < 10):
        raise InvalidInputError(f"target return {target} must be a fraction between -1 and 10")
    if not (math.isfinite(risk_aversion) and 0 < risk_aversion <= MAX_RISK_AVERSION):
        raise InvalidInputError(
            f"risk aversion {risk_aversion} must be above 0 and at most {MAX_RISK_AVERSION:,.0f}"
        )
    if not 0 <= frontier_points <= MAX_FRONTIER_POINTS:
        raise InvalidInputError(
            f"frontier points must be between 0 and {MAX_FRONTIER_POINTS}, got {frontier_points}"
        )
