"""Route dependencies, as ``Annotated`` types: the app's shared state, the calling user
and the role a route requires (the FastAPI full-stack template's ``deps.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.state import ApiState
from assistant.auth import Role, User


def api_state(request: Request) -> ApiState:
    return request.app.state.api


State = Annotated[ApiState, Depends(api_state)]


async def current_user(request: Request, state: State) -> User:
    return await state.auth.current_user(request)


def require(needed: Role):
    """A dependency that yields the caller when their role allows ``needed`` (403 if not)."""

    async def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.role.allows(needed):
            raise HTTPException(403, f"{needed.value} role required (you are {user.role.value})")
        return user

    check.__name__ = f"require_{needed.value}"
    return check


Viewer = Annotated[User, Depends(require(Role.VIEWER))]
Trader = Annotated[User, Depends(require(Role.TRADER))]
Approver = Annotated[User, Depends(require(Role.APPROVER))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]


def check_length(state: ApiState, message: str) -> None:
    """The configured question length (the schema's bound is the storage limit)."""
    limit = state.settings.max_message_chars
    if len(message) > limit:
        raise HTTPException(413, f"message is {len(message)} characters; the limit is {limit}")
