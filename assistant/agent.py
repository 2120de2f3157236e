"""The agent: one pydantic-ai ``Agent`` over the two toolsets of :mod:`assistant.toolsets`.

A run that reaches ``place_order`` pauses with ``DeferredToolRequests``; the chat
service stores the approvals and resumes the run once every order of that model
response is decided.
"""

from __future__ import annotations

from pydantic_ai import Agent, DeferredToolRequests, RunContext
from pydantic_ai.models import Model

from assistant.deps import AgentDeps
from assistant.toolsets import AGENT_TOOLSETS
from prompts import instructions

PINNED = "This conversation is pinned to {day}"
"""The instruction a pinned turn carries (the offline model reads the date from it)."""


def pinned(ctx: RunContext[AgentDeps]) -> str:
    """A pinned conversation's date: the model must treat it as today."""
    day = ctx.deps.as_of
    if day is None:
        return ""
    return (
        f"{PINNED.format(day=day)}: treat {day} as today. The tools return nothing later "
        "(prices, documents, filings); say in the answer that it is as of that date."
    )


def build_agent(model: Model) -> Agent[AgentDeps, str | DeferredToolRequests]:
    return Agent(
        model,
        deps_type=AgentDeps,
        output_type=[str, DeferredToolRequests],
        instructions=[instructions(), pinned],
        toolsets=list(AGENT_TOOLSETS),
        retries=2,
    )
