"""The agent's watchlist tools: the asker's named lists of symbols ("add NVDA to my
watchlist", "what's on my watchlist"). They act for the asker only: like the profile
tools, they are not on MCP or ``/v1/tools``; ``/v1/watchlists`` serves programs."""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import BaseModel, Field
from pydantic_ai import ModelRetry, RunContext, ToolFailed
from pydantic_ai.toolsets import FunctionToolset

from assistant.deps import AgentDeps
from assistant.tool_support import retry
from assistant.watchlists import ListName, Watchlist, WatchlistStore
from tools.errors import InvalidInputError, NoDataError, ToolError, UnavailableError
from tools.orders import Symbol

Symbols = Annotated[list[Symbol], Field(max_length=100)]


class Watchlists(BaseModel):
    lists: list[Watchlist]
    changed: Watchlist | None = Field(None, description="The list this call changed.")
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    deleted: Watchlist | None = Field(None, description="The list this call deleted.")

    def summary(self) -> str:
        if self.deleted is not None:
            return f"deleted {self.deleted.name}"
        if self.changed is not None:
            return self.changed.summary()
        return f"{len(self.lists)} watchlist{'s' if len(self.lists) != 1 else ''}"


def _store(ctx: RunContext[AgentDeps]) -> WatchlistStore:
    if ctx.deps.watchlists is None:
        raise ToolFailed("watchlists are not available here")
    return ctx.deps.watchlists


async def get_watchlists(ctx: RunContext[AgentDeps]) -> Watchlists:
    """Your watchlists (named lists of symbols; `default` unless you named one)."""
    store = _store(ctx)
    return Watchlists(lists=await asyncio.to_thread(store.all, ctx.deps.user.id))


async def update_watchlist(
    ctx: RunContext[AgentDeps],
    add: Symbols = [],  # noqa: B006
    remove: Symbols = [],  # noqa: B006
    name: ListName | None = None,
) -> Watchlists:
    """Add symbols to, or remove them from, one of your watchlists (`default` unless
    named; created on the first add)."""
    store, user = _store(ctx), ctx.deps.user.id

    def change() -> Watchlist:
        changed = None
        if add:
            changed = store.add(user, name, list(add))
        if remove:
            changed = store.remove(user, name, list(remove))
        if changed is None:
            raise ModelRetry("name symbols to add or to remove")
        return changed

    try:
        changed = await asyncio.to_thread(change)
    except ToolError as exc:
        raise ModelRetry(str(exc)) from None
    lists = await asyncio.to_thread(store.all, user)
    return Watchlists(lists=lists, changed=changed, added=list(add), removed=list(remove))


async def delete_watchlist(ctx: RunContext[AgentDeps], name: ListName | None = None) -> Watchlists:
    """Delete one of your watchlists (`default` unless named), all its symbols with it."""
    store, user = _store(ctx), ctx.deps.user.id
    try:
        gone = await asyncio.to_thread(store.get, user, name)
        if gone is None or not await asyncio.to_thread(store.delete, user, name):
            raise ModelRetry(f"you have no watchlist {(name or 'default')!r}")
    except ToolError as exc:
        raise ModelRetry(str(exc)) from None
    lists = await asyncio.to_thread(store.all, user)
    return Watchlists(lists=lists, deleted=gone)


WATCHLISTS = FunctionToolset([get_watchlists, update_watchlist, delete_watchlist], id="watchlists")


def watched_symbols(deps: AgentDeps, name: str) -> list[str]:
    """The symbols of the asker's watchlist ``name`` (for another tool: a screen of it);
    a refusal the asker can act on (the
    API's 404) when there is none, or it is empty."""
    if deps.watchlists is None:
        raise retry(UnavailableError("watchlists are not kept here: name the symbols instead"))
    try:
        found = deps.watchlists.get(deps.user.id, name)
    except InvalidInputError as exc:
        raise retry(exc) from None
    if found is None:
        raise retry(NoDataError(f"you have no watchlist '{name}'"))
    if not found.symbols:
        raise retry(NoDataError(f"your watchlist '{name}' is empty"))
    return found.symbols
