"""Risk profiles stored per user, and what a profile does to the optimiser's defaults.

A user answers the questionnaire (:mod:`tools.risk_profile`) or states a level; the row
is keyed by the user id every front door already uses (``key:…``, ``session:…``,
``slack:U…``, ``local``). The level sets two things: the defaults of a portfolio
optimisation (each setting the asker did not give) and a position cap that joins the
pre-trade checks of every order the user requests (:mod:`assistant.approvals`).
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel

from assistant.schema import ensure_schema
from assistant.store import utcnow
from tools.portfolio_inputs import Method
from tools.risk import PositionCap
from tools.risk_profile import (
    QUESTIONS,
    SETTINGS,
    Answers,
    ProfileSettings,
    Question,
    RiskLevel,
    assess,
    effective_max_weight,
)


class RiskProfileRow(SQLModel, table=True):
    __tablename__ = "risk_profiles"

    user_id: str = Column(primary_key=True)
    level: str
    answers_json: str | None = None
    score: int | None = None
    reasons_json: str = "[]"
    updated_at: datetime = Column(default_factory=utcnow)


class RiskProfile(BaseModel):
    """A user's profile and what it sets."""

    user_id: str
    level: RiskLevel
    answers: Answers | None = Field(None, description="None: the level was stated, not scored.")
    score: int | None = None
    reasons: list[str] = Field(default_factory=list)
    settings: ProfileSettings
    updated_at: datetime

    def summary(self) -> str:
        return f"{self.level} risk profile"

    def cap(self) -> PositionCap:
        return PositionCap(profile=self.level.value, max_weight=self.settings.max_position_weight)


class ProfileView(BaseModel):
    """The caller's profile (None: not set yet) and the questions that set one."""

    profile: RiskProfile | None
    questions: list[Question] = Field(default_factory=lambda: list(QUESTIONS))

    def summary(self) -> str:
        return self.profile.summary() if self.profile else "no risk profile yet"


def _profile(row: RiskProfileRow) -> RiskProfile:
    level = RiskLevel(row.level)
    return RiskProfile(
        user_id=row.user_id,
        level=level,
        answers=Answers.model_validate_json(row.answers_json) if row.answers_json else None,
        score=row.score,
        reasons=json.loads(row.reasons_json),
        settings=SETTINGS[level],
        updated_at=row.updated_at,
    )


class ProfileStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def get(self, user_id: str) -> RiskProfile | None:
        with Session(self.engine) as s:
            row = s.get(RiskProfileRow, user_id)
            return _profile(row) if row is not None else None

    def cap(self, user_id: str) -> PositionCap | None:
        """The user's position cap for the pre-trade checks (None: no profile)."""
        profile = self.get(user_id)
        return profile.cap() if profile is not None else None

    def save(self, user_id: str, answers: Answers) -> RiskProfile:
        """Score the answers and keep them (replacing any earlier profile)."""
        assessment = assess(answers)
        return self._put(
            user_id,
            assessment.level,
            answers.model_dump_json(),
            assessment.score,
            assessment.reasons,
        )

    def state(self, user_id: str, level: RiskLevel) -> RiskProfile:
        """A level the user states without the questionnaire ("I'm a conservative
        investor"): kept as said, and marked as stated."""
        return self._put(user_id, level, None, None, ["stated by the user"])

    def _put(
        self,
        user_id: str,
        level: RiskLevel,
        answers: str | None,
        score: int | None,
        reasons: list[str],
    ) -> RiskProfile:
        with Session(self.engine) as s:
            row = s.get(RiskProfileRow, user_id) or RiskProfileRow(user_id=user_id, level="")
            row.level, row.answers_json, row.score = level.value, answers, score
            row.reasons_json, row.updated_at = json.dumps(reasons), utcnow()
            s.add(row)
            s.commit()
            s.refresh(row)
            return _profile(row)

    def clear(self, user_id: str) -> bool:
        with Session(self.engine) as s:
            row = s.get(RiskProfileRow, user_id)
            if row is None:
                return False
            s.delete(row)
            s.commit()
            return True


class OptimiserDefaults(BaseModel):
    """An optimisation's settings after the profile filled what the asker left out."""

    method: Method
    max_weight: float
    max_volatility: float | None
    profile: RiskLevel | None = None
    applied: list[str] = Field(
        default_factory=list, description="What the profile set, in words, for the answer."
    )


def optimiser_defaults(
    profile: RiskProfile | None,
    symbols: int,
    method: Method | None = None,
    max_weight: float | None = None,
    max_volatility: float | None = None,
) -> OptimiserDefaults:
    """Each setting given wins; each one left out comes from the profile (without one,
    max-sharpe, no weight cap and no volatility limit, as before profiles)."""
    if profile is None:
        return OptimiserDefaults(
            method=method or Method.MAX_SHARPE,
            max_weight=max_weight or 1.0,
            max_volatility=max_volatility,
        )
    s, applied = profile.settings, []
    if method is None:
        method = s.method
        applied.append(f"method {method}")
    if method is Method.RISK_PARITY:  # its weights are fixed by the covariance: no caps
        return OptimiserDefaults(
            method=method,
            max_weight=max_weight or 1.0,
            max_volatility=max_volatility,
            profile=profile.level if applied else None,
            applied=applied,
        )
    if max_weight is None:
        max_weight = effective_max_weight(s.max_weight, symbols)
        raised = (
            ""
            if max_weight == s.max_weight
            else f" (raised from {s.max_weight:.0%}: with {symbols} stocks that cap would "
            "fix every weight)"
        )
        applied.append(f"each stock at most {max_weight:.0%}{raised}")
    if (
        max_volatility is None
        and s.max_volatility is not None
        and method in (Method.MAX_SHARPE, Method.MEAN_VARIANCE)
    ):
        max_volatility = s.max_volatility  # min-variance is already the calmest mix
        applied.append(f"volatility at most {max_volatility:.0%}")
    return OptimiserDefaults(
        method=method,
        max_weight=max_weight,
        max_volatility=max_volatility,
        profile=profile.level if applied else None,
        applied=applied,
    )
