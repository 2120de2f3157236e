"""What every agent tool shares: how a refusal reaches the model (and the HTTP status),
heavy work in the bounded pool, the window of prices a question means, and what a
result says about the freshness of its prices."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic_ai import ModelRetry, RunContext, ToolFailed

from assistant.deps import AgentDeps, ToolTimer
from assistant.workload import BusyError
from tools.errors import NoDataError, ToolError
from tools.providers.live import PriceView, RefreshStatus

SERVER_PATH = re.compile(r"(?<![\w:/])/(?:[\w.@+-]+/)+([\w.@+-]+)")


class ToolRefused(ModelRetry):
    """A tool refused its arguments: the model may correct them. ``error`` is the domain
    error behind it, which the direct routes turn into a status (an unknown symbol is a
    404, not a 400)."""

    def __init__(self, message: str, error: Exception) -> None:
        super().__init__(message)
        self.error = error


def retry(exc: Exception) -> ModelRetry:
    """The problem for the model and, through it, the user: no file path of the server
    (``/srv/data/qdrant`` is said as ``qdrant``)."""
    return ToolRefused(SERVER_PATH.sub(r"\1", str(exc)), exc)


async def heavy(ctx: RunContext[AgentDeps], fn, /, *args, **kwargs):
    """CPU-heavy work in the bounded pool, counted against the caller."""
    deps = ctx.deps
    with ToolTimer(deps):
        try:
            async with deps.heavy_turn:
                return await deps.heavy.run(deps.user.id, fn, *args, **kwargs)
        except BusyError as exc:
            raise ToolFailed(str(exc)) from exc
        except (ToolError, ValueError) as exc:
            raise retry(exc) from None


def window(view: PriceView, symbol: str, start: date | None, end: date | None):
    """The prices of [start, end]; when a window up to now ("the last year") starts after
    the stored prices end (a provider could not refresh them), the same span ending at the
    last stored close, said so; when they end well before ``end``, that is said too. A
    window in the past or the future the data does not reach stays an error."""
    try:
        frame = view.load(symbol, start, end)
    except NoDataError:
        last = view.store.info(symbol).end if view.store.exists(symbol) else None
        today = date.today()
        recent = end is None or today - timedelta(days=7) <= end <= today + timedelta(days=1)
        if start is None or last is None or start <= last or start > today or not recent:
            raise
        span = (end or max(start, last)) - start
        start = last - span
        frame = view.load(symbol, start, last)
        return (
            frame,
            start,
            [
                f"No {frame.symbol} prices after {last}: shown is the same span of time ending "
                f"{last} ({frame.frame.index[0].date()} to {last})."
            ],
        )
    if end is not None and (end - frame.as_of).days > 7 and frame.as_of < min(end, date.today()):
        return frame, start, [f"{frame.symbol}'s prices end {frame.as_of}, before {end}."]
    return frame, start, []


def freshness(view: PriceView, said: list[str] = ()) -> dict[str, list]:
    """What a result built on prices says of them: refresh failures and stale data (for
    the answer), with ``said`` (what :func:`window` noted of the span shown), and what
    was fetched (a step of the turn)."""
    return {
        "data_notes": [*view.notes(), *said],
        "fetched": [r for r in view.refreshes.values() if r.status is RefreshStatus.FETCHED],
    }
