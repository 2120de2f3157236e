"""API keys: only a hash is stored; the key is shown once, when it is created.

A key reads ``ma_<id>_<secret>``: the id finds the row, the secret is checked against
its SHA-256 in constant time. Keys carry a role (viewer < trader < approver < admin).

The server checks a key on every request; a verdict is remembered for ``CACHE_SECONDS``
so that a burst of requests does not queue on the database. A revocation therefore
takes effect within that time in every running server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, select

from assistant.auth import Role, User
from assistant.schema import ensure_schema
from assistant.store import NotFoundError, aware, utcnow

CACHE_SECONDS = 10.0


class SessionRow(SQLModel, table=True):
    """A browser session opened by the login link: it expires, and logout revokes it."""

    __tablename__ = "browser_sessions"

    id: str = Field(primary_key=True)
    role: str
    secret_sha256: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked: bool = False


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: str = Field(primary_key=True)
    name: str
    role: str
    secret_sha256: str
    created_at: datetime = Field(default_factory=utcnow)
    revoked: bool = False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._verdicts: dict[str, tuple[User | None, float]] = {}
        ensure_schema(engine)

    def create(self, role: Role, name: str = "") -> tuple[ApiKeyRow, str]:
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
        row = ApiKeyRow(
            id=key_id,
            name=name or f"{role.value} key",
            role=role.value,
            secret_sha256=_digest(secret),
        )
        with Session(self.engine) as s:
            s.add(row)
            s.commit()
            s.refresh(row)
        return row, f"ma_{key_id}_{secret}"

    def open_session(self, role: Role, hours: float) -> tuple[SessionRow, str]:
        """A browser session; the token (``ms_<id>_<secret>``) is shown once, as a cookie."""
        session_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        row = SessionRow(
            id=session_id,
            role=role.value,
            secret_sha256=_digest(secret),
            expires_at=utcnow() + timedelta(hours=hours),
        )
        with Session(self.engine) as s:
            s.add(row)
            s.commit()
            s.refresh(row)
        return row, f"ms_{session_id}_{secret}"

    def close_session(self, token: str) -> bool:
        """Logout: the session is revoked at once (here) and within CACHE_SECONDS elsewhere."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "ms":
            return False
        with Session(self.engine) as s:
            row = s.get(SessionRow, parts[1])
            if row is None or not hmac.compare_digest(row.secret_sha256, _digest(parts[2])):
                return False
            row.revoked = True
            s.add(row)
            s.commit()
        self._verdicts.pop(_digest(token), None)
        return True

    def verify(self, key: str) -> User | None:
        """The user an API key (``ma_``) or a session token (``ms_``) stands for, if valid."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] not in ("ma", "ms"):
            return None
        table = ApiKeyRow if parts[0] == "ma" else SessionRow
        with Session(self.engine) as s:
            row = s.get(table, parts[1])
        if (
            row is None
            or row.revoked
            or not hmac.compare_digest(row.secret_sha256, _digest(parts[2]))
        ):
            return None
        if isinstance(row, SessionRow):
            if aware(row.expires_at) < utcnow():
                return None
            return User(id=f"session:{row.id}", role=Role(row.role))
        return User(id=f"key:{row.id}", role=Role(row.role))

    async def verify_cached(self, key: str) -> User | None:
        """`verify` for the server: off the event loop, remembered for CACHE_SECONDS."""
        digest = _digest(key)
        now = time.monotonic()
        hit = self._verdicts.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        user = await asyncio.to_thread(self.verify, key)
        if len(self._verdicts) > 10_000:  # forged keys must not grow it without bound
            self._verdicts = {d: v for d, v in self._verdicts.items() if v[1] > now}
            if len(self._verdicts) > 10_000:
                self._verdicts.clear()
        self._verdicts[digest] = (user, now + CACHE_SECONDS)
        return user

    def role_of(self, user_id: str) -> Role | None:
        """The role a user id has now (a run resumed on its owner's behalf, an approval
        whose requester may have been revoked); None for an id no credential stands for.

        Ids name where the user came from: ``key:ID`` (an API key; revoked: a viewer),
        ``session:ID`` (a browser session; ended: a viewer), ``slack:U…`` (Slack users chat
        as traders), ``local`` (whoever owns the data dir, on the CLI) and ``anonymous``
        (auth off, loopback only).
        """
        kind, _, ident = user_id.partition(":")
        if kind in ("key", "session"):
            with Session(self.engine) as s:
                row = s.get(ApiKeyRow if kind == "key" else SessionRow, ident)
            ended = row is None or row.revoked
            if isinstance(row, SessionRow) and not ended:
                ended = aware(row.expires_at) < utcnow()
            return Role.VIEWER if ended else Role(row.role)
        return {"slack": Role.TRADER, "local": Role.ADMIN, "anonymous": Role.ADMIN}.get(kind)

    def revoke(self, key_id: str) -> ApiKeyRow:
        with Session(self.engine) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError(f"no API key {key_id!r}")
            row.revoked = True
            s.add(row)
            s.commit()
            s.refresh(row)
        return row

    def list(self) -> list[ApiKeyRow]:
        with Session(self.engine) as s:
            return list(s.exec(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all())
