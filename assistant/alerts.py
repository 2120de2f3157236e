"""Alert rules per user, their evaluation, and their history.

An alert is armed when created. Evaluation reads each alert's symbol at its latest close
(:mod:`tools.alert_rules`); when the condition holds and the alert is armed, one
conditional UPDATE (armed -> fired, only if still armed) decides which process records
the firing, so each firing happens once however many API processes sweep: the event and
one delivery row per channel are written in that same transaction. A fired alert re-arms
(the same kind of UPDATE) when its condition no longer holds. Deliveries are rows too:
:mod:`assistant.deliveries` claims and sends them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import Engine, update
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel, select

from assistant.schema import ensure_schema
from assistant.store import NotFoundError, new_id, utcnow
from tools.alert_rules import CONDITION, Condition, Reading, evaluate
from tools.errors import ToolError, UnknownSymbolError
from tools.market_data import PriceStore, normalise_symbol

MAX_ALERTS_PER_USER = 200


class AlertRow(SQLModel, table=True):
    __tablename__ = "alerts"

    id: str = Column(primary_key=True)
    user_id: str = Column(index=True)
    symbol: str
    condition_json: str
    channels_json: str = "[]"
    secret: str
    armed: bool = True
    created_at: datetime = Column(default_factory=utcnow)
    checked_at: datetime | None = None
    last_detail: str | None = None


class AlertEventRow(SQLModel, table=True):
    __tablename__ = "alert_events"

    id: str = Column(primary_key=True)
    alert_id: str = Column(index=True)
    fired_at: datetime = Column(default_factory=utcnow)
    as_of: date
    measured: float | None = None
    message: str


class DeliveryRow(SQLModel, table=True):
    __tablename__ = "alert_deliveries"

    id: str = Column(primary_key=True)
    event_id: str = Column(index=True)
    alert_id: str = Column(index=True)
    channel_json: str
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Column(default_factory=utcnow, index=True)
    claimed_until: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class WebhookChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook"] = "webhook"
    url: HttpUrl


Channel = WebhookChannel
"""The one channel so far; Slack, e-mail and the widget are to come (see the README)."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"


class Delivery(BaseModel):
    id: str
    channel: Channel
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


class AlertEvent(BaseModel):
    id: str
    alert_id: str
    fired_at: datetime
    as_of: date
    measured: float | None
    message: str
    deliveries: list[Delivery] = Field(default_factory=list)


class Alert(BaseModel):
    id: str
    symbol: str
    condition: Condition
    channels: list[Channel]
    description: str
    armed: bool = Field(description="False after it fired, until the condition is false again.")
    created_at: datetime
    checked_at: datetime | None
    last_detail: str | None


class NewAlert(Alert):
    secret: str = Field(
        description="Signs each webhook body: X-Assistant-Signature: sha256=<HMAC-SHA256 of "
        "the body with this secret>. Shown once, when the alert is created."
    )


def _alert(row: AlertRow) -> Alert:
    condition = CONDITION.validate_json(row.condition_json)
    return Alert(
        id=row.id,
        symbol=row.symbol,
        condition=condition,
        channels=[WebhookChannel.model_validate(c) for c in json.loads(row.channels_json)],
        description=condition.describe(row.symbol),
        armed=row.armed,
        created_at=row.created_at,
        checked_at=row.checked_at,
        last_detail=row.last_detail,
    )


class AlertService:
    def __init__(
        self, engine: Engine, prices: PriceStore, view: Callable[[], Any] | None = None
    ) -> None:
        """``view``: how a sweep reads prices (a live view refreshes them when online;
        anything with ``load(symbol)``); the store itself by default."""
        self.engine, self.prices = engine, prices
        self.view = view or (lambda: prices)
        ensure_schema(engine)

    # -- rules --------------------------------------------------------------------------

    def create(
        self, user_id: str, symbol: str, condition: Condition, channels: list[WebhookChannel]
    ) -> NewAlert:
        try:
            symbol = normalise_symbol(symbol)
        except ToolError:  # not even a ticker's shape: no such symbol
            raise UnknownSymbolError(f"unknown symbol {symbol!r}") from None
        if not self.prices.exists(symbol):
            raise UnknownSymbolError(f"unknown symbol {symbol!r}: the store has no prices for it")
        with Session(self.engine) as s:
            mine = s.exec(select(AlertRow.id).where(AlertRow.user_id == user_id)).all()
            if len(mine) >= MAX_ALERTS_PER_USER:
                raise ToolError(f"at most {MAX_ALERTS_PER_USER} alerts per user: delete some first")
            row = AlertRow(
                id=new_id("alrt"),
                user_id=user_id,
                symbol=symbol,
                condition_json=condition.model_dump_json(),
                channels_json=json.dumps([c.model_dump(mode="json") for c in channels]),
                secret=secrets.token_urlsafe(24),
            )
            s.add(row)
            s.commit()
            s.refresh(row)
            return NewAlert(**_alert(row).model_dump(), secret=row.secret)

    def mine(self, user_id: str) -> list[Alert]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(AlertRow).where(AlertRow.user_id == user_id).order_by(AlertRow.created_at)
            ).all()
            return [_alert(r) for r in rows]

    def _own(self, s: Session, user_id: str, alert_id: str) -> AlertRow:
        row = s.get(AlertRow, alert_id)
        if row is None or row.user_id != user_id:  # another user's alert does not exist
            raise NotFoundError(f"no alert {alert_id!r}")
        return row

    def delete(self, user_id: str, alert_id: str) -> None:
        """The alert and its history; a delivery not yet sent is not sent."""
        with Session(self.engine) as s:
            row = self._own(s, user_id, alert_id)
            for table in (DeliveryRow, AlertEventRow):
                for r in s.exec(select(table).where(table.alert_id == alert_id)).all():
                    s.delete(r)
            s.delete(row)
            s.commit()

    def events(self, user_id: str, alert_id: str) -> list[AlertEvent]:
        with Session(self.engine) as s:
            self._own(s, user_id, alert_id)
            events = s.exec(
                select(AlertEventRow)
                .where(AlertEventRow.alert_id == alert_id)
                .order_by(AlertEventRow.fired_at)
            ).all()
            deliveries = s.exec(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id)).all()
        out = []
        for e in events:
            sent = [
                Delivery(
                    id=d.id,
                    channel=WebhookChannel.model_validate_json(d.channel_json),
                    status=DeliveryStatus(d.status),
                    attempts=d.attempts,
                    last_error=d.last_error,
                    delivered_at=d.delivered_at,
                )
                for d in deliveries
                if d.event_id == e.id
            ]
            out.append(AlertEvent(**e.model_dump(), deliveries=sent))
        return out

    def secret(self, alert_id: str) -> str | None:
        with Session(self.engine) as s:
            row = s.get(AlertRow, alert_id)
            return row.secret if row is not None else None

    # -- evaluation ---------------------------------------------------------------------

    def sweep(self) -> list[AlertEvent]:
        """Evaluate every alert once; the events this process recorded."""
        with Session(self.engine) as s:
            rows = s.exec(select(AlertRow)).all()
        store, fired, closes = self.view(), [], {}
        for row in rows:
            try:
                if row.symbol not in closes:
                    closes[row.symbol] = store.load(row.symbol).price
                condition = CONDITION.validate_json(row.condition_json)
                reading = evaluate(condition, closes[row.symbol], row.symbol)
            except (ToolError, ValueError) as exc:
                self._checked(row.id, f"not evaluated: {exc}")
                continue
            event = self._settle(row, condition, reading)
            if event is not None:
                fired.append(event)
        return fired

    def _checked(self, alert_id: str, detail: str) -> None:
        with Session(self.engine) as s:
            s.exec(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(checked_at=utcnow(), last_detail=detail)
            )
            s.commit()

    def _settle(self, row: AlertRow, condition, reading: Reading) -> AlertEvent | None:
        """Fire (armed and holding) or re-arm (fired and not holding), each by one
        conditional UPDATE: of several processes, exactly one makes each change."""
        with Session(self.engine) as s:
            changed = s.exec(
                update(AlertRow)
                .where(AlertRow.id == row.id, AlertRow.armed == reading.holds)
                .values(armed=not reading.holds, checked_at=utcnow(), last_detail=reading.detail)
            ).rowcount
            if not (changed and reading.holds):
                s.commit()
                if not changed:
                    self._checked(row.id, reading.detail)
                return None
            event = AlertEventRow(
                id=new_id("evt"),
                alert_id=row.id,
                as_of=reading.as_of,
                measured=reading.measured,
                message=f"{condition.describe(row.symbol)}: {reading.detail} on {reading.as_of}",
            )
            s.add(event)
            for channel in json.loads(row.channels_json):
                s.add(
                    DeliveryRow(
                        id=new_id("dlv"),
                        event_id=event.id,
                        alert_id=row.id,
                        channel_json=json.dumps(channel),
                    )
                )
            s.commit()
            s.refresh(event)
            return AlertEvent(**event.model_dump())
