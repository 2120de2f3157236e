"""Alerts as stored: the rule rows, their firings and each firing's deliveries, and the
views the API and the agent return (a row's JSON columns read back into models)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, TypeAdapter
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from assistant.channels import Channel, shown
from assistant.store import utcnow
from tools.alert_rules import CONDITION, Condition

CHANNELS: TypeAdapter = TypeAdapter(list[Channel])
ONE_CHANNEL: TypeAdapter = TypeAdapter(Channel)


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
    seen_json: str | None = None


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
    kind: str = Column(default="alert", sa_column_kwargs={"server_default": "alert"})
    channel_json: str
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Column(default_factory=utcnow, index=True)
    claimed_until: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


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


def alert_view(row: AlertRow) -> Alert:
    condition = CONDITION.validate_json(row.condition_json)
    return Alert(
        id=row.id,
        symbol=row.symbol,
        condition=condition,
        channels=[shown(c) for c in CHANNELS.validate_json(row.channels_json)],
        description=condition.describe(row.symbol),
        armed=row.armed,
        created_at=row.created_at,
        checked_at=row.checked_at,
        last_detail=row.last_detail,
    )
