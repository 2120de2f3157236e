"""Orders waiting in a conversation's history: which calls are open, and what to tell
the run about them.

A run pauses on the ``place_order`` calls of one model response. They stay open in the
stored history until every one of them is decided; then the run resumes with all the
outcomes at once (pydantic-ai needs a result for each). A new question may arrive
while some still wait: its run closes the open calls with their outcome as it stands
(``pending`` for those still waiting), so the conversation never blocks. A decision
that arrives after that is written into the history in place of the ``pending``
outcome, and reported to the conversation as a message of its own.
"""

from __future__ import annotations

from pydantic_ai import DeferredToolResults, ToolDenied
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ToolCallPart,
    ToolReturnPart,
)

from assistant.results import OrderOutcome
from assistant.toolsets import read_result


def open_calls(history: list[ModelMessage]) -> list[ToolCallPart]:
    """Tool calls of the last model response that have no result yet."""
    last = next(
        (i for i in range(len(history) - 1, -1, -1) if isinstance(history[i], ModelResponse)),
        None,
    )
    if last is None:
        return []
    answered = {
        p.tool_call_id
        for m in history[last + 1 :]
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, ToolReturnPart)
    }
    return [
        p
        for p in history[last].parts
        if isinstance(p, ToolCallPart) and p.tool_call_id not in answered
    ]


def results_for(
    calls: list[ToolCallPart], outcomes: dict[str, OrderOutcome]
) -> DeferredToolResults:
    """Each open call's outcome as the run reads it (``place_order`` returns it as is)."""
    approvals: dict[str, bool | ToolDenied] = {}
    metadata: dict[str, dict] = {}
    for call in calls:
        outcome = outcomes.get(call.tool_call_id)
        if outcome is None:  # no approval was recorded for it: it never reached a broker
            approvals[call.tool_call_id] = ToolDenied("no approval was recorded: not executed")
            continue
        approvals[call.tool_call_id] = True
        metadata[call.tool_call_id] = {"outcome": outcome.model_dump(mode="json")}
    return DeferredToolResults(approvals=approvals, metadata=metadata)


def waiting_returns(history: list[ModelMessage]) -> dict[str, ToolReturnPart]:
    """``place_order`` results that were not final (pending, or approved and on its way to
    the broker) when a later question closed them."""
    found = {}
    for message in history:
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            if isinstance(part, ToolReturnPart) and part.tool_name == "place_order":
                outcome = read_result(part)
                if isinstance(outcome, OrderOutcome) and not outcome.status.final:
                    found[part.tool_call_id] = part
    return found
