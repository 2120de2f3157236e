"""The offline model: the planner and the answer writer hosted by pydantic-ai's
``FunctionModel``. It needs no API key.

On a new question it plans tool calls (or answers at once: a greeting, a question back);
once the results are back it writes the answer from them alone.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import date

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from assistant.models.offline.answer import write_answer
from assistant.models.offline.dates import DateError
from assistant.models.offline.plan import HELP, Planner

PERSONAL = {
    "get_risk_profile",
    "set_risk_profile",
    "clear_risk_profile",
    "get_watchlists",
    "update_watchlist",
    "create_alert",
    "list_alerts",
}
"""Tools about the asker, not the market: their answers cover no period."""

MODEL_NAME = "offline"
PINNED = re.compile(r"This conversation is pinned to (\d{4}-\d{2}-\d{2})")
"""The pinned date in the agent's instructions (see ``assistant.agent.pinned``)."""


def turn(messages: list[ModelMessage]) -> tuple[str, list[str], list[ToolReturnPart]]:
    """The current question, the earlier ones (oldest first), and this turn's results."""
    questions: list[tuple[int, str]] = []
    for i, message in enumerate(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    questions.append((i, part.content))
    if not questions:
        return "", [], []
    index, question = questions[-1]
    returns = [
        p
        for message in messages[index + 1 :]
        if isinstance(message, ModelRequest)
        for p in message.parts
        if isinstance(p, ToolReturnPart)
    ]
    return question, [q for _, q in questions[:-1]], returns


class OfflineModel:
    def __init__(self, planner: Planner) -> None:
        self.planner = planner

    def respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        question, earlier, returns = turn(messages)
        planner, day = self.planner, None
        if pin := PINNED.search(info.instructions or ""):
            day = date.fromisoformat(pin[1])
            planner = planner.pinned(day)
        if returns:
            return ModelResponse(
                parts=[TextPart(self.answer(question, earlier, returns, planner, day))],
                model_name=MODEL_NAME,
            )
        planned = planner.plan(question, earlier)
        if planned.message or not planned.calls:
            return ModelResponse(parts=[TextPart(planned.message or HELP)], model_name=MODEL_NAME)
        calls = [
            ToolCallPart(name, {k: v for k, v in args.items() if v is not None})
            for name, args in planned.calls
        ]
        return ModelResponse(parts=calls, model_name=MODEL_NAME)

    def answer(
        self,
        question: str,
        earlier: list[str],
        returns: list[ToolReturnPart],
        planner: Planner | None = None,
        pinned: date | None = None,
    ) -> str:
        planner = planner or self.planner
        try:
            ask = planner.read(question, earlier)
        except DateError:
            ask = None
        personal = bool(returns) and all(r.tool_name in PERSONAL for r in returns)
        if personal:
            ask = None  # a profile or a watchlist: no period, no prices to fetch
        notes = [planner.missing_note(ask.missing)] if ask and ask.missing else []
        if pinned is not None:
            notes.insert(
                0, f"As of {pinned} (this conversation is pinned to it): nothing later is used."
            )
        if (
            ask is not None
            and ask.intents[0] not in ("opinion",)
            and any(r.tool_name == "place_order" for r in returns)
        ):
            ask = None  # an order's outcome needs no period or verdict
        return write_answer(returns, ask, notes) or HELP

    async def stream(
        self, messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | dict[int, DeltaToolCall]]:
        # planning reads the question with the intent model: CPU work (and, the first
        # time per model cache, seconds of preparing it), never on the event loop
        response = await asyncio.to_thread(self.respond, messages, info)
        if isinstance(response.parts[0], TextPart):
            # sentence-sized pieces: progressive, without an event per word
            for m in re.finditer(r".*?(?:[.:!?\n]\s+|$)", response.parts[0].content, re.S):
                if m.group():
                    yield m.group()
            return
        yield {
            i: DeltaToolCall(
                name=p.tool_name, json_args=json.dumps(p.args), tool_call_id=p.tool_call_id
            )
            for i, p in enumerate(response.parts)
        }

    def function_model(self) -> FunctionModel:
        return FunctionModel(self.respond, stream_function=self.stream, model_name=MODEL_NAME)
