"""The caller's notifications: alert firings and briefings delivered to the widget
channel. Listed after a sequence number, streamed as server-sent events (one JSON
notification per ``data`` line; a reconnecting client passes the last ``seq`` it saw as
``after`` and misses nothing), and marked read."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from api.auth import credential
from api.deps import State, Viewer
from api.schemas import SSE_RESPONSE
from api.streams import guarded, sse
from assistant.notifications import MAX_LISTED, Notification
from tools.alert_rules import Window

router = APIRouter(tags=["notifications"])
POLL_SECONDS = 2.0
"""How often a stream looks for new rows (any process may have delivered them)."""

After = Annotated[int, Query(ge=0, le=10**15, description="Only notifications after this seq.")]


@router.get("/v1/notifications", response_model=list[Notification], summary="Your notifications")
async def notifications(
    user: Viewer,
    state: State,
    after: After = 0,
    unread: Annotated[bool, Query(description="Only those not marked read.")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 50,
) -> list[Notification]:
    return await asyncio.to_thread(state.services.notifications.mine, user.id, after, limit, unread)


@router.get(
    "/v1/notifications/stream",
    summary="Server-sent events of your notifications as they are delivered",
    response_class=EventSourceResponse,
    responses=SSE_RESPONSE,
)
async def notification_stream(user: Viewer, state: State, request: Request, after: After = 0):
    store = state.services.notifications

    async def poll() -> AsyncIterator[Notification]:
        last = after
        while True:
            for item in await asyncio.to_thread(store.mine, user.id, last):
                last = item.seq
                yield item
            await asyncio.sleep(POLL_SECONDS)

    return sse(state, guarded(state, poll(), credential(request), drain=False), drain=False)


class ReadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to: Window = Field(ge=0, le=10**15, description="Mark read every notification to this seq.")


class Marked(BaseModel):
    marked: int


@router.post("/v1/notifications/read", response_model=Marked, summary="Mark notifications read")
async def mark_read(body: ReadBody, user: Viewer, state: State) -> Marked:
    n = await asyncio.to_thread(state.services.notifications.mark_read, user.id, body.up_to)
    return Marked(marked=n)
