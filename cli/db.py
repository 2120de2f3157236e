"""`assistant db ...`: the database's schema version."""

from __future__ import annotations

import typer

from cli.options import JsonOption
from cli.output import emit

app = typer.Typer(
    add_completion=False, help="Upgrade and inspect the database schema.", no_args_is_help=True
)


@app.command("upgrade")
def upgrade_cmd(as_json: bool = JsonOption) -> None:
    """Upgrade the database to this version's schema (safe to run again)."""
    from assistant.resources import engine
    from assistant.schema import upgrade
    from assistant.settings import get_settings

    result = upgrade(engine(get_settings()))
    emit(result, as_json, result.describe)


@app.command("status")
def status_cmd(as_json: bool = JsonOption) -> None:
    """Show the database's schema revision and this version's."""
    from assistant.resources import engine
    from assistant.schema import current, head
    from assistant.settings import get_settings, mask_url_password

    settings = get_settings()
    now, latest = current(engine(settings)), head()
    where = mask_url_password(settings.effective_database_url)
    result = {"database": where, "current": now, "head": latest, "up_to_date": now == latest}
    emit(result, as_json, lambda: f"{where}: schema {now or 'none'}; this version uses {latest}")
