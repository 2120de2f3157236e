"""A conversation's messages, its later turns as they happen, and the charts its tools drew."""

import asyncio
import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from sse_starlette import EventSourceResponse

from api.auth import credential
from api.deps import State, Viewer
from api.schemas import SSE_RESPONSE, Conversation, ConversationMessage
from api.streams import guarded, sse

router = APIRouter(tags=["chat"])


@router.get("/v1/conversations/{conversation_id}", response_model=Conversation)
async def conversation(conversation_id: str, user: Viewer, state: State) -> Conversation:
    store = state.services.store
    row = await asyncio.to_thread(store.conversation_for, conversation_id, user)
    messages = await asyncio.to_thread(store.messages, conversation_id)
    return Conversation(
        id=row.id,
        title=row.title,
        model=row.model,
        channel=row.channel,
        created_at=row.created_at,
        updated_at=row.updated_at,
        messages=[
            ConversationMessage(
                role=m.role,
                content=m.content,
                created_at=m.created_at,
                meta=json.loads(m.meta_json),
            )
            for m in messages
        ],
    )


@router.get(
    "/v1/conversations/{conversation_id}/events",
    summary="Server-sent events of every later turn, e.g. a run resumed by an approval",
    response_class=EventSourceResponse,
    responses=SSE_RESPONSE,
)
async def conversation_events(conversation_id: str, user: Viewer, state: State, request: Request):
    await asyncio.to_thread(state.services.store.conversation_for, conversation_id, user)
    watched = state.services.chat.hub.subscribe(conversation_id)
    return sse(state, guarded(state, watched, credential(request), drain=False), drain=False)


@router.get(
    "/v1/artifacts/{name}",
    summary="A chart a tool produced",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}, "description": "The chart"}},
)
async def artifact(name: str, _: Viewer, state: State):
    charts = (state.settings.data_dir / "charts").resolve()
    try:
        path = (charts / name).resolve()
        found = path.parent == charts and path.suffix == ".png" and path.is_file()
    except (ValueError, OSError):  # a NUL or an impossible name
        found = False
    if not found:
        raise HTTPException(404, f"no artifact {name[:100]!r}")
    return FileResponse(path, media_type="image/png")
