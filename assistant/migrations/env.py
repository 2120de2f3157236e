"""Alembic's entry point: runs on the connection :mod:`assistant.schema` hands it (the
settings' database), never on a URL of its own."""

from alembic import context

from assistant.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata(),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
)
with context.begin_transaction():
    context.run_migrations()
