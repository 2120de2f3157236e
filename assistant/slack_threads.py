"""Which Slack thread a conversation lives in, and telling that thread what happened.

An order proposed in Slack may be decided anywhere: the Block Kit buttons, the HTTP
API, the CLI, the expiry sweep or the start-up reconcile, in any process. The thread
and the approval card are therefore stored in the database, and every process that
has a Slack bot token registers :class:`SlackNotifier` as an approval listener, so
the outcome reaches the thread whoever decided.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from assistant.schema import ensure_schema
from assistant.settings import Settings
from assistant.store import utcnow

if TYPE_CHECKING:
    from assistant.decisions import Decision
    from assistant.store import ApprovalRow


class SlackThreadRow(SQLModel, table=True):
    """Which conversation a Slack thread continues."""

    __tablename__ = "slack_threads"

    thread_key: str = Field(primary_key=True)  # channel:thread_ts:slack user (before: no user)
    conversation_id: str = Field(foreign_key="conversations.id", index=True)


class SlackCardRow(SQLModel, table=True):
    """The message holding an approval's buttons, to replace them once decided."""

    __tablename__ = "slack_approval_cards"

    approval_id: str = Field(primary_key=True)
    channel: str
    ts: str


class SlackEventRow(SQLModel, table=True):
    """Events API deliveries already taken: Slack retries an event it thinks we missed,
    and a captured request can be replayed within its signature's five minutes."""

    __tablename__ = "slack_events"

    event_id: str = Field(primary_key=True)
    received_at: datetime = Field(default_factory=utcnow)


class SlackEventLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def first_time(self, event_id: str) -> bool:
        """Record the event; False when it was recorded before (by any process)."""
        with Session(self.engine) as s:
            s.add(SlackEventRow(event_id=event_id))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
        return True


class ThreadMap:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def get(self, key: str) -> str | None:
        with Session(self.engine) as s:
            row = s.get(SlackThreadRow, key)
        return row.conversation_id if row else None

    def set(self, key: str, conversation_id: str) -> None:
        with Session(self.engine) as s:
            s.merge(SlackThreadRow(thread_key=key, conversation_id=conversation_id))
            s.commit()

    def thread_of(self, conversation_id: str) -> tuple[str, str] | None:
        """(channel, thread_ts) of the thread a conversation came from, if any."""
        with Session(self.engine) as s:
            row = s.exec(
                select(SlackThreadRow).where(SlackThreadRow.conversation_id == conversation_id)
            ).first()
        if row is None:
            return None
        channel, thread_ts = row.thread_key.split(":")[:2]  # channel:thread_ts[:user]
        return channel, thread_ts

    def add_card(self, approval_id: str, channel: str, ts: str) -> None:
        with Session(self.engine) as s:
            s.merge(SlackCardRow(approval_id=approval_id, channel=channel, ts=ts))
            s.commit()

    def card(self, approval_id: str) -> SlackCardRow | None:
        with Session(self.engine) as s:
            return s.get(SlackCardRow, approval_id)


def web_client(settings: Settings) -> AsyncWebClient:
    """The bot's Web API client (a fake Slack in tests through ``slack_api_url``).

    It opens an aiohttp session per call, so one client serves any event loop.
    """
    if not settings.slack_bot_token:
        raise ValueError("Slack needs ASSISTANT_SLACK_BOT_TOKEN")
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
    )


def mention(actor: str | None) -> str:
    """`slack:U123` → `<@U123>`; API keys and the system are named as they are."""
    if actor and actor.startswith("slack:"):
        return f"<@{actor.removeprefix('slack:')}>"
    return f"`{actor or 'system'}`"


class SlackNotifier:
    """An approval listener: replaces the card's buttons and posts the resumed answer."""

    def __init__(self, threads: ThreadMap, client: AsyncWebClient) -> None:
        self.threads, self.client = threads, client

    async def __call__(self, row: ApprovalRow, decision: Decision) -> None:
        thread = await asyncio.to_thread(self.threads.thread_of, row.conversation_id)
        if thread is None:  # not a Slack conversation
            return
        channel, thread_ts = thread
        client = self.client
        summary = f"{decision.status} by {mention(decision.decided_by)} · `{row.id}`"
        if decision.reason and decision.status != "executed":
            summary += f" · {decision.reason}"
        card = await asyncio.to_thread(self.threads.card, row.id)
        if card is not None:
            await client.chat_update(
                channel=card.channel,
                ts=card.ts,
                text=summary,
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": summary}}],
            )
        answer = decision.turn.answer.strip() if decision.turn else ""
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=answer or summary)
