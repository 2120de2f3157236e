"""The chat widget's page and script, and the browser session it runs in: a one-use
login link (printed by ``assistant serve``) opens a session cookie; logout ends it."""

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from api.auth import SESSION_COOKIE
from api.deps import State, Viewer
from api.schemas import LoggedOut, Me

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/", include_in_schema=False)
async def home() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/widget.js", include_in_schema=False)
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="application/javascript")


@router.get("/v1/me", tags=["auth"], response_model=Me)
async def me(user: Viewer) -> Me:
    return Me(id=user.id, role=user.role.value)


@router.get("/login", include_in_schema=False)
async def login(state: State, token: Annotated[str, Query(max_length=200)]):
    if token not in state.login_tokens:
        raise HTTPException(401, "this login link is invalid or was already used")
    state.login_tokens.discard(token)
    settings = state.settings
    _, session = await asyncio.to_thread(
        state.keys.open_session, settings.login_role, settings.session_hours
    )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        httponly=True,
        samesite="strict",
        max_age=int(settings.session_hours * 3600),
    )
    return response


@router.post(
    "/v1/logout",
    tags=["auth"],
    summary="End this browser session",
    response_model=LoggedOut,
)
async def logout(request: Request, state: State) -> JSONResponse:
    """Idempotent: ``logged_out`` is false when there was no open session to end (API
    keys are revoked with ``assistant keys revoke``). The cookie is cleared either way."""
    token = request.cookies.get(SESSION_COOKIE)
    ended = bool(token) and await asyncio.to_thread(state.keys.close_session, token)
    response = JSONResponse(LoggedOut(logged_out=ended).model_dump())
    response.delete_cookie(SESSION_COOKIE)
    return response
