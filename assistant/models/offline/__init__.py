"""The offline model, in parts: entities (which securities), dates (which period),
intents (what is asked: examples + keywords), params (settings), orders (orders from
words), plan (tool calls), answer (the text), model (the pydantic-ai glue).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

from pydantic_ai.models.function import FunctionModel

from assistant.models.offline.entities import security_master
from assistant.models.offline.intents import Router
from assistant.models.offline.model import MODEL_NAME, OfflineModel
from assistant.models.offline.plan import Planner
from retrieval.fast_embedder import fast_embedder

__all__ = ["MODEL_NAME", "offline_model", "planner", "prepare"]


def planner(
    symbols: Callable[[], set[str]],
    anchor: Callable[[], date],
    cache_dir: Path | None,
    fetchable: bool = False,
    refresh: Callable[[list[str], date | None], None] | None = None,
) -> Planner:
    return Planner(security_master(), shared_router(cache_dir), symbols, anchor, fetchable, refresh)


@cache
def shared_router(cache_dir: Path | None) -> Router:
    """One router per model cache per process: a model is resolved for every turn, and
    the router's examples, their vectors and its recent scorings outlive the turn."""
    return Router(fast_embedder(cache_dir) if cache_dir is not None else None, cache_dir)


def offline_model(
    symbols: Callable[[], set[str]],
    anchor: Callable[[], date],
    cache_dir: Path | None,
    fetchable: bool = False,
    refresh: Callable[[list[str], date | None], None] | None = None,
) -> FunctionModel:
    return OfflineModel(planner(symbols, anchor, cache_dir, fetchable, refresh)).function_model()


def prepare(cache_dir: Path) -> bool:
    """Ready the intent model ahead of the first question (a server does this at start,
    in the background), with the security master the planner reads. False when the
    intent model is unavailable and routing uses keywords only."""
    security_master()
    return shared_router(cache_dir).prepare()
