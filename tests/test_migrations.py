"""Schema migrations (Alembic): a new database is created at the latest revision; one
made before migrations is upgraded by `assistant db upgrade` (twice is harmless) and
refused until then; one from a newer version is refused. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from assistant import schema
from assistant.keys import KeyStore
from assistant.store import TABLES, Store


def _fresh_process(monkeypatch):
    """ensure_schema checks a database once per process: forget what it has seen."""
    monkeypatch.setattr(schema, "_checked", set())


def _legacy(url: str) -> None:
    """A database as the version before migrations made it: its tables without the
    alembic_version table, and conversations without the later `as_of` column."""
    engine = create_engine(url)
    SQLModel.metadata.create_all(engine, tables=TABLES)
    with engine.begin() as c:
        c.execute(text("ALTER TABLE conversations DROP COLUMN as_of"))
        c.execute(
            text(
                "INSERT INTO conversations (id, user_id, channel, model, title, history_json, "
                "created_at, updated_at) VALUES ('c1', 'u1', 'cli', '', 'kept', '[]', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()


def test_a_new_database_is_created_at_the_latest_revision(db_url, monkeypatch):
    _fresh_process(monkeypatch)
    engine = create_engine(db_url)
    Store(engine)
    assert schema.current(engine) == schema.head()


def test_db_upgrade_brings_an_old_database_up_and_keeps_its_rows(db_url, cli, monkeypatch):
    _legacy(db_url)
    _fresh_process(monkeypatch)
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", db_url)
    refused = cli("approvals", "list")
    assert refused.exit_code == 2
    assert "made by an earlier version" in refused.output
    assert "assistant db upgrade" in refused.output
    first = cli("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert f"upgraded from before migrations to {schema.head()}" in first.output
    again = cli("db", "upgrade")
    assert again.exit_code == 0, again.output
    assert f"already at {schema.head()}" in again.output
    _fresh_process(monkeypatch)
    store = Store(create_engine(db_url))
    kept = store.conversation("c1")
    assert kept is not None and kept.title == "kept" and kept.as_of is None
    store.pin("c1", date(2020, 3, 1))  # the column the upgrade added works
    assert store.conversation("c1").as_of == date(2020, 3, 1)
    assert cli("approvals", "list").exit_code == 0


def test_auto_migrate_upgrades_at_start(db_url, monkeypatch):
    _legacy(db_url)
    _fresh_process(monkeypatch)
    engine = create_engine(db_url)
    schema.ensure_schema(engine, auto_migrate=True)
    assert schema.current(engine) == schema.head()
    KeyStore(engine).create(schema_role())


def schema_role():
    from assistant.auth import Role

    return Role.VIEWER


def test_a_database_from_a_newer_version_is_refused(db_url, monkeypatch):
    _fresh_process(monkeypatch)
    engine = create_engine(db_url)
    Store(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    _fresh_process(monkeypatch)
    with pytest.raises(schema.SchemaError, match="newer version"):
        Store(engine)
    with pytest.raises(schema.SchemaError, match="newer version"):
        schema.upgrade(engine)


def test_the_server_refuses_an_old_database_unless_told_to_migrate(db_url, tmp_path, monkeypatch):
    from api.app import create_app
    from assistant.settings import Settings

    _legacy(db_url)
    _fresh_process(monkeypatch)
    with pytest.raises(schema.SchemaError, match="assistant db upgrade"):
        create_app(Settings(data_dir=tmp_path, database_url=db_url))
    create_app(Settings(data_dir=tmp_path, database_url=db_url, auto_migrate=True))
    assert schema.current(create_engine(db_url)) == schema.head()


def test_head_names_the_latest_migration():
    """schema.HEAD spares every command an Alembic import; it must follow the scripts."""
    assert schema.head() == schema.HEAD


def test_db_upgrade_on_a_new_data_dir_says_it_created_the_tables(cli, tmp_path, monkeypatch):
    _fresh_process(monkeypatch)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "new"))
    made = cli("db", "upgrade")
    assert made.exit_code == 0 and f"created at {schema.head()}" in made.output


def test_a_database_at_the_baseline_gains_risk_profiles_and_keeps_its_rows(db_url, monkeypatch):
    """0001 -> 0002: what every database made before risk profiles goes through."""
    from alembic import command

    from assistant.profiles import ProfileStore
    from tools.risk_profile import RiskLevel

    _fresh_process(monkeypatch)
    engine = create_engine(db_url)
    with engine.begin() as connection:
        command.upgrade(schema._config(connection), "0001")
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, role, secret_sha256, created_at, revoked) "
                "VALUES ('k1', 'kept', 'viewer', 'x', CURRENT_TIMESTAMP, false)"
            )
        )
    assert schema.current(engine) == "0001"
    with pytest.raises(schema.SchemaError, match="assistant db upgrade"):
        ProfileStore(engine)
    assert schema.upgrade(engine).before == "0001"
    assert schema.current(engine) == schema.head()
    assert [k.name for k in KeyStore(engine).list()] == ["kept"]
    saved = ProfileStore(engine).state("key:k1", RiskLevel.MODERATE)
    assert ProfileStore(engine).get("key:k1") == saved


def test_the_migrations_make_the_tables_the_models_describe(db_url, monkeypatch):
    """A model changed without a migration would pass every test on a new database and
    fail on every existing one: Alembic's comparison must find nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData

    from tools.broker.paper import PAPER_TABLES

    _fresh_process(monkeypatch)
    engine = create_engine(db_url)
    schema.upgrade(engine)
    migrated = MetaData()  # the paper broker creates its own tables (tools/ has no migrations)
    for table in schema.metadata().sorted_tables:
        if table.name not in {t.name for t in PAPER_TABLES}:
            table.to_metadata(migrated)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), migrated)
    assert diff == []
