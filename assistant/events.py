"""The events of one chat turn, as the SSE stream, the CLI and Slack show them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class MessageStart(BaseModel):
    type: Literal["message_start"] = "message_start"
    conversation_id: str
    model: str


class TextDelta(BaseModel):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ToolCall(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    args: dict[str, Any]


class ToolResult(BaseModel):
    type: Literal["tool_result"] = "tool_result"
    id: str
    name: str
    summary: str
    ok: bool = Field(True, description="False when the call failed; the summary says why.")
    artifact_url: str | None = None


class CitationEvent(BaseModel):
    type: Literal["citation"] = "citation"
    n: int
    doc_id: str
    title: str
    source: str
    date: date
    snippet: str
    url: str | None = Field(None, description="Where the document can be read, when known.")


class ApprovalRequired(BaseModel):
    type: Literal["approval_required"] = "approval_required"
    approval_id: str
    order: dict[str, Any]
    risk_checks: dict[str, Any]
    expires_at: datetime


class MessageEnd(BaseModel):
    type: Literal["message_end"] = "message_end"
    usage: dict[str, int]
    latency_ms: float


class ErrorEvent(BaseModel):
    type: Literal["error"] = "error"
    code: str
    message: str


ChatEvent = Annotated[
    MessageStart
    | TextDelta
    | ToolCall
    | ToolResult
    | CitationEvent
    | ApprovalRequired
    | MessageEnd
    | ErrorEvent,
    Field(discriminator="type"),
]


class ChatTurn(BaseModel):
    """Everything one turn produced, for `--json` and the non-streaming APIs."""

    conversation_id: str
    model: str
    answer: str
    events: list[ChatEvent] = Field(default_factory=list)
    approvals: list[ApprovalRequired] = Field(default_factory=list)
    error: ErrorEvent | None = None

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [e for e in self.events if isinstance(e, ToolCall)]


async def collect(events: AsyncIterator[ChatEvent]) -> ChatTurn:
    seen: list[ChatEvent] = []
    async for event in events:
        seen.append(event)
    start = next(e for e in seen if isinstance(e, MessageStart))
    return ChatTurn(
        conversation_id=start.conversation_id,
        model=start.model,
        answer="".join(e.text for e in seen if isinstance(e, TextDelta)),
        events=seen,
        approvals=[e for e in seen if isinstance(e, ApprovalRequired)],
        error=next((e for e in seen if isinstance(e, ErrorEvent)), None),
    )
