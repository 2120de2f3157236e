"""`assistant alerts ...`: the local user's alerts; `run` evaluates them once now and
sends what is due (what the server does every ASSISTANT_ALERT_SWEEP_SECONDS)."""

from __future__ import annotations

import typer

from cli.options import JsonOption
from cli.output import emit, table
from tools.alert_rules import ConditionType

app = typer.Typer(
    add_completion=False,
    help="Alerts on prices, moves, RSI, moving averages, unusual moves, filings and news.",
    no_args_is_help=True,
)


def _alerts():
    """The alert service alone (no agent): what add, list, remove and events need."""
    from assistant.alerts import AlertService
    from assistant.resources import document_index, engine, price_store
    from assistant.services import once
    from assistant.settings import get_settings

    settings = get_settings()
    prices = price_store(settings)
    return AlertService(
        engine(settings),
        prices,
        documents=once(lambda: document_index(settings)),
        settings=settings,
    )


def channels_of(webhook: list[str], email: list[str], slack: list[str], widget: bool) -> list:
    """The channel options as channels (pydantic's ValidationError names a bad one)."""
    from pydantic import TypeAdapter

    from assistant.channels import Channel

    raw = (
        [{"type": "webhook", "url": u} for u in webhook]
        + [{"type": "email", "to": a} for a in email]
        + [{"type": "slack", "channel": None if c.lower() == "dm" else c} for c in slack]
        + ([{"type": "widget"}] if widget else [])
    )
    return TypeAdapter(list[Channel]).validate_python(raw)


WebhookOption = typer.Option([], "--webhook", help="A URL to POST each firing to (signed).")
EmailOption = typer.Option([], "--email", help="An address to e-mail (ASSISTANT_SMTP_HOST).")
SlackOption = typer.Option(
    [], "--slack", help="A Slack channel (C0123, #name), or 'dm' for your Slack DM."
)
WidgetOption = typer.Option(False, "--widget", help="Show it in the widget's notifications.")


def _user() -> str:
    from assistant.auth import LOCAL_USER

    return LOCAL_USER.id


@app.command("add")
def add_cmd(
    symbol: str = typer.Argument(..., help="A stored symbol."),
    when: ConditionType = typer.Option(..., "--when", help="The condition."),
    value: str | None = typer.Option(
        None,
        "--value",
        help="Price, fraction (pct_move/pct_drop/pct_rise 0.05), RSI level, SMA window, z (anomaly, default "
        "5), forms (new_filing: 8-K,10-K; default any) or a score (news_sentiment: -0.5).",
    ),
    webhook: list[str] = WebhookOption,
    email: list[str] = EmailOption,
    slack: list[str] = SlackOption,
    widget: bool = WidgetOption,
    as_json: bool = JsonOption,
) -> None:
    """Create an alert; its webhook secret is shown once."""
    from tools.alert_rules import make_condition

    parsed: object = value
    if value is not None and when is not ConditionType.NEW_FILING:
        try:
            parsed = float(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a number", param_hint="--value") from None
    condition = make_condition(when, parsed)
    channels = channels_of(webhook, email, slack, widget)
    made = _alerts().create(_user(), symbol, condition, channels)
    emit(made, as_json, lambda: f"{made.id}: {made.description} (webhook secret {made.secret})")


@app.command("list")
def list_cmd(as_json: bool = JsonOption) -> None:
    """Your alerts, armed or fired."""
    mine = _alerts().mine(_user())
    emit(
        mine,
        as_json,
        lambda: (
            table(
                "alerts",
                ["id", "alert", "state", "last check"],
                [
                    (a.id, a.description, "armed" if a.armed else "fired", a.last_detail)
                    for a in mine
                ],
            )
            if mine
            else "No alerts."
        ),
    )


@app.command("remove")
def remove_cmd(alert_id: str = typer.Argument(..., help="The alert's id.")) -> None:
    """Delete an alert and its history."""
    _alerts().delete(_user(), alert_id)
    typer.echo(f"Removed {alert_id}.")


@app.command("events")
def events_cmd(alert_id: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """An alert's firings and the state of each delivery."""
    from assistant.channels import describe

    events = _alerts().events(_user(), alert_id)
    emit(
        events,
        as_json,
        lambda: (
            "\n".join(
                f"{e.fired_at:%Y-%m-%d %H:%M} {e.message}"
                + "".join(
                    f"\n  {describe(d.channel)}: {d.status} after {d.attempts}"
                    for d in e.deliveries
                )
                for e in events
            )
            or "No firings yet."
        ),
    )


@app.command("run")
def run_cmd(as_json: bool = JsonOption) -> None:
    """Evaluate every alert now and send the deliveries that are due."""
    from assistant.services import build_services

    services = build_services()
    fired = services.alerts.sweep()
    sent = services.deliveries.run()
    emit(
        {"fired": [e.model_dump(mode="json") for e in fired], "deliveries": len(sent)},
        as_json,
        lambda: (
            "\n".join(e.message for e in fired) + f"\n{len(sent)} deliveries attempted"
            if fired
            else f"Nothing fired; {len(sent)} deliveries attempted."
        ),
    )
