"""Conversations, approvals and the audit log, persisted with sqlmodel.

A conversation keeps the pydantic-ai message history (serialised with
``ModelMessagesTypeAdapter``) so follow-ups see earlier turns and a paused run can be
resumed after an approval, in this process or another one after a restart.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Text, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field, Session, SQLModel, select

from assistant.auth import Role, User
from assistant.schema import ensure_schema
from tools.errors import ToolError


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class NotFoundError(ToolError):
    """No such conversation or approval (for this user)."""


class LeaseLostError(RuntimeError):
    """A turn outlived its lease on the conversation and another turn took it over."""


class ConversationRow(SQLModel, table=True):
    __tablename__ = "conversations"

    id: str = Field(primary_key=True)
    user_id: str = Field(index=True)
    channel: str = "cli"
    model: str = ""
    title: str = ""
    history_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    as_of: date | None = Field(
        default=None, description="Pinned date: its tools see nothing published later."
    )
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


class ConversationLeaseRow(SQLModel, table=True):
    """Who is running a turn of a conversation now (a question, or a resumed run).

    Turns of one conversation run one at a time in any number of processes: each turn
    claims the lease with one conditional write and gives it back when it has stored its
    messages. A lease left by a crashed process lapses at ``expires_at``.
    """

    __tablename__ = "conversation_leases"

    conversation_id: str = Field(primary_key=True)
    holder: str
    expires_at: datetime


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
    ConversationLeaseRow.__table__,
]


class Store:
    """Small, explicit data access: every write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

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
            raise NotFoundError(f"no conversation {conversation_id[:100]!r}")
        return row

    # -- turns -----------------------------------------------------------------------

    def start_conversation(
        self, row: ConversationRow, holder: str, expires_at: datetime, question: str | None
    ) -> ConversationRow:
        """Store a new conversation with its lease and the question, in one transaction."""
        with Session(self.engine) as s:
            s.add(row)
            s.add(
                ConversationLeaseRow(conversation_id=row.id, holder=holder, expires_at=expires_at)
            )
            if question is not None:
                s.add(_message(row.id, "user", question, {"user_id": row.user_id}))
            s.commit()
            s.refresh(row)
        return row

    def claim(self, conversation_id: str, holder: str, expires_at: datetime) -> bool:
        """Take the conversation's lease if nobody holds it (or theirs lapsed)."""
        with Session(self.engine) as s:
            taken = s.exec(
                update(ConversationLeaseRow)
                .where(
                    ConversationLeaseRow.conversation_id == conversation_id,
                    ConversationLeaseRow.expires_at < utcnow(),
                )
                .values(holder=holder, expires_at=expires_at)
            )
            if taken.rowcount == 1:
                s.commit()
                return True
            s.add(
                ConversationLeaseRow(
                    conversation_id=conversation_id, holder=holder, expires_at=expires_at
                )
            )
            try:
                s.commit()
            except IntegrityError:  # held by a running turn
                s.rollback()
                return False
        return True

    def continue_conversation(
        self,
        conversation_id: str,
        question: str | None,
        user_id: str,
        as_of: date | None = None,
    ) -> ConversationRow:
        """Under the lease: the stored question, and the conversation as it is now (pinned
        to ``as_of`` from now on, when given)."""
        with Session(self.engine) as s:
            if as_of is not None:
                s.exec(
                    update(ConversationRow)
                    .where(ConversationRow.id == conversation_id)
                    .values(as_of=as_of)
                )
            if question is not None:
                s.add(_message(conversation_id, "user", question, {"user_id": user_id}))
            s.commit()
            row = s.get(ConversationRow, conversation_id)
        if row is None:
            raise NotFoundError(f"no conversation {conversation_id[:100]!r}")
        return row

    def pin(self, conversation_id: str, as_of: date) -> None:
        """Pin the conversation to ``as_of`` ("as of March 1 2020, ..." said in it)."""
        with Session(self.engine) as s:
            s.exec(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(as_of=as_of)
            )
            s.commit()

    def finish_turn(
        self,
        conversation_id: str,
        holder: str,
        history_json: str,
        messages: list[tuple[str, str, dict]],
        approvals: list[ApprovalRow] = (),
    ) -> None:
        """Store the turn's history, its visible messages and the approvals it proposed,
        and give the lease back: all or nothing."""
        with Session(self.engine) as s:
            released = s.exec(
                delete(ConversationLeaseRow).where(
                    ConversationLeaseRow.conversation_id == conversation_id,
                    ConversationLeaseRow.holder == holder,
                )
            )
            if released.rowcount != 1:
                s.rollback()
                raise LeaseLostError(
                    f"conversation {conversation_id} was taken over while this turn ran"
                )
            row = s.get(ConversationRow, conversation_id)
            row.history_json, row.updated_at = history_json, utcnow()
            s.add(row)
            for role, content, meta in messages:
                s.add(_message(conversation_id, role, content, meta))
            for approval in approvals:
                s.add(approval)
                s.add(_created(approval))
            s.commit()

    def release(self, conversation_id: str, holder: str) -> None:
        """Give the lease back without storing a turn (the turn failed)."""
        with Session(self.engine) as s:
            s.exec(
                delete(ConversationLeaseRow).where(
                    ConversationLeaseRow.conversation_id == conversation_id,
                    ConversationLeaseRow.holder == holder,
                )
            )
            s.commit()

    def check_writable(self) -> None:
        """Raise if the database refuses writes (read-only file, read-only replica...)."""
        with Session(self.engine) as s:
            s.add(
                ConversationLeaseRow(
                    conversation_id=new_id("probe"), holder="probe", expires_at=utcnow()
                )
            )
            s.flush()
            s.rollback()

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

    def add_approval(self, row: ApprovalRow) -> ApprovalRow:
        with Session(self.engine) as s:
            s.add(row)
            s.add(_created(row))
            s.commit()
            s.refresh(row)
        return row

    def approvals_of_calls(
        self, conversation_id: str, tool_call_ids: list[str]
    ) -> list[ApprovalRow]:
        """The approvals that ``place_order`` calls of a conversation became."""
        if not tool_call_ids:
            return []
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(ApprovalRow)
                    .where(
                        ApprovalRow.conversation_id == conversation_id,
                        ApprovalRow.tool_call_id.in_(tool_call_ids),
                    )
                    .order_by(ApprovalRow.created_at)  # a reused call id: the latest wins
                ).all()
            )

    def approval(self, approval_id: str) -> ApprovalRow:
        with Session(self.engine) as s:
            row = s.get(ApprovalRow, approval_id)
        if row is None:
            raise NotFoundError(f"no approval {approval_id[:100]!r}")
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

    def recently_decided(self, since: datetime) -> list[str]:
        """Conversations with approvals that reached a final state since ``since``."""
        final = ("executed", "rejected", "expired", "failed_checks", "broker_error")
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(ApprovalRow.conversation_id)
                    .where(ApprovalRow.updated_at >= since, ApprovalRow.status.in_(final))
                    .distinct()
                ).all()
            )

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


def _message(conversation_id: str, role: str, content: str, meta: dict) -> MessageRow:
    # PostgreSQL text cannot hold NUL; nothing a person reads needs one
    return MessageRow(
        conversation_id=conversation_id,
        role=role,
        content=content.replace("\x00", ""),
        meta_json=json.dumps(meta, default=str),
    )


def _created(row: ApprovalRow) -> AuditRow:
    detail = {"order": json.loads(row.order_json), "status": row.status, "reason": row.reason}
    return _audit(row.requested_by, "approval.created", row.id, detail)


def _audit(actor: str, action: str, subject: str, detail: dict) -> AuditRow:
    return AuditRow(
        actor=actor, action=action, subject=subject, detail_json=json.dumps(detail, default=str)
    )
