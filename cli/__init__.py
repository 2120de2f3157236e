"""The `assistant` command line (Typer).

Every command that prints results takes ``--json``; any :class:`tools.errors.ToolError`
becomes one line on stderr and exit code 2 (the code Click uses for usage errors),
so scripts can tell "you asked for something wrong" from a crash.

Commands are loaded when they run, not before: the whole package imports torch, cvxpy,
Qdrant and pydantic-ai (seven seconds here), and ``assistant --help`` or ``assistant
data list`` needs none of them. The root's help lists each command from :data:`COMMANDS`
(a test checks those lines against the commands' own docstrings).
"""

from __future__ import annotations

import importlib
import math
import sys
from typing import Any, NamedTuple

import typer
import typer._click.exceptions as clicks  # typer vendors click: its classes
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from cli.output import emit


class Entry(NamedTuple):
    module: str
    attribute: str
    summary: str


COMMANDS: dict[str, Entry] = {
    "data": Entry("cli.data", "app", "Load, import, fetch and list market data."),
    "tools": Entry(
        "cli.tools",
        "app",
        "Run a tool directly: analytics (compare, risk, screen, sentiment, anomalies), indicators, "
        "optimize, backtest, fundamentals.",
    ),
    "ingest": Entry(
        "cli.documents",
        "ingest_cmd",
        "Load documents into the index; one bad item never stops the rest.",
    ),
    "search": Entry(
        "cli.documents",
        "search_cmd",
        "Hybrid search over news and filings, with citations.",
    ),
    "eval": Entry(
        "cli.evals",
        "eval_cmd",
        "Run an evaluation suite; exit code 1 when a quality gate fails.",
    ),
    "chat": Entry(
        "cli.chat", "chat_cmd", "Ask the assistant; tool calls are shown as they happen."
    ),
    "approvals": Entry("cli.chat", "approvals_app", "List, approve and reject proposed orders."),
    "serve": Entry(
        "cli.serve",
        "serve_cmd",
        "Run the API; prints a one-time login link for the browser.",
    ),
    "mcp": Entry(
        "cli.serve",
        "mcp_cmd",
        "Serve the read-only tools over MCP on stdio (no order placement).",
    ),
    "slack": Entry(
        "cli.serve",
        "slack_cmd",
        "Run the Slack bot in Socket Mode (no public URL needed).",
    ),
    "keys": Entry("cli.serve", "keys_app", "Create, list and revoke API keys."),
    "profile": Entry("cli.profile", "app", "Your risk profile: the questionnaire, show, clear."),
    "watchlist": Entry("cli.watchlist", "app", "Your watchlists: add, remove, show, delete."),
    "alerts": Entry(
        "cli.alerts",
        "app",
        "Alerts on prices, moves, RSI, moving averages, unusual moves, filings and news.",
    ),
    "briefing": Entry(
        "cli.briefing", "app", "Briefings on your watchlists: now, or on a schedule."
    ),
    "db": Entry("cli.db", "app", "Upgrade and inspect the database schema."),
}


def _finite(check: Any):
    """A parameter callback that refuses NaN and infinities (which every range
    comparison lets through, and which would poison a result instead of failing),
    after the parameter's own callback."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if check is not None:
            value = check(ctx, param, value)
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                raise typer.BadParameter(f"{v} is not a finite number", ctx=ctx, param=param)
        return value

    return callback


def finite_floats(command: click.Command) -> click.Command:
    """Every numeric parameter of ``command`` and its sub-commands refuses NaN and
    infinities: one check for all, not one per option."""
    for param in command.params:
        param.callback = _finite(param.callback)
    for sub in getattr(command, "commands", {}).values():
        finite_floats(sub)
    return command


def load_command(name: str) -> click.Command:
    """The click command for ``name``, importing only the module that defines it."""
    entry = COMMANDS[name]
    found = getattr(importlib.import_module(entry.module), entry.attribute)
    if not isinstance(found, typer.Typer):
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(name)(found)
        found = single
    command = typer.main.get_command(found)
    command.name = name
    return finite_floats(command)


class _ErrorsAsExitCodes(TyperGroup):
    """Turns user-fixable errors from any sub-command into a message and exit code 2,
    and loads each sub-command when it is used (see the module docstring)."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # the root's help: one line each, nothing imported
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].summary)
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """A usage error (a bad option value, a missing argument) is one ``error:`` line
        too, not a framed box: scripts read the first line of stderr."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except clicks.NoArgsIsHelpError as exc:  # a group called bare: typer printed its help
            ctx = exc.ctx
            path = ctx.command_path if ctx else "assistant"
            names = (
                ctx.command.list_commands(ctx)
                if ctx and hasattr(ctx.command, "list_commands")
                else []
            )
            typer.echo(f"error: {path} needs a command: {', '.join(names)}", err=True)
            raise SystemExit(2) from None
        except clicks.UsageError as exc:
            hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
            message = " ".join(exc.format_message().replace("Value error, ", "").split())
            typer.echo(f"error: {message}{hint}", err=True)
            raise SystemExit(2) from None
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            raise SystemExit(1) from None
        except typer.Exit as exc:
            raise SystemExit(exc.exit_code) from None
        except clicks.ClickException as exc:
            typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
            raise SystemExit(exc.exit_code) from None
        # without standalone mode click returns an Exit's code instead of exiting
        raise SystemExit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: typer.Context) -> Any:
        from pydantic import ValidationError

        from assistant.settings import get_settings, mask_url_password
        from retrieval.errors import RetrievalError
        from tools.errors import ToolError

        try:
            return super().invoke(ctx)
        except (ToolError, RetrievalError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()
            )
            typer.echo(f"error: invalid settings or input: {problems}", err=True)
            raise typer.Exit(2) from None
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            # a wrong URL, a server that is down, no driver
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            where = mask_url_password(get_settings().effective_database_url)
            typer.echo(f"error: cannot use the database at {where}: {reason}", err=True)
            raise typer.Exit(2) from None


def _is_database_error(exc: Exception) -> bool:
    """Without importing SQLAlchemy (0.3 s) for commands that never open a database: if
    it was never imported, the error is not one of its."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


app = typer.Typer(
    cls=_ErrorsAsExitCodes,
    help="Market Assistant: market data, indicators and more from the command line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """A group, not its one eager command: the others are loaded on use."""


@app.command()
def config(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the effective settings, secrets masked."""
    from assistant.settings import get_settings

    shown = get_settings().masked()
    emit(shown, as_json, lambda: "\n".join(f"{k} = {v}" for k, v in shown.items()))


def main() -> None:
    from cli.startup import leave, starting

    starting()
    try:
        app()
    except SystemExit as exc:
        leave(exc.code)
    leave(0)
