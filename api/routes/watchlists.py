"""The caller's watchlists: named lists of symbols (``default`` unless named). Any
signed-in user keeps their own; ``PUT`` replaces a list (and creates it)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import State, Viewer
from assistant.watchlists import MAX_SYMBOLS, Watchlist
from tools.orders import Symbol

router = APIRouter(tags=["watchlists"])
ListName = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", description="1-40 letters, digits, - or _"),
]


class WatchlistBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: list[Symbol] = Field(max_length=MAX_SYMBOLS)


@router.get("/v1/watchlists", response_model=list[Watchlist], summary="All your watchlists")
async def all_watchlists(user: Viewer, state: State) -> list[Watchlist]:
    return await asyncio.to_thread(state.services.watchlists.all, user.id)


@router.get(
    "/v1/watchlists/{name}",
    response_model=Watchlist,
    responses={404: {"description": "No watchlist of that name"}},
    summary="One of your watchlists",
)
async def get_watchlist(name: ListName, user: Viewer, state: State) -> Watchlist:
    found = await asyncio.to_thread(state.services.watchlists.get, user.id, name)
    if found is None:
        raise HTTPException(404, f"you have no watchlist {name.lower()!r}")
    return found


@router.put(
    "/v1/watchlists/{name}",
    response_model=Watchlist,
    summary="Replace (or create) one of your watchlists",
)
async def put_watchlist(
    name: ListName, body: WatchlistBody, user: Viewer, state: State
) -> Watchlist:
    return await asyncio.to_thread(state.services.watchlists.put, user.id, name, body.symbols)


@router.delete(
    "/v1/watchlists/{name}",
    status_code=204,
    response_class=Response,
    responses={404: {"description": "No watchlist of that name"}},
    summary="Delete one of your watchlists",
)
async def delete_watchlist(name: ListName, user: Viewer, state: State) -> Response:
    if not await asyncio.to_thread(state.services.watchlists.delete, user.id, name):
        raise HTTPException(404, f"you have no watchlist {name.lower()!r}")
    return Response(status_code=204)
