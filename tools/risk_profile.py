"""Risk profiles: a four-question questionnaire, the level it gives, and what the level
sets (the optimiser's defaults and a position cap for the pre-trade checks).

Conventions. Each answer scores 0 (most cautious) to 3; the level follows the total
(0–4 conservative, 5–8 moderate, 9–12 aggressive) and is then capped by *capacity*:
money needed within a year, or a reaction of selling everything after a 20% fall, makes
the profile conservative whatever else was answered, and money needed within three
years makes it at most moderate. Willingness can lower a level; it never raises one
above what the horizon and the reaction to losses allow. Weights and volatilities are
fractions (0.2 = 20%), volatility annualised as everywhere else.
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, Field

from tools.portfolio_inputs import Method


class Horizon(StrEnum):
    UNDER_1Y = "under_1y"
    ONE_TO_3Y = "1_to_3y"
    THREE_TO_10Y = "3_to_10y"
    OVER_10Y = "over_10y"


class LossTolerance(StrEnum):
    SELL_ALL = "sell_all"
    SELL_SOME = "sell_some"
    HOLD = "hold"
    BUY_MORE = "buy_more"


class Goal(StrEnum):
    PRESERVE = "preserve"
    INCOME = "income"
    GROWTH = "growth"
    AGGRESSIVE_GROWTH = "aggressive_growth"


class Experience(StrEnum):
    NONE = "none"
    SOME = "some"
    EXPERIENCED = "experienced"
    PROFESSIONAL = "professional"


class RiskLevel(StrEnum):
    CONSERVATIVE = "conservative"
    MODERATE = "moderate"
    AGGRESSIVE = "aggressive"


class Choice(BaseModel):
    value: str
    label: str


class Question(BaseModel):
    """One question as the CLI, the widget, Slack and the API show it."""

    key: str
    text: str
    choices: list[Choice]


def _choices(enum: type[StrEnum], labels: tuple[str, ...]) -> list[Choice]:
    return [Choice(value=m.value, label=text) for m, text in zip(enum, labels, strict=True)]


QUESTIONS = [
    Question(
        key="horizon",
        text="When will you need most of this money?",
        choices=_choices(
            Horizon, ("within a year", "in 1 to 3 years", "in 3 to 10 years", "in over 10 years")
        ),
    ),
    Question(
        key="loss_tolerance",
        text="If your investments fell 20% in a few months, what would you do?",
        choices=_choices(LossTolerance, ("sell everything", "sell some", "hold on", "buy more")),
    ),
    Question(
        key="goal",
        text="What is the money mainly for?",
        choices=_choices(
            Goal,
            (
                "keeping what I have",
                "a steady income",
                "growth over time",
                "the highest growth, accepting big swings",
            ),
        ),
    ),
    Question(
        key="experience",
        text="How much investing experience do you have?",
        choices=_choices(
            Experience,
            (
                "none",
                "some (funds, a few stocks)",
                "years of picking stocks, through a downturn",
                "professional",
            ),
        ),
    ),
]


class Answers(BaseModel):
    """The questionnaire's answers (all four are needed for a level)."""

    horizon: Horizon
    loss_tolerance: LossTolerance
    goal: Goal
    experience: Experience


class ProfileSettings(BaseModel):
    """What a level sets. ``max_volatility`` None: no target (min-variance needs none: it
    is the calmest mix already)."""

    method: Method
    max_weight: float = Field(gt=0, le=1)
    max_volatility: float | None = Field(None, gt=0)
    max_position_weight: float = Field(
        gt=0, le=1, description="Largest position as a share of equity (a pre-trade check)."
    )


SETTINGS: dict[RiskLevel, ProfileSettings] = {
    RiskLevel.CONSERVATIVE: ProfileSettings(
        method=Method.MIN_VARIANCE, max_weight=0.20, max_volatility=None, max_position_weight=0.10
    ),
    RiskLevel.MODERATE: ProfileSettings(
        method=Method.MAX_SHARPE, max_weight=0.30, max_volatility=0.18, max_position_weight=0.20
    ),
    RiskLevel.AGGRESSIVE: ProfileSettings(
        method=Method.MAX_SHARPE, max_weight=0.50, max_volatility=None, max_position_weight=0.30
    ),
}


class Assessment(BaseModel):
    level: RiskLevel
    score: int | None = Field(None, description="0-12; None when the level was stated.")
    reasons: list[str]


def _points(value: StrEnum) -> int:
    return list(type(value)).index(value)


def _by_score(total: int) -> RiskLevel:
    if total <= 4:
        return RiskLevel.CONSERVATIVE
    return RiskLevel.MODERATE if total <= 8 else RiskLevel.AGGRESSIVE


def assess(answers: Answers) -> Assessment:
    """The level the answers give (see the module docstring for the rule)."""
    total = sum(
        _points(v)
        for v in (answers.horizon, answers.loss_tolerance, answers.goal, answers.experience)
    )
    level = _by_score(total)
    reasons = [f"score {total} of 12 reads {level}"]
    caps = []
    if answers.horizon is Horizon.UNDER_1Y:
        caps.append((RiskLevel.CONSERVATIVE, "the money is needed within a year"))
    elif answers.horizon is Horizon.ONE_TO_3Y:
        caps.append((RiskLevel.MODERATE, "the money is needed within three years"))
    if answers.loss_tolerance is LossTolerance.SELL_ALL:
        caps.append((RiskLevel.CONSERVATIVE, "a 20% fall would be sold out of"))
    order = list(RiskLevel)
    for cap, why in caps:
        if order.index(level) > order.index(cap):
            level = cap
            reasons.append(f"at most {cap}: {why}")
    return Assessment(level=level, score=total, reasons=reasons)


ROOM = 1.5
"""A weight cap leaves the optimiser room only when the stocks could fill 150% of the
portfolio: at exactly 100% (five stocks at 20%) every weight is forced to the cap, an
equal-weight portfolio that may be riskier than the one the cap meant to improve on."""


def effective_max_weight(cap: float, symbols: int) -> float:
    """The profile's weight cap, raised when too few stocks leave the optimiser no room
    (see ROOM), to the nearest percent above."""
    least = math.ceil(ROOM * 100 / max(symbols, 1)) / 100
    return min(1.0, max(cap, least))
