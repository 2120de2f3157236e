"""The widget's notifications: alert firings and briefings delivered to a user's widget.

They are rows, so any API process can list and stream them whichever process delivered
them; a stream polls for rows newer than the last it sent (``after``, a row's sequence
number), so a reconnecting widget resumes where it stopped and loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine, update
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel, select

from assistant.schema import ensure_schema
from assistant.store import utcnow

MAX_LISTED = 200


class NotificationRow(SQLModel, table=True):
    __tablename__ = "notifications"

    seq: int | None = Column(default=None, primary_key=True)
    user_id: str = Column(index=True)
    kind: str
    source_id: str
    title: str
    text: str
    created_at: datetime = Column(default_factory=utcnow)
    read: bool = False


class Notification(BaseModel):
    seq: int = Field(description="Increasing: pass the last one seen as `after`.")
    kind: str = Field(description="alert or briefing")
    source_id: str = Field(description="The alert or briefing it is about.")
    title: str
    text: str
    created_at: datetime
    read: bool


class Notifications:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def add(self, user_id: str, kind: str, source_id: str, title: str, text: str) -> int:
        with Session(self.engine) as s:
            row = NotificationRow(
                user_id=user_id, kind=kind, source_id=source_id, title=title, text=text
            )
            s.add(row)
            s.commit()
            s.refresh(row)
            return int(row.seq or 0)

    def mine(
        self, user_id: str, after: int = 0, limit: int = MAX_LISTED, unread: bool = False
    ) -> list[Notification]:
        """Oldest first after ``after``; the newest ``limit`` when more are waiting."""
        with Session(self.engine) as s:
            query = select(NotificationRow).where(
                NotificationRow.user_id == user_id, NotificationRow.seq > after
            )
            if unread:
                query = query.where(NotificationRow.read == False)  # noqa: E712
            rows = s.exec(query.order_by(NotificationRow.seq.desc()).limit(limit)).all()
        return [Notification.model_validate(r, from_attributes=True) for r in reversed(rows)]

    def mark_read(self, user_id: str, up_to: int) -> int:
        with Session(self.engine) as s:
            n = s.exec(
                update(NotificationRow)
                .where(NotificationRow.user_id == user_id, NotificationRow.seq <= up_to)
                .values(read=True)
            ).rowcount
            s.commit()
            return n
