"""Briefings: a digest of a watchlist written by the agent, now or on a schedule, and
delivered like alert firings.

A briefing is one turn of the agent on a fixed request ("write my daily briefing on my
watchlist 'tech'"): the agent calls ``get_briefing`` (assistant/briefing_facts.py) and
writes from its result, the offline model included, so every figure comes from a tool and
every document is cited. It is kept (``/v1/briefings``), and each channel of its schedule
gets a delivery row (assistant/deliveries.py).

A schedule is daily or weekly at an hour (UTC); its runs are the job ``briefing:<id>``
(assistant/jobs.py), which one process claims per run however many are serving.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy import Engine
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel, select

from assistant.alert_rows import CHANNELS, DeliveryRow
from assistant.auth import Role, User
from assistant.channels import Channel, Message, check_channels, shown
from assistant.events import CitationEvent, ErrorEvent
from assistant.jobs import Handler, Jobs
from assistant.schema import ensure_schema
from assistant.settings import Settings
from assistant.store import NotFoundError, new_id, utcnow
from assistant.watchlists import WatchlistStore, check_name
from tools.errors import ToolError, UnavailableError

log = logging.getLogger(__name__)
MAX_SCHEDULES_PER_USER = 20
KIND = "briefing"


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


DAYS = {Cadence.DAILY: 1, Cadence.WEEKLY: 7}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BriefingRow(SQLModel, table=True):
    __tablename__ = "briefings"

    id: str = Column(primary_key=True)
    user_id: str = Column(index=True)
    watchlist: str
    days: int
    schedule_id: str | None = None
    conversation_id: str
    text: str
    citations_json: str = "[]"
    created_at: datetime = Column(default_factory=utcnow)


class BriefingScheduleRow(SQLModel, table=True):
    __tablename__ = "briefing_schedules"

    id: str = Column(primary_key=True)
    user_id: str = Column(index=True)
    watchlist: str
    cadence: str
    hour: int
    weekday: int | None = None
    channels_json: str = "[]"
    secret: str
    created_at: datetime = Column(default_factory=utcnow)


class Briefing(BaseModel):
    id: str
    watchlist: str
    days: int
    schedule_id: str | None
    conversation_id: str = Field(description="The agent's turn that wrote it.")
    text: str
    citations: list[CitationEvent]
    created_at: datetime

    def with_sources(self) -> str:
        sources = [
            f"[{c.n}] {c.title} ({c.date})" + (f" {c.url}" if c.url else "") for c in self.citations
        ]
        return self.text + ("\n\nSources:\n" + "\n".join(sources) if sources else "")


class BriefingSchedule(BaseModel):
    id: str
    watchlist: str
    cadence: Cadence
    hour: int = Field(description="Hour of the day, UTC.")
    weekday: str | None = Field(description="For a weekly briefing.")
    channels: list[Channel]
    next_run_at: datetime | None
    created_at: datetime

    def summary(self) -> str:
        return f"{self.cadence} briefing on {self.watchlist} at {self.hour:02d}:00 UTC ({self.id})"


class NewSchedule(BriefingSchedule):
    secret: str = Field(description="Signs each webhook body, as an alert's does. Shown once.")


def next_run(cadence: Cadence, hour: int, weekday: int | None, now: datetime) -> datetime:
    """The first time after ``now`` at ``hour`` UTC (on ``weekday``, 0 = Monday, when
    weekly)."""
    now = now.astimezone(UTC)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if cadence is Cadence.WEEKLY:
        at += timedelta(days=((weekday or 0) - at.weekday()) % 7)
        return at if at > now else at + timedelta(days=7)
    return at if at > now else at + timedelta(days=1)


def _briefing(row: BriefingRow) -> Briefing:
    return Briefing(
        id=row.id,
        watchlist=row.watchlist,
        days=row.days,
        schedule_id=row.schedule_id,
        conversation_id=row.conversation_id,
        text=row.text,
        citations=TypeAdapter(list[CitationEvent]).validate_json(row.citations_json),
        created_at=row.created_at,
    )


class BriefingService:
    def __init__(
        self, engine: Engine, chat, watchlists: WatchlistStore, jobs: Jobs, settings: Settings
    ) -> None:
        """``chat``: the ChatService whose agent writes each briefing."""
        self.engine, self.chat, self.watchlists = engine, chat, watchlists
        self.jobs, self.settings = jobs, settings
        ensure_schema(engine)

    # -- making one -----------------------------------------------------------------------

    def _watchlist(self, user_id: str, name: str | None) -> str:
        name = check_name(name)
        listed = self.watchlists.get(user_id, name)
        if listed is None:
            raise NotFoundError(f"no watchlist {name!r}: add symbols to it first")
        if not listed.symbols:
            raise UnavailableError(f"watchlist {name!r} is empty: add symbols to it first")
        return name

    async def make(
        self,
        user: User,
        watchlist: str | None = None,
        days: int = 1,
        schedule_id: str | None = None,
    ) -> Briefing:
        """Write a briefing now (the agent's turn), keep it, and queue its deliveries."""
        import asyncio

        if not 1 <= days <= 31:
            raise ToolError(f"days must be 1 to 31, not {days}")
        name = await asyncio.to_thread(self._watchlist, user.id, watchlist)
        label = {1: "daily", 7: "weekly"}.get(days, f"{days}-day")
        question = f"Write my {label} briefing on my watchlist '{name}' (days={days})."
        turn = await self.chat.ask(question, user, channel=KIND)
        failed = turn.error or next((e for e in turn.events if isinstance(e, ErrorEvent)), None)
        if failed is not None:
            raise ToolError(f"the briefing could not be written: {failed.message}")
        citations = [e for e in turn.events if isinstance(e, CitationEvent)]
        return await asyncio.to_thread(
            self._keep, user.id, name, days, schedule_id, turn.conversation_id, turn.answer,
            citations,
        )  # fmt: skip

    def _keep(self, user_id, name, days, schedule_id, conversation_id, text, citations):
        with Session(self.engine) as s:
            row = BriefingRow(
                id=new_id("brf"),
                user_id=user_id,
                watchlist=name,
                days=days,
                schedule_id=schedule_id,
                conversation_id=conversation_id,
                text=text,
                citations_json=json.dumps([c.model_dump(mode="json") for c in citations]),
            )
            s.add(row)
            schedule = s.get(BriefingScheduleRow, schedule_id) if schedule_id else None
            for channel in json.loads(schedule.channels_json) if schedule else []:
                s.add(
                    DeliveryRow(
                        id=new_id("dlv"),
                        event_id=row.id,
                        alert_id=schedule_id or "",
                        kind=KIND,
                        channel_json=json.dumps(channel),
                    )
                )
            s.commit()
            s.refresh(row)
            return _briefing(row)

    def mine(self, user_id: str, limit: int = 20) -> list[Briefing]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(BriefingRow)
                .where(BriefingRow.user_id == user_id)
                .order_by(BriefingRow.created_at.desc())
                .limit(limit)
            ).all()
        return [_briefing(r) for r in rows]

    def message(self, delivery: DeliveryRow) -> Message | None:
        """What a delivery of a briefing sends (deliveries' source for ``briefing``)."""
        with Session(self.engine) as s:
            row = s.get(BriefingRow, delivery.event_id)
            schedule = s.get(BriefingScheduleRow, delivery.alert_id)
        if row is None or schedule is None:
            return None
        briefing = _briefing(row)
        return Message(
            delivery_id=delivery.id,
            user_id=row.user_id,
            title=f"Briefing: watchlist {row.watchlist}, {row.created_at:%Y-%m-%d}",
            text=briefing.with_sources(),
            body={"briefing_id": row.id, "schedule_id": schedule.id}
            | briefing.model_dump(mode="json"),
            secret=schedule.secret,
        )

    # -- schedules ------------------------------------------------------------------------

    def schedule(
        self,
        user_id: str,
        watchlist: str | None,
        cadence: Cadence,
        hour: int,
        weekday: int | None,
        channels: list,
    ) -> NewSchedule:
        if not 0 <= hour <= 23:
            raise ToolError(f"hour must be 0 to 23 (UTC), not {hour}")
        if cadence is Cadence.WEEKLY and weekday is None:
            weekday = 0
        if weekday is not None and not 0 <= weekday <= 6:
            raise ToolError("weekday must be monday to sunday")
        name = self._watchlist(user_id, watchlist)
        check_channels(channels, user_id, self.settings)
        with Session(self.engine) as s:
            mine = s.exec(
                select(BriefingScheduleRow.id).where(BriefingScheduleRow.user_id == user_id)
            ).all()
            same = s.exec(
                select(BriefingScheduleRow).where(
                    BriefingScheduleRow.user_id == user_id,
                    BriefingScheduleRow.watchlist == name,
                    BriefingScheduleRow.cadence == cadence,
                    BriefingScheduleRow.hour == hour,
                )
            ).all()
            wanted = [c.model_dump(mode="json") for c in channels]
            for row in same:  # asked twice: one schedule, not two briefings a time
                if row.weekday == (weekday if cadence is Cadence.WEEKLY else None) and (
                    json.loads(row.channels_json) == wanted
                ):
                    due = {j.name: j.next_run_at for j in self.jobs.states()}
                    view = self._schedule(row, due.get(f"{KIND}:{row.id}"))
                    return NewSchedule(**view.model_dump(), secret=row.secret)
            if len(mine) >= MAX_SCHEDULES_PER_USER:
                raise ToolError(f"at most {MAX_SCHEDULES_PER_USER} briefing schedules per user")
            row = BriefingScheduleRow(
                id=new_id("bsch"),
                user_id=user_id,
                watchlist=name,
                cadence=cadence,
                hour=hour,
                weekday=weekday if cadence is Cadence.WEEKLY else None,
                channels_json=json.dumps([c.model_dump(mode="json") for c in channels]),
                secret=secrets.token_urlsafe(24),
            )
            s.add(row)
            s.commit()
            s.refresh(row)
            count = len(
                s.exec(
                    select(BriefingScheduleRow.id).where(BriefingScheduleRow.user_id == user_id)
                ).all()
            )
            if count > MAX_SCHEDULES_PER_USER:  # made at once by several requests
                s.delete(row)
                s.commit()
                raise ToolError(f"at most {MAX_SCHEDULES_PER_USER} briefing schedules per user")
        first = next_run(cadence, hour, row.weekday, utcnow())
        self.jobs.ensure(f"{KIND}:{row.id}", first)
        return NewSchedule(**self._schedule(row, first).model_dump(), secret=row.secret)

    def _schedule(self, row: BriefingScheduleRow, next_at: datetime | None) -> BriefingSchedule:
        return BriefingSchedule(
            id=row.id,
            watchlist=row.watchlist,
            cadence=Cadence(row.cadence),
            hour=row.hour,
            weekday=WEEKDAYS[row.weekday] if row.weekday is not None else None,
            channels=[shown(c) for c in CHANNELS.validate_json(row.channels_json)],
            next_run_at=next_at,
            created_at=row.created_at,
        )

    def schedules(self, user_id: str) -> list[BriefingSchedule]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(BriefingScheduleRow)
                .where(BriefingScheduleRow.user_id == user_id)
                .order_by(BriefingScheduleRow.created_at)
            ).all()
        due = {j.name: j.next_run_at for j in self.jobs.states()}
        return [self._schedule(r, due.get(f"{KIND}:{r.id}")) for r in rows]

    def unschedule(self, user_id: str, schedule_id: str) -> None:
        """The schedule and its deliveries not yet sent."""
        with Session(self.engine) as s:
            row = s.get(BriefingScheduleRow, schedule_id)
            if row is None or row.user_id != user_id:
                raise NotFoundError(f"no briefing schedule {schedule_id!r}")
            waiting = s.exec(
                select(DeliveryRow).where(
                    DeliveryRow.alert_id == schedule_id,
                    DeliveryRow.kind == KIND,
                    DeliveryRow.status.in_(("pending", "sending")),
                )
            ).all()
            for delivery in waiting:
                s.delete(delivery)
            s.delete(row)
            s.commit()
        self.jobs.remove(f"{KIND}:{schedule_id}")

    # -- the job ----------------------------------------------------------------------------

    async def run_scheduled(self, name: str) -> Briefing | None:
        schedule_id = name.partition(":")[2]
        with Session(self.engine) as s:
            row = s.get(BriefingScheduleRow, schedule_id)
        if row is None:  # deleted: its job goes too
            self.jobs.remove(name)
            return None
        role = self.chat.role_of(row.user_id)
        if role is not None and not role.allows(Role.TRADER):
            log.info("briefing schedule %s skipped: its owner's key was revoked", row.id)
            return None
        user = User(id=row.user_id, role=Role.VIEWER)  # a briefing only reads
        try:
            return await self.make(user, row.watchlist, DAYS[Cadence(row.cadence)], row.id)
        except (NotFoundError, UnavailableError) as exc:  # the watchlist was deleted or emptied
            log.warning("briefing schedule %s skipped: %s", row.id, exc)
            return None

    def handler(self) -> Handler:
        def next_after(name: str, now: datetime) -> datetime:
            with Session(self.engine) as s:
                row = s.get(BriefingScheduleRow, name.partition(":")[2])
            if row is None:
                return now + timedelta(days=365)
            return next_run(Cadence(row.cadence), row.hour, row.weekday, now)

        return Handler(run=self.run_scheduled, next_after=next_after)
