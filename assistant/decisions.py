"""Decisions on approvals, as the API, Slack, the CLI and the server's sweep take them.

The synchronous :class:`ApprovalService` decides and executes in a worker thread (the
broker may be an HTTP API; the checks read the database), then the conversation is
brought up to date (:meth:`ChatService.settle`) and every listener hears the outcome
(e.g. the Slack thread the order came from), whoever decided and wherever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from pydantic import BaseModel

from assistant.approvals import ApprovalService, ClosedError
from assistant.auth import User
from assistant.chat import ChatService
from assistant.events import ChatTurn
from assistant.results import ApprovalStatus
from assistant.store import ApprovalRow, utcnow
from tools.orders import BrokerOrder

log = logging.getLogger(__name__)


class Decision(BaseModel):
    approval_id: str
    status: ApprovalStatus
    reason: str | None = None
    decided_by: str | None = None
    broker_order: BrokerOrder | None = None
    turn: ChatTurn | None = None
    """The conversation's next turn, when this decision completed its model response."""

    @classmethod
    def of(cls, row: ApprovalRow, turn: ChatTurn | None = None) -> Decision:
        placed = row.broker_order_json
        return cls(
            approval_id=row.id,
            status=ApprovalStatus(row.status),
            reason=row.reason,
            decided_by=row.decided_by or "system",
            broker_order=BrokerOrder.model_validate_json(placed) if placed else None,
            turn=turn,
        )


Listener = Callable[[ApprovalRow, Decision], Awaitable[None]]


class Decisions:
    def __init__(self, approvals: ApprovalService, chat: ChatService) -> None:
        self.approvals, self.chat = approvals, chat
        self.listeners: list[Listener] = []

    async def approve(self, approval_id: str, user: User, wait: float | None = None) -> Decision:
        """Raises ForbiddenError, NotFoundError, ConflictError (ClosedError: expired, or
        its requester may no longer trade; the conversation hears of it first). ``wait``:
        see :meth:`_after`."""
        try:
            row = await asyncio.to_thread(self.approvals.approve, approval_id, user)
        except ClosedError as exc:
            await self._after(exc.row, wait)
            raise
        return await self._after(row, wait)

    async def reject(
        self, approval_id: str, user: User, reason: str = "rejected", wait: float | None = None
    ) -> Decision:
        try:
            row = await asyncio.to_thread(self.approvals.reject, approval_id, user, reason)
        except ClosedError as exc:
            await self._after(exc.row, wait)
            raise
        return await self._after(row, wait)

    async def expire_due(self, wait: float | None = None) -> list[Decision]:
        rows = await asyncio.to_thread(self.approvals.expire_due)
        return [await self._after(row, wait) for row in rows]

    async def reconcile(self, wait: float | None = None) -> list[Decision]:
        rows = await asyncio.to_thread(self.approvals.reconcile)
        return [await self._after(row, wait) for row in rows]

    async def catch_up(self, hours: float = 6.0) -> int:
        """Settle the conversations whose update did not happen when their order was
        decided (a long turn held the conversation, a process stopped): the sweep calls
        this. Returns how many were brought up to date."""
        since = utcnow() - timedelta(hours=hours)
        settled = 0
        for conversation_id in await asyncio.to_thread(
            self.approvals.store.recently_decided, since
        ):
            try:
                if await asyncio.to_thread(self.chat.due, conversation_id):
                    await self.chat.settle(conversation_id)
                    settled += 1
            except Exception as exc:  # busy now: the next sweep tries again
                log.info("conversation %s not settled yet: %s", conversation_id, exc)
        return settled

    async def _after(self, row: ApprovalRow, wait: float | None = None) -> Decision:
        """Resume or update the conversation, then tell the listeners, in a task of its
        own: a decider who disconnects does not cut the resumed run short. Waits for it
        at most ``wait`` seconds (None: until done); a conversation busy with a long turn
        then gets its update in the background, and the decision comes back without it."""
        if row.status == ApprovalStatus.PENDING:  # expired by someone else meanwhile
            return Decision.of(row)
        task = self.chat.turns.detach(self._settle_and_announce(row))
        done, _ = await asyncio.wait({task}, timeout=wait)
        return task.result() if done else Decision.of(row)

    async def _settle_and_announce(self, row: ApprovalRow) -> Decision:
        """Neither step can undo the decision, which is stored: a failure is logged."""
        turn = None
        try:
            turn = await self.chat.settle(row.conversation_id)
        except Exception:
            log.exception("could not bring conversation %s up to date", row.conversation_id)
        decision = Decision.of(row, turn)
        for listener in self.listeners:
            try:
                await listener(row, decision)
            except Exception:  # a notification failing never undoes or hides the decision
                log.exception("approval listener failed for %s", row.id)
        return decision
