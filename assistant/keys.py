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
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, select

from assistant.auth import Role, User
from assistant.store import NotFoundError, utcnow

CACHE_SECONDS = 10.0


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
        SQLModel.metadata.create_all(engine, tables=[ApiKeyRow.__table__])

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

    def verify(self, key: str) -> User | None:
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "ma":
            return None
        with Session(self.engine) as s:
            row = s.get(ApiKeyRow, parts[1])
        if (
            row is None
            or row.revoked
            or not hmac.compare_digest(row.secret_sha256, _digest(parts[2]))
        ):
            return None
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
