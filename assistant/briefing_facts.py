"""What a briefing on a watchlist is written from: each symbol's moves and readings, the
filings and news about them in the period (with citations), and the asker's alerts that
fired in it. ``get_briefing`` is the agent's tool; the agent (the offline model too)
writes the briefing from its result, as it writes any answer from tool results.

The period is the last ``days`` calendar days up to the data's date (the latest close
among the symbols; today's date when none has prices), so a briefing over stored data
is about that data's last days, and a conversation pinned to a date sees nothing after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field
from pydantic_ai import ModelRetry, RunContext, ToolFailed
from pydantic_ai.toolsets import FunctionToolset

from assistant.deps import AgentDeps
from retrieval.models import Citation, SearchFilters
from tools.briefing import Snapshot, snapshot
from tools.errors import ToolError

MAX_DOCUMENTS = 8
"""Documents cited in one briefing (newest first)."""


class FiredAlert(BaseModel):
    alert_id: str
    fired_at: datetime
    as_of: date = Field(description="The date of the close or document that fired it.")
    message: str


class BriefingFacts(BaseModel):
    watchlist: str
    symbols: list[str]
    days: int = Field(description="The period: this many calendar days up to `as_of`.")
    since: date = Field(description="The period's first day.")
    as_of: date
    snapshots: list[Snapshot]
    missing: list[str] = Field(description="Symbols with no stored prices.")
    hits: list[Citation] = Field(description="Filings and news in the period; cite each as [n].")
    latest_on_file: bool = Field(
        description="True when nothing was published in the period and `hits` are the "
        "latest documents on file instead."
    )
    alerts_fired: list[FiredAlert]
    source: str | None = None

    def summary(self) -> str:
        return (
            f"{self.watchlist}: {len(self.snapshots)} symbols, {len(self.hits)} documents, "
            f"{len(self.alerts_fired)} alerts fired"
        )


def gather(
    name: str,
    symbols: list[str],
    days: int,
    prices: Any,
    index: Any | None,
    fired: Callable[[date], list[FiredAlert]],
    as_of: date | None = None,
) -> BriefingFacts:
    """``prices``: anything with ``load(symbol, end=)``; ``index``: the document index
    (None: no documents); ``fired(since)``: the asker's alert firings since then."""
    snapshots, missing, sources = [], [], []
    for symbol in symbols:
        try:
            frame = prices.load(symbol, end=as_of)
            snapshots.append(snapshot(symbol, frame.price, frame.source))
        except (ToolError, ValueError):
            missing.append(symbol)
            continue
        if frame.source not in sources:
            sources.append(frame.source)
    end = as_of or max((s.as_of for s in snapshots), default=None) or date.today()
    since = end - timedelta(days=days - 1)
    hits, latest = _documents(index, symbols, since, end)
    return BriefingFacts(
        watchlist=name,
        symbols=symbols,
        days=days,
        since=since,
        as_of=end,
        snapshots=snapshots,
        missing=missing,
        hits=hits,
        latest_on_file=latest,
        alerts_fired=fired(since),
        source=", ".join(sources) or None,
    )


def _documents(
    index: Any | None, symbols: list[str], since: date, end: date
) -> tuple[list[Citation], bool]:
    if index is None:
        return [], False
    known = [s for s in symbols if s in index.tickers()]
    if not known:
        return [], False
    chunks = index.chunks(SearchFilters(tickers=known, as_of=end))
    first: dict[str, Any] = {}
    for c in sorted(chunks, key=lambda c: c.position):
        first.setdefault(c.doc_id, c)
    documents = sorted(first.values(), key=lambda c: (c.published_at, c.doc_id), reverse=True)
    recent = [c for c in documents if c.published_at >= since]
    latest = not recent
    chosen = (recent or documents)[: MAX_DOCUMENTS if recent else 3]
    from retrieval.index import snippet

    return [
        Citation(
            n=n,
            doc_id=c.doc_id,
            title=c.title,
            source=c.source,
            published_at=c.published_at,
            section=c.section,
            snippet=snippet(c.text),
            url=c.url,
        )
        for n, c in enumerate(chosen, start=1)
    ], latest and bool(chosen)


Days = Annotated[int, Field(ge=1, le=31, description="1 for a daily briefing, 7 for a weekly.")]
ListName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][\w-]*$")]


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


BRIEFINGS = FunctionToolset([get_briefing], id="briefings")
