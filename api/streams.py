"""Server-sent event streams of chat turns, guarded: the turn's timeout, the caller's
key (revoked: the stream stops) and shutdown (a turn may finish within the grace
period, then the stream ends with an error event; a watcher stops at once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse

from api.state import ApiState
from assistant.events import ErrorEvent, MessageEnd, ToolCall

STREAM_RECHECK_SECONDS = 5.0
"""How often an open stream re-checks its caller's key (a revocation takes at most this
plus the key cache's lifetime to stop it)."""


async def guarded(
    state: ApiState, events: AsyncIterator, token: str | None, *, drain: bool = True
) -> AsyncIterator:
    """``events`` with its guards; any end has an event. ``drain``: a turn (it may finish
    during shutdown's grace period, and has a timeout) rather than a watcher."""
    settings, metrics = state.settings, state.metrics
    loop = asyncio.get_running_loop()
    started = loop.time()
    next_check = started + STREAM_RECHECK_SECONDS
    drain_until: float | None = None
    iterator = aiter(events)
    pending: asyncio.Future | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=0.5)
            if pending in done:
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    return
                finally:
                    pending = None
                if isinstance(event, ToolCall):
                    metrics.tool_calls.labels(event.name).inc()
                if isinstance(event, MessageEnd):
                    metrics.tokens.labels("input").inc(event.usage.get("input_tokens", 0))
                    metrics.tokens.labels("output").inc(event.usage.get("output_tokens", 0))
                yield event
            now = loop.time()
            if drain and now - started > settings.turn_timeout_seconds:
                yield ErrorEvent(
                    code="timeout",
                    message=f"the turn took longer than {settings.turn_timeout_seconds}s",
                )
                return
            if state.shutting_down.is_set():
                grace = settings.shutdown_grace_seconds if drain else 0.0
                drain_until = drain_until or now + grace
                if now >= drain_until:
                    yield ErrorEvent(
                        code="shutting_down",
                        message="the server is restarting; your question is kept: ask again",
                    )
                    return
            if now >= next_check:
                next_check = now + STREAM_RECHECK_SECONDS
                if not await state.auth.still_valid(token):
                    yield ErrorEvent(
                        code="unauthorized", message="your key was revoked or your session ended"
                    )
                    return
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        await iterator.aclose()


def event_stream(
    state: ApiState, frames: AsyncIterator[dict], *, drain: bool = True
) -> EventSourceResponse:
    """``frames`` (``{"data": ...}`` dicts) as SSE. sse-starlette's own shutdown handling
    waits a little longer than our drain, so the turn's last event (or the shutdown
    error) is sent before it cancels."""
    grace = state.settings.shutdown_grace_seconds + 2 if drain else 0
    return EventSourceResponse(
        frames, ping=15, shutdown_event=state.shutting_down, shutdown_grace_period=grace
    )


def sse(state: ApiState, events: AsyncIterator, *, drain: bool = True) -> EventSourceResponse:
    """Chat events, one JSON object per ``data`` line."""

    async def frames():
        async for event in events:
            yield {"data": event.model_dump_json()}

    return event_stream(state, frames(), drain=drain)
