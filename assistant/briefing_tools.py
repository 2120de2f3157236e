"""The agent's briefing tools, for the asker only (like the watchlist tools): the facts
for a briefing on one of their watchlists, and a schedule that writes and delivers one
daily or weekly (trader role: it sends to channels)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Literal

from pydantic import EmailStr, Field
from pydantic_ai import ModelRetry, RunContext, ToolFailed
from pydantic_ai.toolsets import FunctionToolset

from assistant.auth import Role
from assistant.briefing_facts import BriefingFacts, FiredAlert, gather
from assistant.briefings import WEEKDAYS, BriefingSchedule, Cadence
from assistant.channels import EmailChannel, SlackChannel, WidgetChannel, slack_user
from assistant.deps import AgentDeps
from assistant.watchlists import ListName
from tools.errors import ToolError

Days = Annotated[int, Field(ge=1, le=31, description="1 for a daily briefing, 7 for a weekly.")]


async def get_briefing(
    ctx: RunContext[AgentDeps], watchlist: ListName | None = None, days: Days = 1
) -> BriefingFacts:
    """The facts for a briefing on one of your watchlists (`default` unless named): each
    symbol's close, 1- and 5-day moves, RSI(14) and 50-day average; the filings and news
    about them in the last `days` days, to cite as [n]; and your alerts that fired."""
    deps = ctx.deps
    if deps.watchlists is None:
        raise ToolFailed("watchlists are not available here")
    try:
        listed = await asyncio.to_thread(deps.watchlists.get, deps.user.id, watchlist)
    except ToolError as exc:
        raise ModelRetry(str(exc)) from None
    name = watchlist or "default"
    if listed is None or not listed.symbols:
        raise ToolFailed(
            f"your watchlist '{name}' is empty: add symbols first "
            '(e.g. "add AAPL and MSFT to my watchlist")'
        )
    alerts = deps.alerts

    def fired(since: date) -> list[FiredAlert]:
        if alerts is None:
            return []
        return [
            FiredAlert(alert_id=e.alert_id, fired_at=e.fired_at, as_of=e.as_of, message=e.message)
            for e in alerts.fired_since(deps.user.id, since)
            if deps.as_of is None or e.as_of <= deps.as_of
        ]

    def run() -> BriefingFacts:
        index = None
        try:
            index = deps.index()
        except Exception:  # no index: a briefing on prices alone
            index = None
        return gather(listed.name, listed.symbols, days, deps.prices(), index, fired, deps.as_of)

    return await asyncio.to_thread(run)


async def schedule_briefing(
    ctx: RunContext[AgentDeps],
    watchlist: ListName | None = None,
    cadence: Cadence = Cadence.DAILY,
    hour: Annotated[int, Field(ge=0, le=23, description="Hour of the day, UTC.")] = 7,
    weekday: Literal[WEEKDAYS] | None = None,  # type: ignore[valid-type]
    email: EmailStr | None = None,
) -> BriefingSchedule:
    """Write a briefing on one of your watchlists every day (or week, on `weekday`) at
    `hour` UTC and deliver it: to the widget, your Slack DM when you came from Slack, and
    `email` when given. Needs the trader role."""
    deps = ctx.deps
    if not deps.user.role.allows(Role.TRADER):
        raise ToolFailed(f"scheduling briefings needs the trader role; you have {deps.user.role}")
    if deps.briefings is None:
        raise ToolFailed("briefings are not available here")
    channels: list = [WidgetChannel(type="widget")]
    if slack_user(deps.user.id) and deps.settings.slack_bot_token:
        channels.append(SlackChannel(type="slack"))
    if email:
        channels.append(EmailChannel(type="email", to=email))
    day = WEEKDAYS.index(weekday) if weekday else None
    try:
        made = await asyncio.to_thread(
            deps.briefings.schedule, deps.user.id, watchlist, cadence, hour, day, channels
        )
    except ToolError as exc:
        raise ModelRetry(str(exc)) from None
    return BriefingSchedule(**made.model_dump(exclude={"secret"}))


BRIEFINGS = FunctionToolset([get_briefing, schedule_briefing], id="briefings")
