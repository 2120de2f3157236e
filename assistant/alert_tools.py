"""The agent's alert tools: create an alert for the asker (trader role; no approval: an
alert trades nothing) and list theirs. Like the profile and watchlist tools they act
for the asker only; ``/v1/alerts`` serves programs."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, HttpUrl, ValidationError
from pydantic_ai import ModelRetry, RunContext, ToolFailed
from pydantic_ai.toolsets import FunctionToolset

from assistant.alerts import Alert, AlertService, WebhookChannel
from assistant.auth import Role
from assistant.deps import AgentDeps
from tools.alert_rules import ConditionType, make_condition
from tools.errors import ToolError
from tools.orders import Symbol


class AlertList(BaseModel):
    alerts: list[Alert]
    created: Alert | None = None

    def summary(self) -> str:
        if self.created is not None:
            return f"created {self.created.id}: {self.created.description}"
        return f"{len(self.alerts)} alert{'s' if len(self.alerts) != 1 else ''}"


def _service(ctx: RunContext[AgentDeps]) -> AlertService:
    if ctx.deps.alerts is None:
        raise ToolFailed("alerts are not available here")
    return ctx.deps.alerts


async def create_alert(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    condition: ConditionType,
    value: float,
    webhook_url: HttpUrl | None = None,
) -> AlertList:
    """Alert the asker when `condition` becomes true at a close: price_above/price_below
    (a price), pct_move (a fraction: 0.05 = 5% in a day), rsi_above/rsi_below (RSI 14
    level), cross_sma (a window in bars). Needs the trader role; it places no order."""
    user = ctx.deps.user
    if not user.role.allows(Role.TRADER):
        raise ToolFailed(f"creating alerts needs the trader role; you have the {user.role} role")
    service = _service(ctx)
    try:
        rule = make_condition(condition, value)
        channels = [WebhookChannel(url=webhook_url)] if webhook_url else []
        made = await asyncio.to_thread(service.create, user.id, symbol, rule, channels)
    except ToolError as exc:
        raise ModelRetry(str(exc)) from None
    except ValidationError as exc:
        raise ModelRetry("; ".join(e["msg"] for e in exc.errors())) from None
    mine = await asyncio.to_thread(service.mine, user.id)
    return AlertList(alerts=mine, created=Alert(**made.model_dump(exclude={"secret"})))


async def list_alerts(ctx: RunContext[AgentDeps]) -> AlertList:
    """The asker's alerts, armed or fired."""
    service = _service(ctx)
    return AlertList(alerts=await asyncio.to_thread(service.mine, ctx.deps.user.id))


ALERTS = FunctionToolset([create_alert, list_alerts], id="alerts")
