"""Background jobs as rows that one process claims: the alert sweep, scheduled briefings,
scheduled ingestion.

Why not a job library: the embedded default is one process on SQLite and a deployment is
several API processes on PostgreSQL (with Redis beside). APScheduler 3 runs every job in
every process that shares a job store (its docs say sharing one is unsupported), its 4.x
line is still a pre-release; procrastinate needs PostgreSQL; huey, RQ, arq, dramatiq and
SAQ need Redis (huey's SQLite storage wants one consumer process of its own). None fits
both, so this is one small mechanism on the database every deployment already has.

A job is a row: its name (``kind`` or ``kind:key``), when it is next due, and a lease. A
process runs a due job only after one conditional UPDATE moved ``next_run_at`` forward and
took the lease (due and unleased -> leased); of several processes sweeping at once exactly
one wins each run. A process that dies mid-run leaves a lease that runs out, and the job
is due again. A failure is retried after ``RETRY_BASE_SECONDS × 2^failures``, never later
than its schedule would have run it. ``poke`` makes a job due now ("new data arrived").
Alert deliveries are rows of their own with the same claim (assistant/deliveries.py).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from pydantic import BaseModel
from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel, select

from assistant.schema import ensure_schema
from assistant.store import aware, utcnow

log = logging.getLogger(__name__)

LEASE_SECONDS = 600.0
RETRY_BASE_SECONDS = 15.0


class JobRow(SQLModel, table=True):
    __tablename__ = "jobs"

    name: str = Column(primary_key=True)
    next_run_at: datetime = Column(default_factory=utcnow, index=True)
    claimed_until: datetime | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    runs: int = 0


class JobState(BaseModel):
    """A job as ``/readyz`` and ``assistant jobs`` would show it."""

    name: str
    next_run_at: datetime
    running: bool
    last_finished_at: datetime | None
    last_error: str | None
    failures: int
    runs: int


@dataclass(frozen=True)
class Handler:
    """What a kind of job does (``run(name)``) and when it is next due after a run
    started at ``now`` (``next_after(name, now)``)."""

    run: Callable[[str], object]
    next_after: Callable[[str, datetime], datetime]
    lease_seconds: float | None = None
    """How long a run may take before another process may take it over (the table's
    default when None): a killed process holds a job no longer than this."""


def every(seconds: float) -> Callable[[str, datetime], datetime]:
    return lambda _name, now: now + timedelta(seconds=seconds)


@dataclass
class Outcome:
    name: str
    error: str | None
    result: object = None


class Jobs:
    def __init__(self, engine: Engine, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.engine, self.lease = engine, timedelta(seconds=lease_seconds)
        ensure_schema(engine)

    def ensure(self, name: str, first_run_at: datetime | None = None) -> None:
        """The job exists (due at ``first_run_at``, now by default); an existing row is
        left as it is, whichever process created it."""
        with Session(self.engine) as s:
            if s.get(JobRow, name) is not None:
                return
            s.add(JobRow(name=name, next_run_at=first_run_at or utcnow()))
            try:
                s.commit()
            except IntegrityError:  # another process created it first
                s.rollback()

    def remove(self, name: str) -> None:
        with Session(self.engine) as s:
            if (row := s.get(JobRow, name)) is not None:
                s.delete(row)
                s.commit()

    def poke(self, name: str) -> None:
        """Due now (a running job runs again after it finishes)."""
        self.ensure(name)
        with Session(self.engine) as s:
            s.exec(update(JobRow).where(JobRow.name == name).values(next_run_at=utcnow()))
            s.commit()

    def claim(
        self,
        name: str,
        next_run_at: Callable[[datetime], datetime],
        lease_seconds: float | None = None,
    ) -> bool:
        """Take the job's due run; False when it is not due or another process has it."""
        now = utcnow()
        lease = timedelta(seconds=lease_seconds) if lease_seconds else self.lease
        with Session(self.engine) as s:
            took = s.exec(
                update(JobRow)
                .where(
                    JobRow.name == name,
                    JobRow.next_run_at <= now,
                    or_(JobRow.claimed_until.is_(None), JobRow.claimed_until < now),
                )
                .values(
                    next_run_at=next_run_at(now),
                    claimed_until=now + lease,
                    last_started_at=now,
                )
            ).rowcount
            s.commit()
        return bool(took)

    def finish(self, name: str, error: str | None) -> None:
        now = utcnow()
        with Session(self.engine) as s:
            row = s.get(JobRow, name)
            if row is None:  # removed while it ran
                return
            values: dict = {"claimed_until": None, "last_finished_at": now, "runs": row.runs + 1}
            if error is None:
                values |= {"last_error": None, "failures": 0}
            else:
                retry = now + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** min(row.failures, 10))
                values |= {
                    "last_error": error[:500],
                    "failures": row.failures + 1,
                    "next_run_at": min(row.next_run_at, retry),
                }
            s.exec(update(JobRow).where(JobRow.name == name).values(**values))
            s.commit()

    def release(self, name: str) -> None:
        """Give back a run that was stopped before it ended: due again at once, for any
        process (a restart must not leave the lease to run out)."""
        with Session(self.engine) as s:
            s.exec(
                update(JobRow)
                .where(JobRow.name == name)
                .values(claimed_until=None, next_run_at=utcnow())
            )
            s.commit()

    def due(self) -> list[str]:
        now = utcnow()
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(JobRow.name)
                    .where(
                        JobRow.next_run_at <= now,
                        or_(JobRow.claimed_until.is_(None), JobRow.claimed_until < now),
                    )
                    .order_by(JobRow.next_run_at)
                ).all()
            )

    def run_due(self, handlers: dict[str, Handler]) -> list[Outcome]:
        """:meth:`arun_due` for a caller without an event loop (a command, a test)."""
        return asyncio.run(self.arun_due(handlers))

    async def arun_due(self, handlers: dict[str, Handler]) -> list[Outcome]:
        """Run each due job of a known kind that this process claims, one after another
        (one failing does not stop the others): the database work in threads, a handler
        whose ``run`` is a coroutine function awaited on the loop (a briefing is an agent
        turn, which lives on the loop)."""
        out = []
        for name in await asyncio.to_thread(self.due):
            handler = handlers.get(name.partition(":")[0])
            if handler is None:
                continue
            taken = await asyncio.to_thread(
                self.claim, name, partial(handler.next_after, name), handler.lease_seconds
            )
            if not taken:
                continue
            try:
                if inspect.iscoroutinefunction(handler.run):
                    result = await handler.run(name)
                else:
                    result = await asyncio.to_thread(handler.run, name)
                error = None
            except asyncio.CancelledError:  # the server is stopping: give the run back
                self.release(name)
                raise
            except Exception as exc:
                log.warning("job %s failed: %s: %s", name, type(exc).__name__, exc)
                result, error = None, f"{type(exc).__name__}: {exc}"
            await asyncio.to_thread(self.finish, name, error)
            out.append(Outcome(name, error, result))
        return out

    def states(self) -> list[JobState]:
        now = utcnow()
        with Session(self.engine) as s:
            rows = s.exec(select(JobRow).order_by(JobRow.name)).all()
        return [
            JobState(
                name=r.name,
                next_run_at=r.next_run_at,
                running=r.claimed_until is not None and aware(r.claimed_until) > now,
                last_finished_at=r.last_finished_at,
                last_error=r.last_error,
                failures=r.failures,
                runs=r.runs,
            )
            for r in rows
        ]
