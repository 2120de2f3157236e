"""`assistant briefing ...`: a briefing on one of your watchlists written now by the
agent, and schedules the server runs (daily or weekly, delivered like alerts)."""

from __future__ import annotations

import typer

from cli.alerts import EmailOption, SlackOption, WebhookOption, WidgetOption, channels_of
from cli.options import JsonOption
from cli.output import emit, table

app = typer.Typer(
    add_completion=False,
    help="Briefings on your watchlists: now, or on a schedule.",
    no_args_is_help=True,
)


def _user():
    from assistant.auth import LOCAL_USER

    return LOCAL_USER


@app.command("run")
def run_cmd(
    watchlist: str = typer.Argument("default", help="The watchlist (default: 'default')."),
    days: int = typer.Option(1, "--days", min=1, max=31, help="The period: 1 daily, 7 weekly."),
    weekly: bool = typer.Option(False, "--weekly", help="The last 7 days (as --days 7)."),
    as_json: bool = JsonOption,
) -> None:
    """Write a briefing now: moves, readings, filings and news (cited), alerts fired."""
    import asyncio

    from assistant.services import build_services
    from cli.startup import settled

    settled()
    services = build_services()
    briefing = asyncio.run(services.briefings.make(_user(), watchlist, 7 if weekly else days))
    emit(briefing, as_json, briefing.with_sources)


@app.command("schedule")
def schedule_cmd(
    watchlist: str = typer.Argument("default", help="The watchlist."),
    weekly: bool = typer.Option(False, "--weekly", help="Weekly rather than daily."),
    at: int = typer.Option(7, "--at", min=0, max=23, help="Hour of the day, UTC."),
    on: str = typer.Option("monday", "--on", help="Weekly: the day of the week."),
    webhook: list[str] = WebhookOption,
    email: list[str] = EmailOption,
    slack: list[str] = SlackOption,
    widget: bool = WidgetOption,
    as_json: bool = JsonOption,
) -> None:
    """Have the server write and deliver a briefing daily or weekly."""
    from assistant.briefings import WEEKDAYS, Cadence
    from assistant.services import build_services

    day = on.strip().lower()
    matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(day[:3])] if day else []
    if len(day) < 3 or not matches:
        raise typer.BadParameter(f"{on!r}: give a day, monday to sunday", param_hint="--on")
    channels = channels_of(webhook, email, slack, widget)
    services = build_services()
    cadence = Cadence.WEEKLY if weekly else Cadence.DAILY
    made = services.briefings.schedule(
        _user().id, watchlist, cadence, at, matches[0] if weekly else None, channels
    )
    emit(
        made,
        as_json,
        lambda: (
            f"{made.id}: {made.cadence} briefing on '{made.watchlist}' at {made.hour:02d}:00 "
            f"UTC, next {made.next_run_at:%Y-%m-%d %H:%M} (webhook secret {made.secret})"
        ),
    )


@app.command("list")
def list_cmd(as_json: bool = JsonOption) -> None:
    """Your briefing schedules."""
    from assistant.channels import describe
    from assistant.services import build_services

    mine = build_services().briefings.schedules(_user().id)
    emit(
        mine,
        as_json,
        lambda: (
            table(
                "briefing schedules",
                ["id", "watchlist", "when", "next", "channels"],
                [
                    (
                        s.id,
                        s.watchlist,
                        f"{s.cadence} {s.weekday or ''} {s.hour:02d}:00 UTC".replace("  ", " "),
                        f"{s.next_run_at:%Y-%m-%d %H:%M}" if s.next_run_at else "-",
                        ", ".join(describe(c) for c in s.channels) or "-",
                    )
                    for s in mine
                ],
            )
            if mine
            else "No briefing schedules."
        ),
    )


@app.command("remove")
def remove_cmd(schedule_id: str = typer.Argument(..., help="The schedule's id.")) -> None:
    """Stop a briefing schedule."""
    from assistant.services import build_services

    build_services().briefings.unschedule(_user().id, schedule_id)
    typer.echo(f"Removed {schedule_id}.")
