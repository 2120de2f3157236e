"""`assistant watchlist ...`: the local user's watchlists (named lists of symbols)."""

from __future__ import annotations

import typer

from cli.options import JsonOption
from cli.output import emit, table

app = typer.Typer(
    add_completion=False, help="Your watchlists: add, remove, show, delete.", no_args_is_help=True
)
NameOption = typer.Option(None, "--name", "-n", help="Which list (default: 'default').")


def _store():
    from assistant.resources import engine, price_store
    from assistant.services import watchable
    from assistant.settings import get_settings
    from assistant.watchlists import WatchlistStore

    settings = get_settings()
    return WatchlistStore(engine(settings), watchable(settings, price_store(settings)))


def _user() -> str:
    from assistant.auth import LOCAL_USER

    return LOCAL_USER.id


def _show(lists) -> object:
    if not lists:
        return "No watchlists yet: `assistant watchlist add SYMBOL...` starts the default one."
    return table("watchlists", ["name", "symbols"], [(w.name, " ".join(w.symbols)) for w in lists])


@app.command("add")
def add_cmd(
    symbols: list[str] = typer.Argument(..., help="Tickers to add."),
    name: str | None = NameOption,
    as_json: bool = JsonOption,
) -> None:
    """Add symbols to a watchlist (created on the first add)."""
    changed = _store().add(_user(), name, symbols)
    emit(changed, as_json, lambda: f"{changed.name}: {' '.join(changed.symbols)}")


@app.command("remove")
def remove_cmd(
    symbols: list[str] = typer.Argument(..., help="Tickers to remove."),
    name: str | None = NameOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove symbols from a watchlist."""
    changed = _store().remove(_user(), name, symbols)
    emit(changed, as_json, lambda: f"{changed.name}: {' '.join(changed.symbols) or '(empty)'}")


@app.command("show")
def show_cmd(
    name: str | None = typer.Argument(None, help="One list (default: all of them)."),
    as_json: bool = JsonOption,
) -> None:
    """Show your watchlists, or one of them."""
    store = _store()
    if name is None:
        lists = store.all(_user())
        emit(lists, as_json, lambda: _show(lists))
        return
    found = store.get(_user(), name)
    if found is None:
        raise typer.BadParameter(f"you have no watchlist {name.lower()!r}", param_hint="NAME")
    emit(found, as_json, lambda: _show([found]))


@app.command("delete")
def delete_cmd(name: str = typer.Argument(..., help="The list to delete.")) -> None:
    """Delete a watchlist."""
    if not _store().delete(_user(), name):
        raise typer.BadParameter(f"you have no watchlist {name.lower()!r}", param_hint="NAME")
    typer.echo(f"Deleted watchlist {name.lower()!r}.")
