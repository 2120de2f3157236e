"""The database schema's version, kept by Alembic (``assistant/migrations``).

Every class that stores rows calls :func:`ensure_schema` before its first query; it
checks the database once per engine:

- a new, empty database is created at the latest revision (nothing to ask: there is no
  data to lose);
- a database at the latest revision is used as it is;
- an older one — including one made before migrations existed, which has the tables but
  no ``alembic_version`` — is upgraded only when asked (``assistant db upgrade``, or
  ``ASSISTANT_AUTO_MIGRATE=true``); otherwise :class:`SchemaError` says what to run;
- a newer one (a later version of the product wrote it) is refused: this version does not
  know its tables.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from sqlalchemy import inspect

from tools.errors import ToolError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection, Engine, MetaData

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0005"
"""The latest revision, so that checking a database needs one query and not Alembic (a
quarter of a second to import); a test fails when a new migration does not update it."""
BASELINE = "0001"
"""The schema as it was when migrations began: a database with tables but no version is
at this revision once the columns added before then are in place."""
AFTER_BASELINE = {
    "risk_profiles",
    "watchlists",
    "alerts",
    "alert_events",
    "alert_deliveries",
    "jobs",
    "notifications",
    "briefings",
    "briefing_schedules",
}
"""Tables later migrations create: a database adopted at the baseline must not have them
yet, or their migrations would find them there."""


class SchemaError(ToolError):
    """The database's schema is not the one this version uses (exit 2 / HTTP 400)."""


def metadata() -> MetaData:
    """Every table the product stores (importing the modules registers them)."""
    from sqlmodel import SQLModel

    import assistant.account_lock
    import assistant.alert_rows
    import assistant.briefings
    import assistant.jobs
    import assistant.keys
    import assistant.notifications
    import assistant.profiles
    import assistant.slack_threads
    import assistant.store
    import assistant.watchlists  # noqa: F401

    return SQLModel.metadata


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once per process (they do not change while it runs)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    found = _scripts().get_current_head()
    assert found is not None
    return found


def known_revisions() -> set[str]:
    return {s.revision for s in _scripts().walk_revisions()}


def current(engine: Engine) -> str | None:
    """The database's revision (None: no version table, i.e. new or made before
    migrations); what Alembic's own ``get_current_revision`` reads."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _has_tables(engine: Engine) -> bool:
    return inspect(engine).has_table("conversations") or inspect(engine).has_table("api_keys")


class Upgrade(BaseModel):
    database: str
    before: str | None = Field(description="The revision found; None: none recorded.")
    after: str
    created: bool = Field(description="The database was empty: its tables were created.")

    def describe(self) -> str:
        if self.created:
            return f"{self.database}: created at {self.after}"
        if self.before == self.after:
            return f"{self.database}: already at {self.after}"
        return (
            f"{self.database}: upgraded from {self.before or 'before migrations'} to {self.after}"
        )


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the latest revision. Idempotent: at the latest revision it
    does nothing."""
    from alembic import command

    before = current(engine)
    latest = head()
    if before is not None and before not in known_revisions():
        raise SchemaError(_newer(engine, before))
    created = before is None and not _has_tables(engine)
    with engine.begin() as connection:
        config = _config(connection)
        if before is None and not created:
            _adopt(connection)  # made before migrations: complete it, then mark it so
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    _checked.add(_key(engine))
    return Upgrade(database=_where(engine), before=before, after=latest, created=created)


def _adopt(connection: Connection) -> None:
    """A database made before migrations existed: the tables it may lack, and the
    columns added to existing tables before the baseline, so it equals revision 0001."""
    from sqlalchemy import inspect as inspect_connection

    tables = [t for t in metadata().sorted_tables if t.name not in AFTER_BASELINE]
    metadata().create_all(connection, tables=tables)
    present = inspect_connection(connection)
    for table, columns in {"conversations": {"as_of": "DATE"}}.items():
        have = {c["name"] for c in present.get_columns(table)}
        for name, kind in columns.items():
            if name not in have:
                connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


_checked: set[str] = set()
_lock = threading.Lock()


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def ensure_schema(engine: Engine, *, auto_migrate: bool | None = None) -> None:
    """Make sure ``engine``'s database is at the latest revision (see the module
    docstring); checked once per database per process."""
    key = _key(engine)
    if key in _checked:
        return
    with _lock:
        if key in _checked:
            return
        if auto_migrate is None:
            from assistant.settings import get_settings

            auto_migrate = get_settings().auto_migrate
        revision = current(engine)
        if revision == HEAD:
            _checked.add(key)
            return
        if revision is not None and revision not in known_revisions():
            raise SchemaError(_newer(engine, revision))
        if (revision is None and not _has_tables(engine)) or auto_migrate:
            upgrade(engine)
            return
        where = _where(engine)
        raise SchemaError(
            f"the database at {where} was made by an earlier version (schema "
            f"{revision or 'before migrations'}, this version uses {head()}): run "
            "`assistant db upgrade` (or set ASSISTANT_AUTO_MIGRATE=true)"
        )


def _newer(engine: Engine, revision: str) -> str:
    return (
        f"the database at {_where(engine)} has schema {revision}, made by a newer version "
        f"of Market Assistant (this one knows up to {head()}): upgrade the software"
    )


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
