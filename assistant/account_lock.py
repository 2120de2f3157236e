"""One trading account, one decision at a time: the pre-trade checks and the broker
submit of an approval are serialised per account across threads and processes.

Without it, two approvals decided at once in two API processes could both read "11 of
12 orders used today", both pass and both submit. On PostgreSQL the lock is a row lock
(``SELECT ... FOR UPDATE`` on the account's row in ``trading_locks``), held by a
transaction of its own while the broker is called. SQLite allows one writer and the
paper broker writes through its own connections, so a write transaction held across the
submit would block the very submit it protects: there the database is a file on one
machine, and an OS file lock beside it serialises every process that uses it.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Field, SQLModel

from assistant.schema import ensure_schema


class TradingLockRow(SQLModel, table=True):
    __tablename__ = "trading_locks"

    account: str = Field(primary_key=True)


class AccountLock:
    def __init__(self, engine: Engine, fallback_dir: Path) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        real_file = database and database != ":memory:" and not database.startswith("file::memory")
        self.directory = Path(database).resolve().parent if real_file else fallback_dir
        self._threads: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        if self.postgres:
            ensure_schema(engine)

    @contextmanager
    def hold(self, account: str) -> Iterator[None]:
        """Blocks until no other thread or process holds ``account``; call it off the loop."""
        with self._thread_lock(account):
            if self.postgres:
                with self._row_lock(account):
                    yield
            else:
                with self._file_lock(account):
                    yield

    def _thread_lock(self, account: str) -> threading.Lock:
        with self._guard:
            return self._threads.setdefault(account, threading.Lock())

    @contextmanager
    def _row_lock(self, account: str) -> Iterator[None]:
        table = TradingLockRow.__table__
        with self.engine.begin() as conn:  # the row exists before anyone locks it
            conn.execute(pg_insert(table).values(account=account).on_conflict_do_nothing())
        with self.engine.connect() as conn, conn.begin():
            conn.execute(
                select(table.c.account).where(table.c.account == account).with_for_update()
            )
            yield

    @contextmanager
    def _file_lock(self, account: str) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(account.encode()).hexdigest()[:16]
        with open(self.directory / f".trading-{digest}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
