"""`assistant chat` and `assistant approvals`: the agent from the terminal."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from assistant.approval_text import approval_event, describe_order
from assistant.auth import LOCAL_USER, Role, User
from assistant.decisions import Decision
from assistant.events import (
    ApprovalRequired,
    CitationEvent,
    ErrorEvent,
    TextDelta,
    ToolCall,
    ToolResult,
    collect,
)
from assistant.results import ApprovalStatus
from assistant.services import Services, build_services
from cli.options import AsOfOption, JsonOption, as_of_date
from cli.output import emit, table
from cli.startup import settled
from retrieval.models import storable

err = Console(stderr=True)
out = Console()


def _services(model: str | None = None) -> Services:
    services = build_services(model=model)
    asyncio.run(_housekeeping(services))
    return services


async def _housekeeping(services: Services) -> None:
    """On start: finish approvals a crash interrupted, expire the overdue."""
    await services.decisions.reconcile(wait=10)
    await services.decisions.expire_due(wait=10)


def _show(event) -> None:
    if isinstance(event, TextDelta):
        out.print(escape(event.text), end="", highlight=False)
    elif isinstance(event, ToolCall):
        args = ", ".join(f"{k}={v}" for k, v in event.args.items())
        err.print(f"[dim]→ {event.name}({escape(args)})[/dim]")
    elif isinstance(event, ToolResult):
        mark = "✓" if event.ok else "✗"
        err.print(f"[dim]{mark} {event.name}: {escape(event.summary)}[/dim]")
    elif isinstance(event, CitationEvent):
        out.print(
            f"\n[{event.n}] {escape(event.title)} — {event.source}, {event.date}",
            highlight=False,
            end="",
        )
    elif isinstance(event, ApprovalRequired):
        out.print()
        out.print(
            Panel(
                f"approve: assistant approvals approve {event.approval_id}\n"
                f"reject:  assistant approvals reject {event.approval_id}",
                title="approval required",
                expand=False,
            )
        )
    elif isinstance(event, ErrorEvent):
        err.print(f"[red]error ({event.code}): {escape(event.message)}[/red]")


async def _turn(
    services: Services,
    question: str,
    conversation_id: str | None,
    as_json: bool,
    as_of: date | None = None,
) -> str | None:
    stream = services.chat.stream(question, LOCAL_USER, conversation_id, as_of=as_of)
    if as_json:
        turn = await collect(stream)
        typer.echo(turn.model_dump_json(indent=2))
        return turn.conversation_id if not turn.error else None
    conversation = None
    failed = False
    async for event in stream:
        conversation = getattr(event, "conversation_id", conversation)
        failed = failed or isinstance(event, ErrorEvent)
        _show(event)
    out.print()
    return None if failed else conversation


def chat_cmd(
    question: str | None = typer.Argument(
        None, help="Ask one question; omit for an interactive session."
    ),
    model: str | None = typer.Option(None, "--model", help="litellm model string, or 'offline'."),
    conversation: str | None = typer.Option(
        None, "--conversation", help="Continue a conversation."
    ),
    as_of_day: datetime | None = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Ask the assistant; tool calls are shown as they happen. With --as-of the
    conversation is pinned to that day: its tools see nothing published later."""
    as_of = as_of_date(as_of_day)
    services = _services(model)
    if question is not None:
        if not question.strip():
            raise typer.BadParameter("the question is empty", param_hint="QUESTION")
        try:
            storable(question)
        except ValueError as exc:
            raise typer.BadParameter(f"the question {exc}", param_hint="QUESTION") from None
        too_long = _too_long(services, question)
        if too_long:
            raise typer.BadParameter(too_long, param_hint="QUESTION")
        if asyncio.run(_turn(services, question, conversation, as_json, as_of)) is None:
            raise typer.Exit(1)
        return
    settled()  # a session runs on: collect what its turns leave behind
    err.print(
        f"Market Assistant (model: {services.chat.model_name}). Empty line or Ctrl-D to quit."
    )
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            break
        too_long = _too_long(services, line)
        if too_long:
            err.print(f"error: {too_long}")
            continue
        pin = as_of if conversation is None else None  # the conversation keeps its pin
        conversation = (
            asyncio.run(_turn(services, line, conversation, as_json, pin)) or conversation
        )


approvals_app = typer.Typer(
    add_completion=False, help="List, approve and reject proposed orders.", no_args_is_help=True
)


def _too_long(services: Services, question: str) -> str | None:
    """The API's limit (ASSISTANT_MAX_MESSAGE_CHARS), with the API's words."""
    limit = services.settings.max_message_chars
    if len(question) > limit:
        return f"message is {len(question)} characters; the limit is {limit}"
    return None


def _acting(user: str | None) -> User:
    """The CLI user owns the data dir; --as names who decides (for four-eyes), spelled as
    the approvals list shows requesters (``key:3f2a...``, ``slack:U123``): one spelling
    per person, so "key:abc " is not a different approver from "key:abc"."""
    if user is None:
        return LOCAL_USER
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9:_.@-]{0,99}", user):
        raise typer.BadParameter(
            f"{user!r} is not a user id (letters, digits and : _ . @ - only)", param_hint="--as"
        )
    return User(id=user, role=Role.ADMIN)


@approvals_app.command("list")
def approvals_list(
    status: str | None = typer.Option(
        "pending", "--status", help="pending, executed, rejected, ... or 'all'."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List proposed orders and their state (default: those waiting for a decision)."""
    states = [s.value for s in ApprovalStatus if s is not ApprovalStatus.REFUSED]
    if status not in (*states, "all"):
        raise typer.BadParameter(f"use one of {', '.join(states)} or all", param_hint="--status")
    services = _services()
    rows = services.store.approvals(None if status == "all" else status)
    data = [
        {
            **approval_event(r).model_dump(mode="json"),
            "status": r.status,
            "requested_by": r.requested_by,
            "decided_by": r.decided_by,
            "reason": r.reason,
        }
        for r in rows
    ]
    emit(
        data,
        as_json,
        lambda: (
            table(
                f"{len(rows)} approval(s)" + (f" {status}" if status else ""),
                ["id", "status", "order", "checks", "requested by", "expires"],
                [
                    (
                        r.id,
                        r.status,
                        describe_order(d["order"]),
                        "passed" if d["risk_checks"].get("passed") else "failed",
                        r.requested_by,
                        f"{r.expires_at:%Y-%m-%d %H:%M}",
                    )
                    for r, d in zip(rows, data, strict=True)
                ],
            )
            if rows
            else "No approvals."
        ),
    )


def _decided(decision: Decision, as_json: bool) -> None:
    emit(
        decision,
        as_json,
        lambda: (
            f"{decision.approval_id}: {decision.status}"
            + (f" ({decision.reason})" if decision.reason else "")
            + (
                f"\n{decision.turn.answer.strip()}"
                if decision.turn and decision.turn.answer.strip()
                else ""
            )
        ),
    )


@approvals_app.command("approve")
def approvals_approve(
    approval_id: str = typer.Argument(...),
    user: str | None = typer.Option(None, "--as", help="Who approves (default: the local user)."),
    as_json: bool = JsonOption,
) -> None:
    """Approve: re-run the checks and send the order to the broker, exactly once."""
    services = _services()
    _decided(asyncio.run(services.decisions.approve(approval_id, _acting(user))), as_json)


@approvals_app.command("reject")
def approvals_reject(
    approval_id: str = typer.Argument(..., help="The approval's id (see: approvals list)."),
    reason: str = typer.Option("rejected", "--reason", help="Why; kept in the audit log."),
    user: str | None = typer.Option(None, "--as", help="Who rejects (default: the local user)."),
    as_json: bool = JsonOption,
) -> None:
    """Reject: the order is never sent; the reason is recorded."""
    services = _services()
    _decided(asyncio.run(services.decisions.reject(approval_id, _acting(user), reason)), as_json)
