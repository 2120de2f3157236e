"""What the agent's tools need for one turn, passed as pydantic-ai ``deps``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.auth import User
from assistant.settings import Settings
from retrieval.index import DocumentIndex
from tools.broker import Broker
from tools.market_data import PriceStore
from tools.orders import BrokerOrder


@dataclass
class AgentDeps:
    settings: Settings
    store: PriceStore
    user: User
    conversation_id: str
    index_factory: Callable[[], DocumentIndex]
    broker_factory: Callable[[], Broker]
    executed_orders: dict[str, BrokerOrder | str] = field(default_factory=dict)
    """tool_call_id -> the broker's order (or why none), filled by the approval flow."""
    tool_seconds: float = 0.0
    close_index: bool = True
    """False when the index is shared by a long-running server."""
    _index: DocumentIndex | None = None
    _broker: Broker | None = None

    def index(self) -> DocumentIndex:
        if self._index is None:
            self._index = self.index_factory()
        return self._index

    def broker(self) -> Broker:
        if self._broker is None:
            self._broker = self.broker_factory()
        return self._broker

    def close(self) -> None:
        if self._index is not None and self.close_index:
            self._index.close()
        self._index = None


class DirectContext:
    """What a tool needs of pydantic-ai's RunContext when called without the agent
    (the direct-tools API and the MCP server)."""

    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps
        self.tool_call_id = None


class ToolTimer:
    """Adds the wall time of tool work to ``deps.tool_seconds`` (for the overhead benchmark)."""

    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.deps.tool_seconds += time.perf_counter() - self.start
