"""In-process fan-out of chat events to subscribers of a conversation.

A decision taken elsewhere (an approver in the API or Slack) resumes a paused run; its
events reach whoever watches that conversation. One process only: with several API
processes, a Redis pub/sub channel per conversation is the replacement.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

from assistant.events import ChatEvent

QUEUE_LIMIT = 1000


class EventHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def publish(self, conversation_id: str, event: ChatEvent) -> None:
        for queue in list(self._subscribers.get(conversation_id, ())):
            if (
                queue.qsize() < QUEUE_LIMIT
            ):  # a stalled subscriber loses events, never blocks the turn
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
