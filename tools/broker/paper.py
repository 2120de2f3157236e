"""A paper broker persisted with sqlmodel (SQLite by default, PostgreSQL by URL).

Fills use the last stored price: market orders at once with slippage against the
trader; limit and stop orders when the price allows, otherwise they stay open and
:meth:`PaperBroker.process_open_orders` re-examines them (day orders from an earlier
day expire). Cash and positions change in the same transaction as the fill, and a
unique (account, client_order_id) constraint makes submission idempotent even when
two processes race.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from tools.broker import BrokerError, OrderNotFoundError
from tools.errors import ToolError
from tools.orders import (
    OPEN_STATUSES,
    BrokerAccount,
    BrokerOrder,
    BrokerPosition,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PaperAccountRow(SQLModel, table=True):
    __tablename__ = "paper_accounts"

    name: str = Field(primary_key=True)
    cash: float
    created_at: datetime = Field(default_factory=_utcnow)


class PaperPositionRow(SQLModel, table=True):
    __tablename__ = "paper_positions"

    account: str = Field(primary_key=True, foreign_key="paper_accounts.name")
    symbol: str = Field(primary_key=True)
    quantity: float
    avg_price: float


class PaperOrderRow(SQLModel, table=True):
    __tablename__ = "paper_orders"
    __table_args__ = (UniqueConstraint("account", "client_order_id"),)

    id: str = Field(primary_key=True)
    account: str = Field(foreign_key="paper_accounts.name", index=True)
    client_order_id: str
    symbol: str
    side: str
    quantity: float
    type: str
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: str
    status: str
    filled_quantity: float = 0.0
    filled_avg_price: float | None = None
    reason: str | None = None
    created_at: datetime
    updated_at: datetime


class PaperFillRow(SQLModel, table=True):
    __tablename__ = "paper_fills"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="paper_orders.id", index=True)
    quantity: float
    price: float
    at: datetime


PAPER_TABLES = [
    PaperAccountRow.__table__,
    PaperPositionRow.__table__,
    PaperOrderRow.__table__,
    PaperFillRow.__table__,
]


_tables_lock = threading.Lock()
_tables_ready: weakref.WeakSet[Engine] = weakref.WeakSet()


def create_paper_tables(engine: Engine) -> None:
    """Once per engine: brokers are built per request, and concurrent CREATE TABLEs race."""
    with _tables_lock:
        if engine in _tables_ready:
            return
        SQLModel.metadata.create_all(engine, tables=PAPER_TABLES)
        _tables_ready.add(engine)


class PaperBroker:
    """Simulated execution against stored prices; state survives restarts."""

    name = "paper"

    def __init__(
        self,
        engine: Engine,
        price_of: Callable[[str], float],
        *,
        account: str = "default",
        initial_cash: float = 100_000.0,
        slippage_bps: float = 5.0,
        allow_short: bool = False,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine, self.price_of, self.account_name = engine, price_of, account
        self.slippage = slippage_bps / 10_000
        self.allow_short, self.now = allow_short, now
        create_paper_tables(engine)
        self._ensure_account(initial_cash)

    # -- protocol ------------------------------------------------------------------

    def submit(self, order: Order, client_order_id: str) -> BrokerOrder:
        if not client_order_id:
            raise BrokerError("client_order_id is required (it makes submission idempotent)")
        with Session(self.engine) as session:
            existing = self._by_client_id(session, client_order_id)
            if existing is not None:
                return self._out(existing)
            now = self.now()
            row = PaperOrderRow(
                id=uuid.uuid4().hex,
                account=self.account_name,
                client_order_id=client_order_id,
                symbol=order.symbol,
                side=order.side.value,
                quantity=order.quantity,
                type=order.type.value,
                limit_price=order.limit_price,
                stop_price=order.stop_price,
                time_in_force=order.time_in_force.value,
                status=OrderStatus.NEW.value,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # another process placed it first: same order
                session.rollback()
                return self._out(self._by_client_id(session, client_order_id))
            if order.quantity <= 0:
                self._reject(row, f"quantity must be positive, got {order.quantity:g}")
            else:
                self._try_fill(session, row)
            session.commit()
            session.refresh(row)
            return self._out(row)

    def cancel(self, order_id: str) -> BrokerOrder:
        with Session(self.engine) as session:
            row = self._get(session, order_id)
            if OrderStatus(row.status) not in OPEN_STATUSES:
                raise BrokerError(
                    f"order {order_id} is {row.status}; only open orders can be canceled"
                )
            row.status, row.updated_at = OrderStatus.CANCELED.value, self.now()
            session.add(row)
            session.commit()
            session.refresh(row)
            return self._out(row)

    def get_order(self, order_id: str) -> BrokerOrder:
        with Session(self.engine) as session:
            return self._out(self._get(session, order_id))

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        with Session(self.engine) as session:
            row = self._by_client_id(session, client_order_id)
            return self._out(row) if row else None

    def open_orders(self) -> list[BrokerOrder]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(PaperOrderRow)
                .where(
                    PaperOrderRow.account == self.account_name,
                    PaperOrderRow.status.in_([s.value for s in OPEN_STATUSES]),
                )
                .order_by(PaperOrderRow.created_at)
            ).all()
            return [self._out(row) for row in rows]

    def positions(self) -> list[BrokerPosition]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(PaperPositionRow)
                .where(PaperPositionRow.account == self.account_name)
                .order_by(PaperPositionRow.symbol)
            ).all()
        return [
            BrokerPosition(
                symbol=r.symbol,
                quantity=r.quantity,
                avg_price=r.avg_price,
                market_value=self._value(r.symbol, r.quantity),
            )
            for r in rows
        ]

    def account(self) -> BrokerAccount:
        with Session(self.engine) as session:
            cash = session.get(PaperAccountRow, self.account_name).cash
        values = [p.market_value or 0.0 for p in self.positions()]
        return BrokerAccount(
            cash=cash, equity=cash + sum(values), positions_value=sum(values), broker=self.name
        )

    # -- beyond the protocol -------------------------------------------------------

    def process_open_orders(self) -> list[BrokerOrder]:
        """Fill open orders the price now allows; expire day orders from earlier days."""
        changed = []
        with Session(self.engine) as session:
            rows = session.exec(
                select(PaperOrderRow).where(
                    PaperOrderRow.account == self.account_name,
                    PaperOrderRow.status.in_([s.value for s in OPEN_STATUSES]),
                )
            ).all()
            today = self.now().date()
            for row in rows:
                if not self._claim(session, row):
                    continue  # another process handled it since we read it
                created = row.created_at.date()
                if row.time_in_force == TimeInForce.DAY.value and created < today:
                    row.status, row.updated_at = OrderStatus.EXPIRED.value, self.now()
                    session.add(row)
                elif not self._try_fill(session, row):
                    continue
                changed.append(row)
            session.commit()
            return [self._out(session.get(PaperOrderRow, r.id)) for r in changed]

    # -- internals -----------------------------------------------------------------

    def _claim(self, session: Session, row: PaperOrderRow) -> bool:
        """Lock a resting order that is still as we read it, or report that it is not.

        Several API processes sweep the same account: without this, two could both read
        an order as open and both fill it. The conditional UPDATE takes the row (or, in
        SQLite, the database) lock and matches nothing once another sweep changed it.
        """
        claimed = session.execute(
            update(PaperOrderRow)
            .where(PaperOrderRow.id == row.id, PaperOrderRow.status == row.status)
            .values(updated_at=row.updated_at)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:
            return True
        session.expunge(row)
        return False

    def _ensure_account(self, initial_cash: float) -> None:
        with Session(self.engine) as session:
            if session.get(PaperAccountRow, self.account_name) is None:
                session.add(PaperAccountRow(name=self.account_name, cash=initial_cash))
                try:
                    session.commit()
                except IntegrityError:  # created concurrently
                    session.rollback()

    def _get(self, session: Session, order_id: str) -> PaperOrderRow:
        row = session.get(PaperOrderRow, order_id)
        if row is None or row.account != self.account_name:
            raise OrderNotFoundError(f"no paper order with id {order_id!r}")
        return row

    def _by_client_id(self, session: Session, client_order_id: str) -> PaperOrderRow | None:
        return session.exec(
            select(PaperOrderRow).where(
                PaperOrderRow.account == self.account_name,
                PaperOrderRow.client_order_id == client_order_id,
            )
        ).first()

    def _value(self, symbol: str, quantity: float) -> float | None:
        try:
            return quantity * self.price_of(symbol)
        except ToolError:
            return None

    def _fill_price(self, row: PaperOrderRow, last: float) -> float | None:
        """The execution price if the order can trade at ``last``, else None."""
        buy = row.side == Side.BUY.value
        slipped = last * (1 + self.slippage) if buy else last * (1 - self.slippage)
        if row.type == OrderType.MARKET.value:
            return slipped
        if row.type == OrderType.LIMIT.value:
            limit = row.limit_price
            if buy:
                return min(slipped, limit) if last <= limit else None
            return max(slipped, limit) if last >= limit else None
        stop = row.stop_price
        triggered = last >= stop if buy else last <= stop
        return slipped if triggered else None

    def _reject(self, row: PaperOrderRow, reason: str) -> None:
        row.status, row.reason, row.updated_at = OrderStatus.REJECTED.value, reason, self.now()

    def _try_fill(self, session: Session, row: PaperOrderRow) -> bool:
        """Fill ``row`` completely if its price allows; True when its status changed."""
        try:
            last = self.price_of(row.symbol)
        except ToolError as exc:
            self._reject(row, f"no price for {row.symbol}: {exc}")
            session.add(row)
            return True
        price = self._fill_price(row, last)
        if price is None:
            return False
        account = session.get(PaperAccountRow, self.account_name, with_for_update=True)
        position = session.get(PaperPositionRow, (self.account_name, row.symbol))
        held = position.quantity if position else 0.0
        signed = row.quantity if row.side == Side.BUY.value else -row.quantity
        if signed > 0 and row.quantity * price > account.cash + 1e-9:
            self._reject(
                row,
                f"insufficient cash: needs {row.quantity * price:,.2f}, has {account.cash:,.2f}",
            )
        elif signed < 0 and held + signed < -1e-12 and not self.allow_short:
            self._reject(row, f"insufficient position: selling {row.quantity:g}, holding {held:g}")
        else:
            self._apply_fill(session, row, account, position, signed, price)
        session.add(row)
        return True

    def _apply_fill(self, session, row, account, position, signed: float, price: float) -> None:
        now = self.now()
        account.cash -= signed * price
        held = position.quantity if position else 0.0
        after = held + signed
        if position is None:
            position = PaperPositionRow(
                account=self.account_name, symbol=row.symbol, quantity=0.0, avg_price=price
            )
        if abs(after) < 1e-12:
            session.delete(position)
        else:
            if held == 0 or (held > 0) != (after > 0):
                position.avg_price = price  # opened, or flipped side
            elif abs(after) > abs(held):  # added to the same side
                position.avg_price = (abs(held) * position.avg_price + abs(signed) * price) / abs(
                    after
                )
            position.quantity = after
            session.add(position)
        row.status, row.filled_quantity, row.filled_avg_price = (
            OrderStatus.FILLED.value,
            row.quantity,
            price,
        )
        row.updated_at = now
        session.add(account)
        session.add(PaperFillRow(order_id=row.id, quantity=row.quantity, price=price, at=now))

    def _out(self, row: PaperOrderRow) -> BrokerOrder:
        return BrokerOrder(
            id=row.id,
            client_order_id=row.client_order_id,
            symbol=row.symbol,
            side=row.side,
            quantity=row.quantity,
            type=row.type,
            limit_price=row.limit_price,
            stop_price=row.stop_price,
            time_in_force=row.time_in_force,
            status=row.status,
            filled_quantity=row.filled_quantity,
            filled_avg_price=row.filled_avg_price,
            reason=row.reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
            broker=self.name,
        )
