"""API keys: only a hash is stored; the key is shown once, when it is created.

A key reads ``ma_<id>_<secret>``: the id finds the row, the secret is checked against
its SHA-256 in constant time. Keys carry a role (viewer < trader < approver < admin).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, select

from assistant.auth import Role, User
from assistant.store import utcnow


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

    def list(self) -> list[ApiKeyRow]:
        with Session(self.engine) as s:
            return list(s.exec(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all())
