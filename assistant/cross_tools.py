"""The agent's tool for when moving averages crossed ("did JPM have a golden cross
recently?"); the computation is :mod:`tools.crosses`. Prices come through the caller's
view (pinned date, live refresh), warmed up on all the history before the window."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_ai import RunContext

from assistant.deps import AgentDeps, ToolTimer
from assistant.results import MAX_CROSSES, CrossSummary, r
from assistant.tool_support import freshness, retry, window
from retrieval.days import Day
from tools.crosses import Cross, find_crosses
from tools.errors import ToolError
from tools.orders import Symbol

Bars = Annotated[int, Field(ge=1, le=400, description="An SMA's length in closes.")]


def _rounded(c: Cross) -> Cross:
    return c.model_copy(update={"close": r(c.close, 2), "fast": r(c.fast, 4), "slow": r(c.slow, 4)})


def find_sma_crosses(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    slow: Bars = 200,
    fast: Bars = 50,
    start: Day | None = None,
    end: Day | None = None,
) -> CrossSummary:
    """When the `fast`-close SMA crossed the `slow`-close SMA of one symbol over [start,
    end] (default: all stored data): golden crosses (up) and death crosses (down). With
    `fast` 1 (a 1-close average is the close), when the price crossed its `slow`-close SMA
    (above / below): "when did KO last cross above its 50-day average" is slow 50, fast 1."""
    view = ctx.deps.prices()
    with ToolTimer(ctx.deps):
        try:
            frame, start, said = window(view, symbol, start, end)  # checks the range and pin
            history = view.load(symbol, None, frame.as_of)  # the averages' warm-up too
            found = find_crosses(history, slow, fast, start)
        except ToolError as exc:
            raise retry(exc) from None
    return CrossSummary(
        symbol=found.symbol,
        as_of=found.as_of,
        source=history.source,
        start=found.start,
        end=found.end,
        fast=found.fast,
        slow=found.slow,
        count=len(found.crosses),
        crosses=[_rounded(c) for c in found.crosses[-MAX_CROSSES:]],
        before=_rounded(found.before) if found.before else None,
        fast_now=r(found.fast_now, 4),
        slow_now=r(found.slow_now, 4),
        above_now=found.above_now,
        **freshness(view, said),
    )


TOOLS = [find_sma_crosses]
