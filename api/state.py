"""What every request of one app shares: settings, services, keys, metrics and the
embedded index. One :class:`ApiState` per app (tests build many apps in one process),
kept in ``app.state.api`` and handed to routes by :func:`api.deps.api_state`."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from api.auth import Authenticator
from api.metrics import Metrics
from assistant.keys import KeyStore
from assistant.services import Services
from assistant.settings import Settings

if TYPE_CHECKING:
    from retrieval.index import DocumentIndex


class SharedIndex:
    """The document index of this process, opened on first use: loading the embedder
    takes seconds, so it happens in a worker thread (callers use ``asyncio.to_thread``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: DocumentIndex | None = None
        self._lock = threading.Lock()

    def __call__(self) -> DocumentIndex:
        from assistant.resources import document_index

        with self._lock:
            if self._index is None:
                self._index = document_index(self.settings)
            return self._index

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None


@dataclass
class ApiState:
    settings: Settings
    services: Services
    keys: KeyStore
    auth: Authenticator
    metrics: Metrics
    index: SharedIndex
    shutting_down: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by sse-starlette when the server begins to stop: streams drain, then end."""
    login_tokens: set[str] = field(default_factory=set)
    """One-use tokens of ``assistant serve``'s login link."""
