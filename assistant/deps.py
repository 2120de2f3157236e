"""What the agent's tools need for one turn, passed as pydantic-ai ``deps``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from assistant.auth import User
from assistant.settings import Settings
from assistant.workload import HeavyWork
from tools.broker import Broker
from tools.market_data import PriceStore
from tools.providers.live import LivePrices, PriceView, Refresh

if TYPE_CHECKING:  # Qdrant's client takes 1.3 s to import; a question may never search
    from assistant.alerts import AlertService
    from assistant.approvals import ApprovalService
    from assistant.briefings import BriefingService
    from assistant.profiles import ProfileStore
    from assistant.watchlists import WatchlistStore
    from retrieval.index import DocumentIndex


@dataclass
class AgentDeps:
    settings: Settings
    store: PriceStore
    user: User
    """Who acts: the asker, or the conversation's owner when a decision resumes a run."""
    owner: str
    """The conversation's owner: the requester of every order proposed in it."""
    conversation_id: str
    index_factory: Callable[[], DocumentIndex]
    broker_factory: Callable[[], Broker]
    heavy: HeavyWork
    live: LivePrices | None = None
    """Refreshes prices the store lacks from the provider (None: offline)."""
    as_of: date | None = None
    """The date the conversation is pinned to: no tool sees anything later."""
    on_refresh: Callable[[Refresh], None] | None = None
    """Told of each fetch from the provider (a step of the turn)."""
    orders: ApprovalService | None = None
    """Proposes orders; None where orders cannot be placed (MCP, the direct-tools API)."""
    proposed: list = field(default_factory=list)
    """Orders this turn proposed that wait for a person (not stored until the run
    pauses): the next order's checks count them."""
    proposing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Orders of one model response are proposed one at a time, each seeing the others."""
    profiles: ProfileStore | None = None
    """Users' risk profiles: the optimiser's defaults, and the profile tools."""
    watchlists: WatchlistStore | None = None
    alerts: AlertService | None = None
    briefings: BriefingService | None = None
    tool_seconds: float = 0.0
    close_index: bool = True
    """False when the index is shared by a long-running server."""
    _index: DocumentIndex | None = None
    _broker: Broker | None = None
    heavy_turn: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    """A turn's heavy calls ("backtest X and Y" is two) run one after another: the
    caller's bound is against other turns, not against the turn's own parts."""
    _opening: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Sync tools run in threads, several at once ("tell me about Pfizer and Merck" searches
    twice): one of them opens the index or the broker, the others wait for it. Two opens
    of the embedded index would collide on its file lock."""

    def prices(self) -> PriceView:
        """The prices one tool call reads: as of the pinned date, refreshed on demand."""
        return PriceView(self.store, self.live, as_of=self.as_of, on_refresh=self.on_refresh)

    def index(self) -> DocumentIndex:
        with self._opening:
            if self._index is None:
                self._index = self.index_factory()
            return self._index

    def broker(self) -> Broker:
        with self._opening:
            if self._broker is None:
                self._broker = self.broker_factory()
            return self._broker

    def today_only(self, what: str) -> None:
        """Refuse, as a tool failure the answer states, what acts on today's account or
        today's prices (an order, an alert, the account) in a conversation pinned to an
        earlier day: there it would look back with today's knowledge, or act on it."""
        if self.as_of is not None:
            from pydantic_ai import ToolFailed

            raise ToolFailed(
                f"{what} works on today's account and prices, and this conversation is "
                f"pinned to {self.as_of}: ask in a conversation that is not pinned"
            )

    def close(self) -> None:
        if self._index is not None and self.close_index:
            self._index.close()
        self._index = None


class DirectContext:
    """What a tool needs of pydantic-ai's RunContext when called without the agent
    (the direct-tools API and the MCP server): no tool call, nothing approved."""

    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps
        self.tool_call_id = None
        self.tool_call_approved = False
        self.tool_call_metadata = None


class ToolTimer:
    """Adds the wall time of tool work to ``deps.tool_seconds`` (for the overhead benchmark)."""

    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.deps.tool_seconds += time.perf_counter() - self.start
