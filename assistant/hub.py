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

from assistant.events import ChatEvent, ErrorEvent
from assistant.logs import Throttled
from assistant.resources import redis_client
from assistant.settings import Settings, mask_url_password

QUEUE_LIMIT = 1000
log = logging.getLogger(__name__)
event_adapter: TypeAdapter[ChatEvent] = TypeAdapter(ChatEvent)


class EventHub(Protocol):
    async def publish(self, conversation_id: str, event: ChatEvent) -> None: ...

    def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]: ...

    def subscribers(self, conversation_id: str) -> int:
        """Subscribers in this process (for tests and metrics)."""
        ...

    async def aclose(self) -> None:
        """Release connections (server shutdown)."""
        ...


class LocalEventHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    async def publish(self, conversation_id: str, event: ChatEvent) -> None:
        for queue in list(self._subscribers.get(conversation_id, ())):
            if queue.qsize() < QUEUE_LIMIT:  # a stalled subscriber loses events
                queue.put_nowait(event)

    def open(self, conversation_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers[conversation_id].add(queue)
        return queue

    def close(self, conversation_id: str, queue: asyncio.Queue) -> None:
        self._subscribers[conversation_id].discard(queue)
        if not self._subscribers[conversation_id]:
            del self._subscribers[conversation_id]

    async def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]:
        queue = self.open(conversation_id)
        try:
            while True:
                yield await queue.get()
        finally:
            self.close(conversation_id, queue)

    def subscribers(self, conversation_id: str) -> int:
        return len(self._subscribers.get(conversation_id, ()))

    async def aclose(self) -> None:
        return None


class _Listener:
    """One pub/sub connection per event loop, shared by every watcher in the process.

    A channel is subscribed when its first local watcher arrives and unsubscribed when
    the last one leaves; a reader task hands each message to the local fan-out.
    Releasing never awaits (a watcher may be leaving because it was cancelled), so the
    unsubscribe is a task that re-checks, under the lock, that nobody came back.
    """

    def __init__(self, client, local: LocalEventHub, prefix: str, warn: Throttled) -> None:
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.warn = warn
        self.local, self.prefix = local, prefix
        self.refs: dict[str, int] = defaultdict(int)
        self.lock = asyncio.Lock()
        self.reader: asyncio.Task | None = None
        self._pending: set[asyncio.Task] = set()  # unsubscribes (asyncio keeps weak refs)

    async def acquire(self, channel: str) -> None:
        self.refs[channel] += 1
        if self.refs[channel] == 1:
            try:
                async with self.lock:
                    await self.pubsub.subscribe(channel)
            except BaseException:
                self.release(channel)
                raise
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._read())

    def release(self, channel: str) -> None:
        self.refs[channel] -= 1
        if self.refs[channel] <= 0:
            del self.refs[channel]
            task = asyncio.get_running_loop().create_task(self._unsubscribe(channel))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _unsubscribe(self, channel: str) -> None:
        async with self.lock:
            if channel not in self.refs:
                try:
                    await self.pubsub.unsubscribe(channel)
                except Exception as exc:
                    log.warning("could not unsubscribe %s: %s", channel, exc)

    async def aclose(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        await self.pubsub.aclose()

    async def _read(self) -> None:
        while True:
            try:
                message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # redis-py reconnects and resubscribes on the next read
                self.warn.warning("read", "Redis pub/sub read failed, retrying: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if message and message.get("type") == "message":
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                conversation_id = channel.removeprefix(f"{self.prefix}:")
                try:
                    event = event_adapter.validate_json(message["data"])
                except ValueError:
                    log.warning("ignored a malformed event on %s", channel)
                    continue
                await self.local.publish(conversation_id, event)


class RedisEventHub:
    """One channel per conversation (``<prefix>:<conversation id>``), JSON events, and
    one pub/sub connection per process however many people watch."""

    def __init__(self, url: str, prefix: str = "ma:events") -> None:
        self.url, self.prefix = url, prefix
        self.warn = Throttled(log)
        self.local = LocalEventHub()
        self._clients: dict[asyncio.AbstractEventLoop, object] = {}
        self._listeners: dict[asyncio.AbstractEventLoop, _Listener] = {}

    def _client(self):
        """A client per event loop: asyncio connections cannot cross loops (CLI runs, tests)."""
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients = {lp: c for lp, c in self._clients.items() if not lp.is_closed()}
            self._listeners = {lp: x for lp, x in self._listeners.items() if not lp.is_closed()}
            self._clients[loop] = redis_client(self.url)
        return self._clients[loop]

    def _listener(self) -> _Listener:
        client = self._client()
        loop = asyncio.get_running_loop()
        if loop not in self._listeners:
            self._listeners[loop] = _Listener(client, self.local, self.prefix, self.warn)
        return self._listeners[loop]

    def channel(self, conversation_id: str) -> str:
        return f"{self.prefix}:{conversation_id}"

    async def publish(self, conversation_id: str, event: ChatEvent) -> None:
        try:
            await self._client().publish(self.channel(conversation_id), event.model_dump_json())
        except Exception as exc:  # the turn goes on; only live watchers miss this event
            self.warn.warning(
                "publish", "could not publish to Redis at %s: %s", mask_url_password(self.url), exc
            )

    async def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]:
        listener, channel = self._listener(), self.channel(conversation_id)
        queue = self.local.open(conversation_id)
        try:
            try:
                await listener.acquire(channel)
            except Exception as exc:
                yield ErrorEvent(code="events_unavailable", message=f"cannot watch: {exc}")
                return
            try:
                while True:
                    yield await queue.get()
            finally:
                listener.release(channel)
        finally:
            self.local.close(conversation_id, queue)

    def subscribers(self, conversation_id: str) -> int:
        return self.local.subscribers(conversation_id)

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        listener = self._listeners.pop(loop, None)
        if listener is not None:
            await listener.aclose()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose(close_connection_pool=True)


def event_hub(settings: Settings) -> EventHub:
    return RedisEventHub(settings.redis_url) if settings.redis_url else LocalEventHub()
