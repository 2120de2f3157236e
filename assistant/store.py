"""Conversations, approvals and the audit log, persisted with sqlmodel.

A conversation keeps the pydantic-ai message history (serialised with
``ModelMessagesTypeAdapter``) so follow-ups see earlier turns and a paused run can be
resumed after an approval, in this process or another one after a restart.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Text, func, update
from sqlmodel import Column, Field, Session, SQLModel, select

from assistant.auth import Role, User
from tools.errors import ToolError


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class NotFoundError(ToolError):
    """No such conversation or approval (for this user)."""


class ConversationRow(SQLModel, table=True):
    __tablename__ = "conversations"

    id: str = Field(primary_key=True)
    user_id: str = Field(index=True)
    channel: str = "cli"
    model: str = ""
    title: str = ""
    history_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MessageRow(SQLModel, table=True):
    """What people see: each question and answer, with the events of the turn."""

    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversations.id", index=True)
    role: str  # user | assistant
    content: str = Field(sa_column=Column(Text, nullable=False))
    meta_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ApprovalRow(SQLModel, table=True):
    __tablename__ = "approvals"

    id: str = Field(primary_key=True)
    conversation_id: str = Field(foreign_key="conversations.id", index=True)
    tool_call_id: str
    order_json: str = Field(sa_column=Column(Text, nullable=False))
    risk_json: str = Field(sa_column=Column(Text, nullable=False))
    requested_by: str
    status: str = Field(index=True)
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    broker_order_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    expires_at: datetime
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str
    action: str
    subject: str = Field(index=True)
    detail_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))


TABLES = [
    ConversationRow.__table__,
    MessageRow.__table__,
    ApprovalRow.__table__,
    AuditRow.__table__,
]


def create_tables(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=TABLES)


class Store:
    """Small, explicit data access: every write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine)

    # -- conversations ----------------------------------------------------------------

    def add_conversation(self, row: ConversationRow) -> ConversationRow:
        with Session(self.engine) as s:
            s.add(row)
            s.commit()
            s.refresh(row)
        return row

    def conversation_for(self, conversation_id: str, user: User) -> ConversationRow:
        """The one access rule: people see their own conversations, admins see all."""
        return self.conversation(conversation_id, None if user.role is Role.ADMIN else user.id)

    def conversation(self, conversation_id: str, user_id: str | None = None) -> ConversationRow:
        with Session(self.engine) as s:
            row = s.get(ConversationRow, conversation_id)
        if row is None or (user_id is not None and row.user_id != user_id):
            raise NotFoundError(f"no conversation {conversation_id!r}")
        return row

    def save_turn(
        self, conversation_id: str, history_json: str, messages: list[tuple[str, str, dict]]
    ) -> None:
        """Store the new history and the visible messages of a turn together."""
        with Session(self.engine) as s:
            row = s.get(ConversationRow, conversation_id)
            row.history_json, row.updated_at = history_json, utcnow()
            s.add(row)
            for role, content, meta in messages:
                s.add(
                    MessageRow(
                        conversation_id=conversation_id,
                        role=role,
                        content=content,
                        meta_json=json.dumps(meta, default=str),
                    )
                )
            s.commit()

    def messages(self, conversation_id: str) -> list[MessageRow]:
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(MessageRow)
                    .where(MessageRow.conversation_id == conversation_id)
                    .order_by(MessageRow.id)
                ).all()
            )

    # -- approvals --------------------------------------------------------------------

    def add_approval(self, row: ApprovalRow, actor: str) -> ApprovalRow:
        with Session(self.engine) as s:
            s.add(row)
            s.add(
                _audit(
                    actor,
                    "approval.created",
                    row.id,
                    {"order": json.loads(row.order_json), "status": row.status},
                )
            )
            s.commit()
            s.refresh(row)
        return row

    def approval(self, approval_id: str) -> ApprovalRow:
        with Session(self.engine) as s:
            row = s.get(ApprovalRow, approval_id)
        if row is None:
            raise NotFoundError(f"no approval {approval_id!r}")
        return row

    def approvals(self, status: str | None = None) -> list[ApprovalRow]:
        with Session(self.engine) as s:
            query = select(ApprovalRow).order_by(ApprovalRow.created_at)
            if status:
                query = query.where(ApprovalRow.status == status)
            return list(s.exec(query).all())

    def approval_counts(self) -> dict[str, int]:
        """How many approvals are in each state (for /metrics), counted by the database."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(ApprovalRow.status, func.count()).group_by(ApprovalRow.status)
            ).all()
        return dict(rows)

    def decided_since(self, status: str, moment: datetime) -> int:
        """Approvals now in ``status`` decided since ``moment`` (e.g. the daily order limit)."""
        with Session(self.engine) as s:
            return s.exec(
                select(func.count()).where(
                    ApprovalRow.status == status, ApprovalRow.decided_at >= moment
                )
            ).one()

    def transition(
        self, approval_id: str, from_status: str, to_status: str, actor: str, **fields: Any
    ) -> bool:
        """Atomically move an approval from one status to another (compare-and-set).

        Returns False when the approval was not in ``from_status`` — someone else moved it
        first — so two concurrent approvals can never both proceed.
        """
        values = {"status": to_status, "updated_at": utcnow(), **fields}
        with Session(self.engine) as s:
            result = s.exec(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.status == from_status)
                .values(**values)
            )
            if result.rowcount != 1:
                s.rollback()
                return False
            detail = {"from": from_status, "to": to_status}
            detail.update({k: v for k, v in fields.items() if k in ("reason", "decided_by")})
            s.add(_audit(actor, f"approval.{to_status}", approval_id, detail))
            s.commit()
        return True

    def audit(self, subject: str | None = None) -> list[AuditRow]:
        with Session(self.engine) as s:
            query = select(AuditRow).order_by(AuditRow.id)
            if subject:
                query = query.where(AuditRow.subject == subject)
            return list(s.exec(query).all())


def _audit(actor: str, action: str, subject: str, detail: dict) -> AuditRow:
    return AuditRow(
        actor=actor, action=action, subject=subject, detail_json=json.dumps(detail, default=str)
    )
