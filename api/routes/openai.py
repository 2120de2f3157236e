"""The OpenAI-compatible endpoint: ``POST /v1/chat/completions`` (streamed or not) and
``GET /v1/models``, so OpenAI clients and SDKs can ask questions unchanged."""

import json
import secrets
import time

from fastapi import APIRouter, Request
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart

from api import errors
from api.auth import credential
from api.deps import State, Viewer, check_length
from api.schemas import (
    MODEL_ID,
    SSE_RESPONSE,
    Completion,
    CompletionChoice,
    CompletionMessage,
    CompletionRequest,
    CompletionUsage,
    ModelCard,
    ModelList,
)
from api.streams import event_stream, guarded
from assistant.events import ErrorEvent, MessageEnd, TextDelta, collect

router = APIRouter(prefix="/v1", tags=["openai"])
STATUS_OF_ERROR = {"timeout": 504, "busy": 409, "unauthorized": 401, "shutting_down": 503}


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat completions",
    response_model=Completion,
    responses={200: {"content": SSE_RESPONSE[200]["content"]}},
)
async def completions(body: CompletionRequest, user: Viewer, state: State, request: Request):
    """The last user message is the question; the user and assistant messages before it
    are the history. ``stream: true`` answers in OpenAI's chunk format."""
    question, earlier = body.question()
    check_length(state, question)
    history: list = []
    for m in earlier:
        if m.role == "user":
            history.append(ModelRequest(parts=[UserPromptPart(m.text())]))
        elif m.role == "assistant" and m.text():
            history.append(ModelResponse(parts=[TextPart(m.text())]))
    events = guarded(
        state,
        state.services.chat.stream(question, user, channel="openai", history=history),
        credential(request),
    )
    created, cid = int(time.time()), f"chatcmpl-{secrets.token_hex(8)}"
    if not body.stream:
        turn = await collect(events)
        if turn.error:
            status = STATUS_OF_ERROR.get(turn.error.code, 502)
            return errors.error(status, turn.error.code, turn.error.message)
        usage = next((e.usage for e in turn.events if isinstance(e, MessageEnd)), {})
        prompt, completion = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
        return Completion(
            id=cid,
            created=created,
            choices=[CompletionChoice(message=CompletionMessage(content=turn.answer))],
            usage=CompletionUsage(
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
            ),
            conversation_id=turn.conversation_id,
            approvals=turn.approvals,
        )

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {
            "data": json.dumps(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": MODEL_ID,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
            )
        }

    async def chunks():
        yield chunk({"role": "assistant"})
        async for event in events:
            if isinstance(event, TextDelta):
                yield chunk({"content": event.text})
            elif isinstance(event, ErrorEvent):
                yield chunk({"content": f"\n[error {event.code}: {event.message}]"})
        yield chunk({}, "stop")
        yield {"data": "[DONE]"}

    return event_stream(state, chunks())


@router.get("/models", response_model=ModelList)
async def models(_: Viewer) -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID)])
