"""The only path by which an order reaches a broker.

The agent proposes (``place_order`` pauses the run) -> pre-trade checks run and a
pending approval with an expiry is stored -> a person with the approver role (not the
requester when four-eyes is on) approves -> an atomic pending->approved transition ->
the checks run again -> the broker gets ``client_order_id`` = approval id (idempotent)
-> the paused run resumes and reports the outcome. Rejection, expiry, failed checks and
broker errors each end in a stored state, and every transition is in the audit log. An
approval left "approved" by a crash is reconciled on start with the same client id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from pydantic import BaseModel
from pydantic_ai import DeferredToolRequests, DeferredToolResults, ToolDenied

from assistant.agent import order_from_tool_args
from assistant.auth import Role, User
from assistant.chat import ChatService, ChatTurn
from assistant.events import ApprovalRequired
from assistant.settings import Settings
from assistant.store import ApprovalRow, Store, new_id, utcnow
from tools.broker import Broker
from tools.errors import ToolError
from tools.market_data import PriceStore
from tools.orders import BrokerOrder, Order
from tools.risk import Account, RiskLimits, RiskReport, check_order


class ForbiddenError(ToolError):
    """The user's role (or four-eyes) does not allow this."""


class ConflictError(ToolError):
    """The approval is no longer pending (decided, expired or executed)."""


log = logging.getLogger(__name__)
PENDING, APPROVED, EXECUTED = "pending", "approved", "executed"
REJECTED, EXPIRED, FAILED_CHECKS, BROKER_ERROR = (
    "rejected",
    "expired",
    "failed_checks",
    "broker_error",
)


class Decision(BaseModel):
    approval_id: str
    status: str
    reason: str | None = None
    decided_by: str | None = None
    broker_order: BrokerOrder | None = None
    turn: ChatTurn | None = None


class ApprovalService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        prices: PriceStore,
        broker_factory: Callable[[], Broker],
        limits: RiskLimits,
        chat: ChatService,
    ) -> None:
        self.settings, self.store, self.prices = settings, store, prices
        self.broker_factory, self.limits, self.chat = broker_factory, limits, chat
        chat.on_approvals = self.create_all
        # Told of every final decision, whoever took it and wherever (API, CLI, Slack,
        # expiry, reconcile): e.g. the Slack thread the order came from hears the outcome.
        self.listeners: list[Callable[[ApprovalRow, Decision], Awaitable[None]]] = []

    # -- proposing --------------------------------------------------------------------

    def risk(self, order: Order) -> RiskReport:
        broker = self.broker_factory()
        account = broker.account()
        positions = {p.symbol: p.quantity for p in broker.positions()}
        prices = {}
        for symbol in {order.symbol, *positions}:
            if self.prices.exists(symbol):
                prices[symbol] = float(self.prices.load(symbol).price.iloc[-1])
        midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        orders_today = self.store.decided_since(EXECUTED, midnight)
        snapshot = Account(
            cash=account.cash, positions=positions, prices=prices, orders_today=orders_today
        )
        return check_order(order, snapshot, self.limits)

    def create_all(
        self, conversation_id: str, requests: DeferredToolRequests, user: User
    ) -> list[ApprovalRequired]:
        out = []
        for call in requests.approvals:
            args = call.args_as_dict()
            try:
                order = order_from_tool_args(**args)
            except (TypeError, ValueError) as exc:  # missing or wrong arguments
                order = None
                report = None
                reason = f"invalid order: {exc}"
            else:
                report, reason = self.risk(order), None
            row = ApprovalRow(
                id=new_id("appr"),
                conversation_id=conversation_id,
                tool_call_id=call.tool_call_id,
                order_json=(order.model_dump_json() if order else json.dumps(args)),
                risk_json=(
                    report.model_dump_json()
                    if report
                    else json.dumps({"passed": False, "checks": []})
                ),
                requested_by=user.id,
                status=PENDING,
                reason=reason,
                expires_at=utcnow() + timedelta(minutes=self.settings.approval_ttl_minutes),
            )
            self.store.add_approval(row, actor=user.id)
            out.append(approval_event(row))
        return out

    # -- deciding ---------------------------------------------------------------------

    def _authorise(self, row: ApprovalRow, user: User) -> None:
        if not user.role.allows(Role.APPROVER):
            raise ForbiddenError(
                f"user {user.id!r} ({user.role}) cannot decide approvals: approver role needed"
            )
        if self.settings.four_eyes and row.requested_by == user.id:
            raise ForbiddenError(
                f"four-eyes is on: {user.id!r} requested this order and cannot approve it"
            )

    async def approve(self, approval_id: str, user: User) -> Decision:
        row = self.store.approval(approval_id)
        self._authorise(row, user)
        if row.status == PENDING and row.expires_at < utcnow():
            return await self._expire(row)
        if not self.store.transition(
            approval_id, PENDING, APPROVED, user.id, decided_by=user.id, decided_at=utcnow()
        ):
            raise ConflictError(
                f"approval {approval_id} is {self.store.approval(approval_id).status}, not pending"
            )
        return await self._execute(self.store.approval(approval_id), user)

    async def reject(self, approval_id: str, user: User, reason: str = "rejected") -> Decision:
        row = self.store.approval(approval_id)
        self._authorise(row, user)
        if not self.store.transition(
            approval_id,
            PENDING,
            REJECTED,
            user.id,
            decided_by=user.id,
            decided_at=utcnow(),
            reason=reason,
        ):
            raise ConflictError(
                f"approval {approval_id} is {self.store.approval(approval_id).status}, not pending"
            )
        turn = await self._resume(
            row, ToolDenied(f"the order was rejected by {user.id}: {reason}"), {}, user
        )
        return await self._announce(
            row,
            Decision(approval_id=approval_id, status=REJECTED, reason=reason, turn=turn),
            user,
        )

    async def _expire(self, row: ApprovalRow) -> Decision:
        decision = Decision(approval_id=row.id, status=EXPIRED, reason="expired before a decision")
        if self.store.transition(
            row.id, PENDING, EXPIRED, "system", reason="expired before a decision"
        ):
            decision.turn = await self._resume(
                row, ToolDenied("the approval expired before anyone decided"), {}, None
            )
            await self._announce(row, decision, None)
        return decision

    async def _announce(self, row: ApprovalRow, decision: Decision, user: User | None) -> Decision:
        decision.decided_by = user.id if user else "system"
        for listener in self.listeners:
            try:
                await listener(row, decision)
            except Exception:  # a notification failing never undoes or hides the decision
                log.exception("approval listener failed for %s", row.id)
        return decision

    async def _execute(self, row: ApprovalRow, user: User | None) -> Decision:
        """From ``approved``: re-check, submit (idempotently), record, resume."""
        order = Order.model_validate_json(row.order_json)
        actor = user.id if user else "system"
        report = self.risk(order)
        if not report.passed:
            reason = "; ".join(c.reason for c in report.failures)
            self.store.transition(row.id, APPROVED, FAILED_CHECKS, actor, reason=reason)
            turn = await self._resume(
                row, ToolDenied(f"pre-trade checks failed at approval: {reason}"), {}, user
            )
            return await self._announce(
                row,
                Decision(approval_id=row.id, status=FAILED_CHECKS, reason=reason, turn=turn),
                user,
            )
        try:
            placed = self.broker_factory().submit(order, client_order_id=row.id)
        except ToolError as exc:
            self.store.transition(row.id, APPROVED, BROKER_ERROR, actor, reason=str(exc))
            turn = await self._resume(
                row, ToolDenied(f"the broker refused the order: {exc}"), {}, user
            )
            return await self._announce(
                row,
                Decision(approval_id=row.id, status=BROKER_ERROR, reason=str(exc), turn=turn),
                user,
            )
        self.store.transition(
            row.id,
            APPROVED,
            EXECUTED,
            actor,
            broker_order_json=placed.model_dump_json(),
            reason=placed.reason,
        )
        turn = await self._resume(row, True, {row.tool_call_id: placed}, user)
        return await self._announce(
            row,
            Decision(approval_id=row.id, status=EXECUTED, broker_order=placed, turn=turn),
            user,
        )

    async def _resume(
        self, row: ApprovalRow, decision, executed: dict, user: User | None
    ) -> ChatTurn:
        requester = user or User(id=row.requested_by, role=Role.VIEWER)
        results = DeferredToolResults(approvals={row.tool_call_id: decision})
        return await self.chat.resume(row.conversation_id, requester, results, executed)

    # -- housekeeping -----------------------------------------------------------------

    async def expire_due(self) -> list[str]:
        expired = []
        for row in self.store.approvals(PENDING):
            if row.expires_at < utcnow():
                await self._expire(row)
                expired.append(row.id)
        return expired

    async def reconcile(self) -> list[Decision]:
        """Finish approvals a crash left between the approved transition and the broker.

        The broker is asked for the order by client id first; submitting again is safe
        anyway, since the same client id never makes a second order.
        """
        done = []
        for row in self.store.approvals(APPROVED):
            existing = self.broker_factory().get_order_by_client_id(row.id)
            if existing is not None:
                self.store.transition(
                    row.id,
                    APPROVED,
                    EXECUTED,
                    "reconcile",
                    broker_order_json=existing.model_dump_json(),
                )
                turn = await self._resume(row, True, {row.tool_call_id: existing}, None)
                decision = Decision(
                    approval_id=row.id, status=EXECUTED, broker_order=existing, turn=turn
                )
                done.append(await self._announce(row, decision, None))
            else:
                done.append(await self._execute(row, None))
        return done


def approval_event(row: ApprovalRow) -> ApprovalRequired:
    return ApprovalRequired(
        approval_id=row.id,
        order=json.loads(row.order_json),
        risk_checks=json.loads(row.risk_json),
        expires_at=row.expires_at,
    )
