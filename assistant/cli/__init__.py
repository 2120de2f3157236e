"""The `assistant` command line (Typer).

Every command that prints results takes ``--json``; any :class:`tools.errors.ToolError`
becomes one line on stderr and exit code 2 (the code Click uses for usage errors),
so scripts can tell "you asked for something wrong" from a crash.
"""

from __future__ import annotations

from typing import Any

import typer
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
