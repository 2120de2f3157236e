"""The bodies the API reads and writes: one pydantic model per request and response, so
``/openapi.json`` documents every body and schemathesis can hold the server to it."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator

from assistant.events import ApprovalRequired
from assistant.jobs import JobState
from assistant.results import ApprovalStatus
from retrieval.days import PastDay
from retrieval.models import Document, StoredText
from tools.providers.breaker import BreakerStatus

MODEL_ID = "market-assistant"

# -- errors -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad request",
        401: "Missing or invalid key",
        403: "Role too low",
        404: "Not found",
        405: "Method not allowed (the Allow header lists the methods)",
        408: "Request body too slow",
        409: "Conflict",
        413: "Too large",
        422: "Invalid request",
        429: "Rate limited (Retry-After says when to try again)",
        502: "Model or provider failed",
        503: "Shutting down, or not ready",
        504: "Turn timed out",
    }.items()
}
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events; each data line is a JSON event with a type",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {"type": "string", "description": "a JSON chat event"},
                        "event": {"type": "string"},
                        "id": {"type": "string"},
                    },
                }
            }
        },
    },
}

# -- chat ---------------------------------------------------------------------------------


BLANK = (
    "\t\n\v\f\r \xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000\ufeff")
    + "\x1c\x1d\x1e\x1f\x85"
)
"""JSON Schema's (ECMAScript's) white space and Python's (``str.strip``), so that the
schema's pattern and every check on the server agree on what a blank text is."""
NOT_BLANK = f"^[^\\x00]*[^\\x00{BLANK}][^\\x00]*$"
"""Some character that is neither white space nor NUL (which no store can hold)."""


def not_blank(text: str) -> str:
    """Spaces are not a question (the CLI, Slack and the widget refuse them too)."""
    if not text.strip(BLANK):
        raise ValueError("the message is empty")
    return text


Question = Annotated[
    StoredText,
    AfterValidator(not_blank),
    Field(min_length=1, json_schema_extra={"pattern": NOT_BLANK}),
]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Question
    conversation_id: str | None = Field(None, max_length=100)
    as_of: PastDay | None = Field(
        None, description="Pin the conversation to this date: its tools see nothing later."
    )


class ConversationMessage(BaseModel):
    role: str
    content: str
    created_at: datetime
    meta: dict[str, Any] = Field(description="The turn's events: tool steps, citations, checks.")


class Conversation(BaseModel):
    id: str
    title: str
    model: str
    channel: str
    created_at: datetime
    updated_at: datetime
    messages: list[ConversationMessage]


# -- OpenAI-compatible --------------------------------------------------------------------


class ContentPart(BaseModel):
    """One part of an OpenAI message's content list; only text parts are read."""

    type: str = Field(max_length=50)
    text: StoredText | None = None


TEXT_PART = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "text"}, "text": {"type": "string", "pattern": NOT_BLANK}},
}


class MessageBase(BaseModel):
    def text(self) -> str:
        content = getattr(self, "content", None)
        if isinstance(content, list):
            return " ".join(p.text for p in content if p.type == "text" and p.text)
        return content or ""


class UserMessage(MessageBase):
    """A question: text, or a list of parts at least one of which is non-blank text."""

    role: Literal["user"]
    content: (
        Question | Annotated[list[ContentPart], Field(json_schema_extra={"contains": TEXT_PART})]
    )

    @field_validator("content")
    @classmethod
    def _has_text(cls, content):
        if isinstance(content, list) and not any(
            p.type == "text" and p.text and p.text.strip(BLANK) for p in content
        ):
            raise ValueError("a user message needs a non-blank text part")
        return content


class OtherMessage(MessageBase):
    """System, assistant, tool and developer messages: history (assistant text) or ignored."""

    role: Literal["system", "assistant", "tool", "developer"]
    content: StoredText | list[ContentPart] | None = None


OpenAIMessage = Annotated[UserMessage | OtherMessage, Field(discriminator="role")]
USER_MESSAGE = {"type": "object", "required": ["role"], "properties": {"role": {"const": "user"}}}


class CompletionRequest(BaseModel):
    model: str = MODEL_ID
    messages: list[OpenAIMessage] = Field(
        min_length=1,
        description="The conversation; its last user message is the question, the user and "
        "assistant messages before it the history.",
        json_schema_extra={"contains": USER_MESSAGE},
    )
    stream: StrictBool = False

    @field_validator("messages")
    @classmethod
    def _has_question(cls, messages: list) -> list:
        if not any(m.role == "user" for m in messages):
            raise ValueError("no user message: the last user message is the question")
        return messages

    def question(self) -> tuple[str, list]:
        """The last user message's text, and the messages before it."""
        last = max(i for i, m in enumerate(self.messages) if m.role == "user")
        return self.messages[last].text(), self.messages[:last]


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Completion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[CompletionChoice]
    usage: CompletionUsage
    conversation_id: str | None = None
    approvals: list[ApprovalRequired] = Field(
        default_factory=list, description="Orders the turn proposed, waiting for a person."
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "market-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# -- approvals ----------------------------------------------------------------------------


class Approval(ApprovalRequired):
    status: ApprovalStatus
    requested_by: str
    decided_by: str | None = None
    reason: str | None = None


class RejectRequest(BaseModel):
    reason: StoredText = Field("rejected", max_length=500)


# -- ingest -------------------------------------------------------------------------------


class DocumentIn(Document):
    """A document sent to the API: fields it does not know are refused, not dropped."""

    model_config = ConfigDict(extra="forbid")


class IngestRequest(BaseModel):
    """Send documents, or ``sample: true`` for the bundled sample set (or both)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["sample"], "properties": {"sample": {"const": True}}},
                {"required": ["documents"], "properties": {"documents": {"minItems": 1}}},
            ]
        },
    )

    sample: StrictBool = False
    documents: list[DocumentIn] = Field(default_factory=list, max_length=500)


# -- ops and auth -------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class TurnFailure(BaseModel):
    message: str
    at: datetime


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="Each part: 'ok' or what is wrong.")
    recent_turn_failures: dict[str, TurnFailure]
    price_provider: BreakerStatus | dict[str, str] = Field(
        description="The live price provider's circuit breaker, or {'provider': 'none'}."
    )
    jobs: list[JobState] = Field(
        default_factory=list,
        description="Background jobs (alert sweep, briefings, ingestion): when each runs "
        "next and how its last run ended. A failing job does not make the service unready.",
    )


class Me(BaseModel):
    id: str
    role: str


class LoggedOut(BaseModel):
    logged_out: bool = True
