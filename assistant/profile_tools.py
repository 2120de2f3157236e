"""The agent's risk-profile tools: read the asker's profile, and set it from the
questionnaire's answers or a stated level.

They act for the asker only, so they are neither read-only market tools (MCP and
``/v1/tools`` do not list them) nor orders; the API's ``/v1/profile`` does the same for
programs and the widget.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field
from pydantic_ai import RunContext, ToolFailed
from pydantic_ai.toolsets import FunctionToolset

from assistant.deps import AgentDeps
from assistant.profiles import ProfileStore, ProfileView, RiskProfile
from tools.risk_profile import (
    QUESTIONS,
    Answers,
    Experience,
    Goal,
    Horizon,
    LossTolerance,
    Question,
    RiskLevel,
)


class ProfileUpdate(BaseModel):
    """What setting the profile did: saved, or which questions are still unanswered."""

    saved: bool
    profile: RiskProfile | None = None
    answered: dict[str, str] = Field(default_factory=dict)
    missing: list[Question] = Field(default_factory=list)

    def summary(self) -> str:
        if self.saved and self.profile is not None:
            return f"saved: {self.profile.level}"
        n = len(self.missing)
        return f"{n} question{'s' if n != 1 else ''} to answer"


class ProfileCleared(BaseModel):
    cleared: bool = Field(description="False: there was no profile to clear.")

    def summary(self) -> str:
        return "cleared" if self.cleared else "no profile to clear"


def _store(ctx: RunContext[AgentDeps]) -> ProfileStore:
    if ctx.deps.profiles is None:
        raise ToolFailed("risk profiles are not available here")
    return ctx.deps.profiles


async def get_risk_profile(ctx: RunContext[AgentDeps]) -> ProfileView:
    """Your risk profile (conservative, moderate or aggressive) and what it sets: the
    optimiser's defaults and your largest position in the pre-trade checks; with none
    set, the questionnaire's questions."""
    store = _store(ctx)
    return ProfileView(profile=await asyncio.to_thread(store.get, ctx.deps.user.id))


async def set_risk_profile(
    ctx: RunContext[AgentDeps],
    horizon: Horizon | None = None,
    loss_tolerance: LossTolerance | None = None,
    goal: Goal | None = None,
    experience: Experience | None = None,
    level: RiskLevel | None = None,
) -> ProfileUpdate:
    """Set your risk profile: from all four questionnaire answers (horizon, reaction to
    a 20% fall, goal, experience), or from a level you state. With some answers missing
    nothing is saved and the missing questions come back."""
    store, user = _store(ctx), ctx.deps.user.id
    given = {
        "horizon": horizon,
        "loss_tolerance": loss_tolerance,
        "goal": goal,
        "experience": experience,
    }
    answered = {k: v.value for k, v in given.items() if v is not None}
    if level is not None and not answered:
        profile = await asyncio.to_thread(store.state, user, level)
        return ProfileUpdate(saved=True, profile=profile)
    missing = [q for q in QUESTIONS if given[q.key] is None]
    if missing:
        return ProfileUpdate(saved=False, answered=answered, missing=missing)
    profile = await asyncio.to_thread(store.save, user, Answers.model_validate(given))
    return ProfileUpdate(saved=True, profile=profile, answered=answered)


async def clear_risk_profile(ctx: RunContext[AgentDeps]) -> ProfileCleared:
    """Remove your risk profile: optimisations go back to max-sharpe with no caps, and
    orders are checked against the account's limits alone (an order already proposed
    keeps the cap it was proposed under)."""
    store = _store(ctx)
    return ProfileCleared(cleared=await asyncio.to_thread(store.clear, ctx.deps.user.id))


PROFILE = FunctionToolset([get_risk_profile, set_risk_profile, clear_risk_profile], id="profile")
