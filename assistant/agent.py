"""The agent: one pydantic-ai ``Agent`` over the two toolsets of :mod:`assistant.toolsets`.

A run that reaches ``place_order`` pauses with ``DeferredToolRequests``; the chat
service stores the approvals and resumes the run once every order of that model
response is decided.
"""

from __future__ import annotations

from pydantic_ai import Agent, DeferredToolRequests
from pydantic_ai.models import Model

from assistant.deps import AgentDeps
from assistant.toolsets import NEEDS_APPROVAL, READ_ONLY
from prompts import instructions


def build_agent(model: Model) -> Agent[AgentDeps, str | DeferredToolRequests]:
    return Agent(
        model,
        deps_type=AgentDeps,
        output_type=[str, DeferredToolRequests],
        instructions=instructions(),
        toolsets=[READ_ONLY, NEEDS_APPROVAL],
        retries=2,
    )
