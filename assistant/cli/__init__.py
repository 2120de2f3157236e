"""The `assistant` command line (Typer).

Every command that prints results takes ``--json``; any :class:`tools.errors.ToolError`
becomes one line on stderr and exit code 2 (the code Click uses for usage errors),
so scripts can tell "you asked for something wrong" from a crash.
"""

from __future__ import annotations

from typing import Any

import typer
import typer._click.exceptions as clicks  # typer vendors click: its classes
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from assistant.cli import chat, data, documents, evals, serve, tools
from assistant.cli.output import emit
from assistant.settings import get_settings, mask_url_password
from retrieval.errors import RetrievalError
from tools.errors import ToolError


class _ErrorsAsExitCodes(TyperGroup):
    """Turns user-fixable errors from any sub-command into a message and exit code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """A usage error (a bad option value, a missing argument) is one ``error:`` line
        too, not a framed box: scripts read the first line of stderr."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except clicks.NoArgsIsHelpError as exc:  # a group called bare: its help
            typer.echo(exc.ctx.get_help() if exc.ctx else "", err=True)
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
        try:
            return super().invoke(ctx)
        except (ToolError, RetrievalError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except SQLAlchemyError as exc:  # a wrong URL, a server that is down, no driver
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            where = mask_url_password(get_settings().effective_database_url)
            typer.echo(f"error: cannot use the database at {where}: {reason}", err=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()
            )
            typer.echo(f"error: invalid settings or input: {problems}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_ErrorsAsExitCodes,
    help="Market Assistant: market data, indicators and more from the command line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.add_typer(tools.app, name="tools")
app.command("ingest")(documents.ingest_cmd)
app.command("search")(documents.search_cmd)
app.command("eval")(evals.eval_cmd)
app.command("chat")(chat.chat_cmd)
app.add_typer(chat.approvals_app, name="approvals")
app.command("serve")(serve.serve_cmd)
app.command("mcp")(serve.mcp_cmd)
app.command("slack")(serve.slack_cmd)
app.add_typer(serve.keys_app, name="keys")


@app.command()
def config(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the effective settings, secrets masked."""
    shown = get_settings().masked()
    emit(shown, as_json, lambda: "\n".join(f"{k} = {v}" for k, v in shown.items()))


def main() -> None:
    app()
