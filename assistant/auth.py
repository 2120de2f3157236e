"""Users and roles. Roles are ordered: each includes the ones below it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class User(BaseModel):
    id: str
    role: Role = Role.VIEWER


LOCAL_USER = User(id="local", role=Role.ADMIN)
"""Whoever runs the CLI on their own machine owns the data dir."""
