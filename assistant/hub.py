"""Fan-out of chat events to whoever watches a conversation.

A decision taken elsewhere (an approver in the API or in Slack) resumes a paused run;
its events reach the subscribers of ``GET /v1/conversations/{id}/events``. With one
process the in-process hub suffices; with several API processes behind a load balancer
the approver's request and the watcher's stream land on different processes, so
``REDIS_URL`` switches to a Redis pub/sub channel per conversation.

Publishing never fails or blocks a turn: a stalled local subscriber loses events, and
an unreachable Redis is logged and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol

from pydantic import TypeAdapter

from assistant.events import ChatEvent
from assistant.settings import Settings

QUEUE_LIMIT = 1000
log = logging.getLogger(__name__)
event_adapter: TypeAdapter[ChatEvent] = TypeAdapter(ChatEvent)


class EventHub(Protocol):
    async def publish(self, conversation_id: str, event: ChatEvent) -> None: ...

    def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]: ...

    def subscribers(self, conversation_id: str) -> int:
        """Subscribers in this process (for tests and metrics)."""
        ...


class LocalEventHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    async def publish(self, conversation_id: str, event: ChatEvent) -> None:
        for queue in list(self._subscribers.get(conversation_id, ())):
            if queue.qsize() < QUEUE_LIMIT:  # a stalled subscriber loses events
                queue.put_nowait(event)

    async def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]:
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers[conversation_id].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[conversation_id].discard(queue)
            if not self._subscribers[conversation_id]:
                del self._subscribers[conversation_id]

    def subscribers(self, conversation_id: str) -> int:
        return len(self._subscribers.get(conversation_id, ()))


class RedisEventHub:
    """One channel per conversation (``<prefix>:<conversation id>``), JSON events.

    Each subscriber holds its own pub/sub connection for as long as it watches, which
    keeps subscribe/unsubscribe trivially correct; watchers are few (people waiting on
    an approval), so connection count is not the constraint.
    """

    def __init__(self, url: str, prefix: str = "ma:events") -> None:
        self.url, self.prefix = url, prefix
        self._clients: dict[asyncio.AbstractEventLoop, object] = {}
        self._local: dict[str, int] = defaultdict(int)

    def _client(self):
        """A client per event loop: asyncio connections cannot cross loops (CLI runs, tests)."""
        from redis.asyncio import Redis

        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients = {lp: c for lp, c in self._clients.items() if not lp.is_closed()}
            self._clients[loop] = Redis.from_url(self.url, socket_timeout=2.0)
        return self._clients[loop]

    def channel(self, conversation_id: str) -> str:
        return f"{self.prefix}:{conversation_id}"

    async def publish(self, conversation_id: str, event: ChatEvent) -> None:
        try:
            await self._client().publish(self.channel(conversation_id), event.model_dump_json())
        except Exception as exc:  # the turn goes on; only live watchers miss this event
            log.warning("could not publish to Redis (%s): %s", self.url, exc)

    async def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]:
        pubsub = self._client().pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel(conversation_id))
        self._local[conversation_id] += 1
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield event_adapter.validate_json(message["data"])
        finally:
            self._local[conversation_id] -= 1
            if not self._local[conversation_id]:
                del self._local[conversation_id]
            await pubsub.aclose()

    def subscribers(self, conversation_id: str) -> int:
        return self._local.get(conversation_id, 0)


def event_hub(settings: Settings) -> EventHub:
    return RedisEventHub(settings.redis_url) if settings.redis_url else LocalEventHub()
