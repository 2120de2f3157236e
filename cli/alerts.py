"""`assistant alerts ...`: the local user's alerts; `run` evaluates them once now and
sends what is due (what the server does every ASSISTANT_ALERT_SWEEP_SECONDS)."""

from __future__ import annotations

import typer

from cli.options import JsonOption
from cli.output import emit, table
from tools.alert_rules import ConditionType

app = typer.Typer(help="Price, move, RSI and moving-average alerts.", no_args_is_help=True)


def _services():
    from assistant.alerts import AlertService
    from assistant.deliveries import Deliveries
    from assistant.resources import engine, live_prices, price_store
    from assistant.settings import get_settings
    from tools.providers.live import PriceView

    settings = get_settings()
    prices = price_store(settings)
    live = live_prices(settings, prices)
    alerts = AlertService(engine(settings), prices, lambda: PriceView(prices, live))
    sender = Deliveries(engine(settings), allow_private=settings.alert_webhook_allow_private)
    return alerts, sender


def _user() -> str:
    from assistant.auth import LOCAL_USER

    return LOCAL_USER.id


@app.command("add")
def add_cmd(
    symbol: str = typer.Argument(..., help="A stored symbol."),
    when: ConditionType = typer.Option(..., "--when", help="The condition."),
    value: float = typer.Option(
        ..., "--value", help="Price, fraction (pct_move 0.05), RSI level, or SMA window."
    ),
    webhook: list[str] = typer.Option([], "--webhook", help="A URL to POST each firing to."),
    as_json: bool = JsonOption,
) -> None:
    """Create an alert; its webhook secret is shown once."""
    from pydantic import TypeAdapter

    from assistant.alerts import WebhookChannel
    from tools.alert_rules import make_condition

    condition = make_condition(when, value)
    channels = [TypeAdapter(WebhookChannel).validate_python({"url": u}) for u in webhook]
    alerts, _ = _services()
    made = alerts.create(_user(), symbol, condition, channels)
    emit(made, as_json, lambda: f"{made.id}: {made.description} (webhook secret {made.secret})")


@app.command("list")
def list_cmd(as_json: bool = JsonOption) -> None:
    """Your alerts, armed or fired."""
    alerts, _ = _services()
    mine = alerts.mine(_user())
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
    alerts, _ = _services()
    alerts.delete(_user(), alert_id)
    typer.echo(f"Removed {alert_id}.")


@app.command("events")
def events_cmd(alert_id: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """An alert's firings and the state of each delivery."""
    alerts, _ = _services()
    events = alerts.events(_user(), alert_id)
    emit(
        events,
        as_json,
        lambda: (
            "\n".join(
                f"{e.fired_at:%Y-%m-%d %H:%M} {e.message}"
                + "".join(
                    f"\n  {d.channel.url}: {d.status} after {d.attempts}" for d in e.deliveries
                )
                for e in events
            )
            or "No firings yet."
        ),
    )


@app.command("run")
def run_cmd(as_json: bool = JsonOption) -> None:
    """Evaluate every alert now and send the deliveries that are due."""
    alerts, sender = _services()
    fired = alerts.sweep()
    sent = sender.run()
    emit(
        {"fired": [e.model_dump(mode="json") for e in fired], "deliveries": len(sent)},
        as_json,
        lambda: (
            "\n".join(e.message for e in fired) + f"\n{len(sent)} deliveries attempted"
            if fired
            else f"Nothing fired; {len(sent)} deliveries attempted."
        ),
    )
