"""The agent's alert tools: create an alert for the asker (trader role; no approval: an
alert trades nothing) and list theirs. Like the profile and watchlist tools they act
for the asker only; ``/v1/alerts`` serves programs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, HttpUrl, ValidationError
from pydantic_ai import ModelRetry, RunContext, ToolFailed
from pydantic_ai.toolsets import FunctionToolset

from assistant.alert_rows import Alert
from assistant.alerts import AlertService
from assistant.auth import Role
from assistant.channels import EmailChannel, SlackChannel, WebhookChannel, WidgetChannel
from assistant.deps import AgentDeps
from tools.alert_rules import ConditionType, make_condition
from tools.errors import ToolError
from tools.orders import Symbol


class AlertList(BaseModel):
    alerts: list[Alert]
    created: Alert | None = None
    removed: list[Alert] = Field(default_factory=list)

    def summary(self) -> str:
        if self.created is not None:
            return f"created {self.created.id}: {self.created.description}"
        if self.removed:
            return f"removed {', '.join(a.id for a in self.removed)}"
        return f"{len(self.alerts)} alert{'s' if len(self.alerts) != 1 else ''}"


def _service(ctx: RunContext[AgentDeps]) -> AlertService:
    if ctx.deps.alerts is None:
        raise ToolFailed("alerts are not available here")
    return ctx.deps.alerts


def _trader(ctx: RunContext[AgentDeps], what: str) -> None:
    user = ctx.deps.user
    if not user.role.allows(Role.TRADER):
        raise ToolFailed(f"{what} needs the trader role; you have the {user.role} role")


async def create_alert(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    condition: ConditionType | Literal["price_reaches"],
    value: float | Annotated[list[str], Field(max_length=10)] | None = None,
    webhook_url: HttpUrl | None = None,
    email: EmailStr | None = None,
    slack_channel: str | None = None,
    slack_dm: bool = False,
    widget: bool = False,
) -> AlertList:
    """Alert the asker when `condition` becomes true: price_above/price_below (a price),
    pct_move (a fraction: 0.05 = 5% in a day, either way; pct_drop and pct_rise one way
    only: "drops 5%" is pct_drop 0.05), rsi_above/rsi_below (RSI 14 level),
    cross_sma (a window in bars), anomaly (robust z of the day's return, default 5),
    new_filing (forms such as ["8-K"]; none = any), news_sentiment (a story's score -1..1:
    0.5 strongly positive, -0.5 strongly negative); price_reaches (a price: above it
    when the last close is below, below it otherwise). Channels: a webhook URL, an e-mail
    address, a Slack channel or the asker's Slack DM, the widget. Needs the trader role;
    it places no order."""
    _trader(ctx, "creating alerts")
    ctx.deps.today_only("an alert")
    service = _service(ctx)
    try:
        if condition == "price_reaches":
            condition = await asyncio.to_thread(_side, ctx, symbol, value)
        rule = make_condition(condition, value)
        channels: list = [WebhookChannel(type="webhook", url=webhook_url)] if webhook_url else []
        if email:
            channels.append(EmailChannel(type="email", to=email))
        if slack_channel or slack_dm:
            channels.append(SlackChannel(type="slack", channel=slack_channel))
        if widget:
            channels.append(WidgetChannel(type="widget"))
        made = await asyncio.to_thread(
            service.create, ctx.deps.user.id, symbol, rule, channels, ctx.deps.index
        )
    except ToolError as exc:
        raise ModelRetry(str(exc)) from None
    except ValidationError as exc:
        raise ModelRetry("; ".join(e["msg"] for e in exc.errors())) from None
    mine = await asyncio.to_thread(service.mine, ctx.deps.user.id)
    return AlertList(alerts=mine, created=Alert(**made.model_dump(exclude={"secret"})))


def _side(ctx: RunContext[AgentDeps], symbol: str, level: object) -> ConditionType:
    """ "When KO hits 70": above 70 if it closes below it now, below 70 otherwise."""
    if not isinstance(level, int | float):
        raise ToolError("price_reaches needs a price")
    last = float(ctx.deps.prices().load(symbol).price.dropna().iloc[-1])
    return ConditionType.PRICE_ABOVE if last < level else ConditionType.PRICE_BELOW


async def list_alerts(ctx: RunContext[AgentDeps]) -> AlertList:
    """The asker's alerts, armed or fired."""
    service = _service(ctx)
    return AlertList(alerts=await asyncio.to_thread(service.mine, ctx.deps.user.id))


async def delete_alerts(
    ctx: RunContext[AgentDeps],
    alert_ids: Annotated[list[str], Field(max_length=50)] = [],  # noqa: B006
    symbol: Symbol | None = None,
    kinds: Annotated[list[ConditionType], Field(max_length=9)] = [],  # noqa: B006
    value: float | None = None,
    every: bool = False,
) -> AlertList:
    """Delete the asker's alerts: by id; or those on `symbol`, of `kinds` (condition
    types) and at the level `value`, as far as each is given; or all of them (`every`)."""
    _trader(ctx, "deleting alerts")
    service, user = _service(ctx), ctx.deps.user.id

    def chosen(a: Alert) -> bool:
        if every or a.id in alert_ids:
            return True
        if alert_ids or not (symbol or kinds or value is not None):
            return False
        return (
            (symbol is None or a.symbol == symbol.upper())
            and (not kinds or a.condition.type in kinds)
            and (value is None or getattr(a.condition, "value", None) == value)
        )

    def remove() -> list[Alert]:
        mine = service.mine(user)
        unknown = [i for i in alert_ids if i not in {a.id for a in mine}]
        if unknown:
            raise ToolError(f"no alert {unknown[0]!r} of yours")
        gone = [a for a in mine if chosen(a)]
        if not gone:
            what = " ".join(
                part
                for part in (
                    ", ".join(k.value for k in kinds) if kinds else "",
                    f"on {symbol}" if symbol else "",
                    f"at {value:g}" if value is not None else "",
                )
                if part
            )
            raise ToolError(f"you have no alert {what}".strip() if what else "you have no alerts")
        for a in gone:
            service.delete(user, a.id)
        return gone

    try:
        removed = await asyncio.to_thread(remove)
    except ToolError as exc:
        raise ModelRetry(str(exc)) from None
    return AlertList(alerts=await asyncio.to_thread(service.mine, user), removed=removed)


ALERTS = FunctionToolset([create_alert, list_alerts, delete_alerts], id="alerts")
