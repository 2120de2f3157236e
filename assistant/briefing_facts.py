"""What a briefing on a watchlist is written from: each symbol's moves and readings, the
filings and news about them in the period (with citations), and the asker's alerts that
fired in it. The agent's ``get_briefing`` (assistant/briefing_tools.py) returns them; the
agent (the offline model too) writes the briefing from its result, as it writes any
answer from tool results.

The period is the last ``days`` calendar days up to the data's date (the latest close
among the symbols; today's date when none has prices), so a briefing over stored data
is about that data's last days, and a conversation pinned to a date sees nothing after it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

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
    from retrieval.index import cite  # the index is open: its module is loaded already

    return [cite(n, c) for n, c in enumerate(chosen, start=1)], latest and bool(chosen)
