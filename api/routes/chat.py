"""``POST /v1/chat``: a question in, the answer as server-sent events."""

import asyncio

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from api.auth import credential
from api.deps import State, Viewer, check_length
from api.schemas import SSE_RESPONSE, ChatRequest
from api.streams import guarded, sse

router = APIRouter(tags=["chat"])


@router.post(
    "/v1/chat",
    summary="Ask a question; server-sent events stream the answer",
    response_class=EventSourceResponse,
    responses=SSE_RESPONSE,
)
async def chat(body: ChatRequest, user: Viewer, state: State, request: Request):
    check_length(state, body.message)
    services = state.services
    conversation = None
    if body.conversation_id:  # a 404 now, before the stream has started
        conversation = await asyncio.to_thread(
            services.store.conversation_for, body.conversation_id, user
        )
    turn = services.chat.stream(body.message, user, conversation, channel="api", as_of=body.as_of)
    return sse(state, guarded(state, turn, credential(request)))
