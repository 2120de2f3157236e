"""How turns run: one at a time per conversation, apart from whoever asked, drained at
shutdown.

- **Leases.** Turns of one conversation (a question, a resumed run, a late report) run
  one at a time in any number of processes: each claims the conversation's lease row
  (:meth:`Store.claim`) and gives it back with its messages (:meth:`Store.finish_turn`).
  A lease left by a crashed process lapses.
- **Detached tasks.** A turn runs in a task of its own and its events are relayed to
  the asker: a client that goes away stops reading, not the turn, so its answer is still
  stored. A decision's resumed run is detached the same way.
- **Drain.** At shutdown running turns get a grace period, then are interrupted; each
  stores a note that it was (its question was stored when it started).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta

from assistant.events import ChatEvent, ErrorEvent
from assistant.store import Store, utcnow

log = logging.getLogger(__name__)


class BusyConversationError(RuntimeError):
    """Another turn of the conversation held it for longer than a turn may last."""


class Turns:
    def __init__(self, store: Store, turn_timeout_seconds: float) -> None:
        self.store, self.turn_timeout = store, turn_timeout_seconds
        self.lease_seconds = turn_timeout_seconds + 60
        self.failures: dict[str, tuple[str, datetime]] = {}
        """The last failure of each kind (error code), for /readyz."""
        self._running: set[asyncio.Task] = set()
        self._cleanups: set[asyncio.Future] = set()

    # -- leases -----------------------------------------------------------------------

    def expiry(self) -> datetime:
        return utcnow() + timedelta(seconds=self.lease_seconds)

    async def claim(self, conversation_id: str, holder: str) -> None:
        """Wait for the conversation's lease (another turn of it may be running)."""
        deadline = time.monotonic() + self.turn_timeout
        pause = 0.05
        while not await asyncio.to_thread(self.store.claim, conversation_id, holder, self.expiry()):
            if time.monotonic() > deadline:
                raise BusyConversationError(
                    "another turn of this conversation is still running: try again shortly"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    def release(self, conversation_id: str, holder: str) -> None:
        try:
            self.store.release(conversation_id, holder)
        except Exception as exc:  # the lease lapses by itself
            log.error("could not release %s: %s", conversation_id, exc)

    # -- tasks ------------------------------------------------------------------------

    def detach(self, work: Coroutine) -> asyncio.Task:
        """Run ``work`` as a task of its own that its caller going away does not cancel;
        :meth:`drain` waits for it at shutdown."""
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def relay(self, events: AsyncIterator[ChatEvent]) -> AsyncIterator[ChatEvent]:
        """Run a turn detached and relay its events; a bug still ends it with an event."""
        queue: asyncio.Queue = asyncio.Queue()
        done = object()

        async def pump() -> None:
            try:
                async for event in events:
                    if isinstance(event, ErrorEvent):
                        self.failures[event.code] = (event.message, utcnow())
                    queue.put_nowait(event)
            except Exception:
                log.exception("turn failed")
                message = "an internal error ended this turn; it has been logged"
                queue.put_nowait(ErrorEvent(code="internal_error", message=message))
            finally:
                queue.put_nowait(done)

        self.detach(pump())
        while (event := await queue.get()) is not done:
            yield event

    def in_background(self, fn: Callable, *args) -> None:
        """Run cleanup in a thread, even from a task that is being cancelled."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            fn(*args)
            return
        cleanup = loop.run_in_executor(None, _logged(fn), *args)
        self._cleanups.add(cleanup)
        cleanup.add_done_callback(self._cleanups.discard)

    async def drain(self, seconds: float) -> None:
        """Shutdown: wait up to ``seconds`` for running turns, then interrupt the rest."""
        if not self._running:
            return
        _, late = await asyncio.wait(set(self._running), timeout=seconds)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=5)
        if self._cleanups:  # the notes of interrupted turns are being stored
            await asyncio.wait(set(self._cleanups), timeout=5)


def _logged(fn: Callable) -> Callable:
    def run(*args):
        try:
            fn(*args)
        except Exception as exc:
            log.error("cleanup %s failed: %s", fn.__name__, exc)

    return run
