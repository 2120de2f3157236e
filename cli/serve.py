"""`assistant serve` and `assistant keys`: run the HTTP service and manage API keys."""

from __future__ import annotations

import gc
import secrets

import typer

from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.settings import get_settings
from cli.options import JsonOption
from cli.output import emit
from cli.startup import settled


def serve_cmd(
    host: str | None = typer.Option(None, "--host", help="Default: the host setting (127.0.0.1)."),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Default: the port setting (8000)."
    ),
) -> None:
    """Run the API; prints a one-time login link for the browser."""
    import uvicorn

    from api.app import create_app, is_loopback

    settings = get_settings().model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    if settings.auth == "off" and not is_loopback(settings.host):
        where = settings.host or "every interface (an empty host)"
        raise typer.BadParameter(
            f"ASSISTANT_AUTH=off is only allowed on a loopback host (127.0.0.1, ::1), not {where}"
        )
    _check_port_free(settings.host, settings.port)
    # with auth off every caller is an admin: a login link would only suggest otherwise
    token = secrets.token_urlsafe(24) if settings.auth != "off" else None
    app = create_app(settings, login_token=token)
    app.state.services.chat.agent()  # built now, not on the first question
    # Everything loaded so far (torch, pandas, pydantic-ai...) lives as long as the process;
    # frozen, the collector stops rescanning it, which otherwise stalls the event loop for
    # ~300 ms whenever a full collection runs under load.
    gc.collect()
    gc.freeze()
    settled()
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    typer.echo(f"Market Assistant on http://{shown}:{settings.port}/")
    if token:
        typer.echo(f"Log in (once): http://{shown}:{settings.port}/login?token={token}")
    else:
        typer.echo("Auth is off (ASSISTANT_AUTH=off): no key or login needed on this machine.")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        # on SIGTERM running turns may finish (see shutdown_grace_seconds), then it stops
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) + 5,
    )


def _check_port_free(host: str, port: int) -> None:
    """Before seconds of start-up and a login link for a server that will not run: a port
    another process listens on is a usage error (uvicorn would log it and exit 3)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host or "0.0.0.0", port))
        except OSError as exc:
            raise typer.BadParameter(
                f"port {port} on {host or 'every interface'} cannot be used "
                f"({exc.strerror}; another server?): choose another with --port",
                param_hint="--port",
            ) from None


def mcp_cmd() -> None:
    """Serve the read-only tools over MCP on stdio (no order placement)."""
    from assistant.mcp_server import build_mcp

    server = build_mcp()
    settled()
    server.run(show_banner=False)


def slack_cmd() -> None:
    """Run the Slack bot in Socket Mode (no public URL needed)."""
    import asyncio

    from api.slack import run_socket_mode
    from assistant.services import build_services

    settings = get_settings()
    try:
        services = build_services(settings)
        settled()
        asyncio.run(run_socket_mode(settings, services))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


keys_app = typer.Typer(
    add_completion=False, help="Create, list and revoke API keys.", no_args_is_help=True
)


@keys_app.command("create")
def keys_create(
    role: Role = typer.Option(..., "--role", help="viewer, trader, approver or admin."),
    name: str = typer.Option("", "--name", help="A label for the key."),
    as_json: bool = JsonOption,
) -> None:
    """Create a key; it is shown once and stored only as a hash."""
    row, key = KeyStore(engine()).create(role, name)
    emit(
        {"id": row.id, "name": row.name, "role": row.role, "key": key},
        as_json,
        lambda: f"{key}\n(role {row.role}; store it now: it cannot be shown again)",
    )


@keys_app.command("list")
def keys_list(as_json: bool = JsonOption) -> None:
    """List API keys: id, name, role, created, revoked (never the secret)."""
    rows = KeyStore(engine()).list()
    data = [
        {
            "id": r.id,
            "name": r.name,
            "role": r.role,
            "created_at": r.created_at,
            "revoked": r.revoked,
        }
        for r in rows
    ]
    emit(
        data,
        as_json,
        lambda: (
            "\n".join(
                f"{r['id']}  {r['role']:9} {r['name']}" + ("  (revoked)" if r["revoked"] else "")
                for r in data
            )
            or "No keys."
        ),
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key's id, as `assistant keys list` shows it."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke a key; running servers refuse it within 10 seconds."""
    row = KeyStore(engine()).revoke(key_id)
    emit(
        {"id": row.id, "name": row.name, "role": row.role, "revoked": row.revoked},
        as_json,
        lambda: f"Revoked {row.id} ({row.role}, {row.name}).",
    )
