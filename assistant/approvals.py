"""The only path by which an order reaches a broker (synchronous: call it off the loop).

``place_order`` proposes -> :meth:`ApprovalService.propose` validates the order
completely (a known symbol, within the maximum quantity), checks the caller may propose
(trader role, in their own conversation) and runs the pre-trade checks; failed checks end
in ``failed_checks`` at once -> the paused run's approvals are stored pending, requested
by the conversation's owner -> a person with the approver role (not the requester when
four-eyes is on) approves -> an atomic pending->approved transition -> under the
account's lock, the checks run again and the broker gets ``client_order_id`` = approval
id (idempotent) -> ``executed``; any broker failure, network errors included, ends in
``broker_error``. Rejection and expiry are stored states too, every transition is in the
audit log, and reconciliation after a crash records a bad row and goes on.

Resuming the conversation with the outcome is :mod:`assistant.decisions`' job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from pydantic import ValidationError
from pydantic_ai import DeferredToolRequests

from assistant.account_lock import AccountLock
from assistant.auth import Role, User
from assistant.results import ApprovalStatus, OrderOutcome
from assistant.settings import Settings
from assistant.store import ApprovalRow, Store, new_id, utcnow
from tools.broker import Broker
from tools.errors import InvalidInputError, ToolError, UnknownSymbolError
from tools.market_data import PriceStore
from tools.orders import BrokerOrder, Order
from tools.orders import OrderStatus as BrokerOrderStatus
from tools.risk import Account, PositionCap, RiskLimits, RiskReport, check_order, stricter

log = logging.getLogger(__name__)


class ForbiddenError(ToolError):
    """The user's role (or four-eyes) does not allow this."""


class ConflictError(ToolError):
    """The approval is no longer pending (decided, expired or executed)."""


class ClosedError(ConflictError):
    """The approval was closed instead of decided as asked (the row says how): the
    conversation still hears of it."""

    def __init__(self, row: ApprovalRow, message: str) -> None:
        super().__init__(message)
        self.row = row


class ExpiredError(ClosedError):
    """The approval's time ran out before this decision (it is now stored as expired)."""

    def __init__(self, row: ApprovalRow) -> None:
        super().__init__(
            row,
            f"approval {row.id} expired at {row.expires_at:%Y-%m-%d %H:%M} UTC before a "
            "decision; the order can be proposed again",
        )


class ApprovalService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        prices: PriceStore,
        broker_factory: Callable[[], Broker],
        limits: RiskLimits,
        lock: AccountLock | None = None,
        role_of: Callable[[str], Role | None] | None = None,
        cap_of: Callable[[str], PositionCap | None] | None = None,
    ) -> None:
        self.settings, self.store, self.prices = settings, store, prices
        self.broker_factory, self.limits = broker_factory, limits
        self.lock = lock or AccountLock(store.engine, settings.data_dir)
        self.role_of = role_of or (lambda user_id: None)
        """The requester's role now (None: an id no credential stands for)."""
        self.cap_of = cap_of or (lambda user_id: None)
        """The requester's position cap from their risk profile now (None: no profile).
        Read again when the order executes: a profile made stricter meanwhile binds."""

    # -- proposing --------------------------------------------------------------------

    def validate(self, order: Order) -> None:
        """What the order model alone cannot know: the symbol and the configured maximum."""
        if not self.prices.exists(order.symbol):
            raise UnknownSymbolError(
                f"unknown symbol {order.symbol!r}: the store has no prices for it"
            )
        if order.quantity > self.limits.max_order_quantity:
            raise InvalidInputError(
                f"{order.quantity:,.0f} shares exceed the maximum of "
                f"{self.limits.max_order_quantity:,.0f} per order"
            )

    def risk(
        self,
        order: Order,
        broker: Broker | None = None,
        requester: str | None = None,
        *,
        waiting: list[Order] = (),
        floor: PositionCap | None = None,
    ) -> RiskReport:
        """Every pre-trade check against the account now; with ``requester``, their
        profile's position cap too (or ``floor``, the cap the order was proposed under,
        when that is stricter). ``waiting``: orders proposed but not yet decided, counted
        as if they rested at the broker, so that orders proposed one by one cannot
        together pass a limit none passes alone."""
        broker = broker or self.broker_factory()
        account = broker.account()
        positions = {p.symbol: p.quantity for p in broker.positions()}
        resting = [
            Order.model_validate(
                o.model_dump(include=set(Order.model_fields))
                | {"quantity": o.quantity - o.filled_quantity}
            )
            for o in broker.open_orders()
            if o.quantity - o.filled_quantity > 0
        ] + list(waiting)
        prices = {}
        for symbol in {order.symbol, *positions, *(o.symbol for o in resting)}:
            if self.prices.exists(symbol):
                prices[symbol] = float(self.prices.load(symbol).price.iloc[-1])
        midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        orders_today = self.store.decided_since(ApprovalStatus.EXECUTED, midnight)
        snapshot = Account(
            cash=account.cash,
            positions=positions,
            open_orders=resting,
            prices=prices,
            orders_today=orders_today,
        )
        cap = self.cap_of(requester) if requester is not None else None
        return check_order(order, snapshot, self.limits, stricter(cap, floor))

    def undecided(self, requester: str) -> list[Order]:
        """The orders of ``requester``'s pending approvals that have not expired."""
        now, out = utcnow(), []
        for row in self.store.approvals(ApprovalStatus.PENDING):
            if row.expires_at < now or row.requested_by != requester:
                continue
            try:
                out.append(Order.model_validate_json(row.order_json))
            except ValidationError:
                continue
        return out

    def propose(
        self,
        order: Order,
        *,
        user: User,
        owner: str,
        conversation_id: str,
        tool_call_id: str,
        alongside: list[Order] = (),
    ) -> OrderOutcome:
        """``pending`` (checks passed: the run pauses for a person), ``failed_checks``
        (stored, never approvable) or ``refused`` (nothing stored). Raises a ToolError
        for an order that cannot exist (unknown symbol, above the maximum). The checks
        count the requester's undecided approvals and ``alongside`` (orders of the same
        turn that passed theirs but are not stored yet) as resting orders. Other people's
        undecided orders do not count: they would let one trader's proposals, left
        undecided, fail everyone else's orders for as long as they wait. Nothing is lost
        by it: each order is checked again, against the account as it is, when it is
        approved (:meth:`execute`)."""

        def refused(why: str) -> OrderOutcome:
            return OrderOutcome(status=ApprovalStatus.REFUSED, order=order, detail=why)

        if user.id != owner:
            return refused("orders can only be proposed in your own conversation")
        if not user.role.allows(Role.TRADER):
            return refused(
                f"proposing orders needs the trader role; {user.id} has the {user.role} role"
            )
        self.validate(order)
        try:
            waiting = [*self.undecided(owner), *alongside]
            report = self.risk(order, requester=owner, waiting=waiting)
        except Exception as exc:  # the broker's account could not be read
            return refused(f"the account could not be read to check the order: {exc}")
        if report.passed:
            return OrderOutcome(status=ApprovalStatus.PENDING, order=order, risk_checks=report)
        row = self._row(conversation_id, tool_call_id, order, report, owner)
        row.status = ApprovalStatus.FAILED_CHECKS
        row.reason = "; ".join(c.reason for c in report.failures)
        self.store.add_approval(row)
        return OrderOutcome(
            status=ApprovalStatus.FAILED_CHECKS,
            order=order,
            approval_id=row.id,
            risk_checks=report,
            detail=row.reason,
        )

    def pending(
        self, conversation_id: str, owner: str, requests: DeferredToolRequests
    ) -> list[ApprovalRow]:
        """Approval rows for a paused run, from what ``place_order`` validated and checked
        (its metadata), never from the raw arguments. Stored with the turn."""
        rows = []
        for call in requests.approvals:
            meta = requests.metadata.get(call.tool_call_id) or {}
            try:
                order = Order.model_validate(meta["order"])
                report = RiskReport.model_validate(meta["risk_checks"])
            except (KeyError, ValidationError):
                log.error("deferred call %s carries no checked order", call.tool_call_id)
                continue
            rows.append(self._row(conversation_id, call.tool_call_id, order, report, owner))
        return rows

    def _row(
        self, conversation_id: str, tool_call_id: str, order: Order, report: RiskReport, owner: str
    ) -> ApprovalRow:
        return ApprovalRow(
            id=new_id("appr"),
            conversation_id=conversation_id,
            tool_call_id=tool_call_id,
            order_json=order.model_dump_json(),
            risk_json=report.model_dump_json(),
            requested_by=owner,
            status=ApprovalStatus.PENDING,
            expires_at=utcnow() + timedelta(minutes=self.settings.approval_ttl_minutes),
        )

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

    def _pending(self, approval_id: str, user: User) -> ApprovalRow:
        row = self.store.approval(approval_id)
        self._authorise(row, user)
        if row.status == ApprovalStatus.PENDING and row.expires_at < utcnow():
            if self.expire(row):
                raise ExpiredError(self.store.approval(approval_id))
            row = self.store.approval(approval_id)
        if row.status != ApprovalStatus.PENDING:
            raise ConflictError(f"approval {approval_id} is {row.status}, not pending")
        return row

    def approve(self, approval_id: str, user: User) -> ApprovalRow:
        """Approve and execute; the row as it ended (executed, failed_checks, broker_error).
        An order whose requester may no longer trade (key revoked, role lowered) is
        rejected instead: nobody acts on the word of a revoked key."""
        row = self._pending(approval_id, user)
        role = self.role_of(row.requested_by)
        if role is not None and not role.allows(Role.TRADER):  # checked again under the lock
            why = f"the requester {row.requested_by} may no longer trade (revoked or demoted)"
            closed = self._decide(approval_id, user, ApprovalStatus.REJECTED, reason=why)
            raise ClosedError(closed, f"approval {approval_id} was rejected: {why}")
        return self.execute(self._decide(approval_id, user, ApprovalStatus.APPROVED), user.id)

    def reject(self, approval_id: str, user: User, reason: str = "rejected") -> ApprovalRow:
        return self._decide(approval_id, user, ApprovalStatus.REJECTED, reason=reason)

    def _decide(self, approval_id: str, user: User, to: ApprovalStatus, **fields) -> ApprovalRow:
        """pending -> ``to`` by ``user``, atomically: of two deciders, one wins."""
        self._pending(approval_id, user)
        if not self.store.transition(
            approval_id,
            ApprovalStatus.PENDING,
            to,
            user.id,
            decided_by=user.id,
            decided_at=utcnow(),
            **fields,
        ):
            raise ConflictError(
                f"approval {approval_id} is {self.store.approval(approval_id).status}, not pending"
            )
        return self.store.approval(approval_id)

    def expire(self, row: ApprovalRow) -> bool:
        """Pending -> expired (once, whoever tries first)."""
        return self.store.transition(
            row.id,
            ApprovalStatus.PENDING,
            ApprovalStatus.EXPIRED,
            "system",
            reason="expired before a decision",
        )

    def expire_due(self) -> list[ApprovalRow]:
        now = utcnow()
        due = [r for r in self.store.approvals(ApprovalStatus.PENDING) if r.expires_at < now]
        return [self.store.approval(r.id) for r in due if self.expire(r)]

    def execute(self, row: ApprovalRow, actor: str) -> ApprovalRow:
        """From ``approved``: under the account's lock, re-check, submit idempotently and
        record the result. Every failure ends in a stored final state."""

        def end(status: ApprovalStatus, reason: str, placed: BrokerOrder | None = None):
            fields = {"reason": reason}
            if placed is not None:
                fields["broker_order_json"] = placed.model_dump_json()
            self.store.transition(row.id, ApprovalStatus.APPROVED, status, actor, **fields)
            return self.store.approval(row.id)

        try:
            order = Order.model_validate_json(row.order_json)
        except ValidationError as exc:  # a row stored before orders were validated
            return end(ApprovalStatus.FAILED_CHECKS, f"the stored order is invalid: {exc}")
        try:
            broker = self.broker_factory()
        except Exception as exc:
            return end(ApprovalStatus.BROKER_ERROR, f"the broker is not available: {exc}")
        with self.lock.hold(_account_key(broker)):
            role = self.role_of(row.requested_by)  # again: a key may be revoked meanwhile
            if role is not None and not role.allows(Role.TRADER):
                why = f"the requester {row.requested_by} may no longer trade (revoked or demoted)"
                return end(ApprovalStatus.FAILED_CHECKS, why)
            try:
                proposed = RiskReport.model_validate_json(row.risk_json) if row.risk_json else None
                floor = proposed.cap if proposed is not None else None
                report = self.risk(order, broker, row.requested_by, floor=floor)
            except Exception as exc:
                return end(ApprovalStatus.BROKER_ERROR, f"the account could not be read: {exc}")
            if not report.passed:
                reason = "; ".join(c.reason for c in report.failures)
                return end(ApprovalStatus.FAILED_CHECKS, reason)
            try:
                placed = broker.submit(order, client_order_id=row.id)
            except Exception as exc:  # refused, or the connection dropped: did it arrive?
                placed = self._find(broker, row.id)
                if placed is None:
                    return end(
                        ApprovalStatus.BROKER_ERROR,
                        f"{_reason(exc)}; nothing was found at the broker under client order "
                        f"id {row.id}",
                    )
            if placed.status is BrokerOrderStatus.REJECTED:  # it reached the broker, and no
                reason = f"the {placed.broker} broker rejected it: {placed.reason or 'no reason'}"
                return end(ApprovalStatus.BROKER_ERROR, reason, placed)
            return end(ApprovalStatus.EXECUTED, placed.reason, placed)

    def _find(self, broker: Broker, client_order_id: str) -> BrokerOrder | None:
        try:
            return broker.get_order_by_client_id(client_order_id)
        except Exception as exc:
            log.warning("could not look up order %s at the broker: %s", client_order_id, exc)
            return None

    def reconcile(self) -> list[ApprovalRow]:
        """Finish approvals a crash left between ``approved`` and the broker's answer.

        The broker is asked for the order by client id first; submitting again is safe
        anyway, since the same client id never makes a second order. A row that cannot
        be finished is recorded as ``broker_error`` with the reason, and the next goes on.
        """
        done = []
        for row in self.store.approvals(ApprovalStatus.APPROVED):
            try:
                existing = self.broker_factory().get_order_by_client_id(row.id)
                if existing is None:
                    done.append(self.execute(row, "reconcile"))
                    continue
                self.store.transition(
                    row.id,
                    ApprovalStatus.APPROVED,
                    ApprovalStatus.EXECUTED,
                    "reconcile",
                    broker_order_json=existing.model_dump_json(),
                )
            except Exception as exc:
                log.error("reconcile: approval %s could not be finished: %s", row.id, exc)
                self.store.transition(
                    row.id,
                    ApprovalStatus.APPROVED,
                    ApprovalStatus.BROKER_ERROR,
                    "reconcile",
                    reason=f"could not be confirmed after a restart ({_reason(exc)}); check the "
                    f"broker for client order id {row.id} before proposing it again",
                )
            done.append(self.store.approval(row.id))
        return done

    # -- reading ----------------------------------------------------------------------

    def waiting_for(self, requester: str) -> list[ApprovalRow]:
        """The requester's orders that wait for an approver (soonest to expire first)."""
        rows = self.store.approvals(ApprovalStatus.PENDING)
        mine = [r for r in rows if r.requested_by == requester and r.expires_at >= utcnow()]
        return sorted(mine, key=lambda r: r.expires_at)

    def outcome(self, row: ApprovalRow) -> OrderOutcome:
        """What a decision means for the run that proposed the order."""
        try:
            order = Order.model_validate_json(row.order_json)
        except ValidationError:
            order = None
        status = ApprovalStatus(row.status)
        placed = (
            BrokerOrder.model_validate_json(row.broker_order_json)
            if row.broker_order_json
            else None
        )
        detail = row.reason
        if status is ApprovalStatus.REJECTED and row.decided_by:
            detail = f"rejected by {row.decided_by}: {row.reason}"
        report = RiskReport.model_validate_json(row.risk_json) if row.risk_json else None
        if status is ApprovalStatus.FAILED_CHECKS and report is not None and report.passed:
            report = None  # it passed when proposed; the re-check at approval failed (detail)
        return OrderOutcome(
            status=status,
            order=order or placed,  # None only for a row stored before orders were validated
            approval_id=row.id,
            broker_order=placed,
            risk_checks=report,
            detail=detail,
        )


def _account_key(broker: Broker) -> str:
    return f"{broker.name}:{getattr(broker, 'account_name', 'default')}"


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ToolError) else f"{type(exc).__name__}: {text}"
