"""The Slack bot (slack-bolt AsyncApp): mentions and DMs answered in thread, progress
shown by updating one message, approvals as Block Kit buttons that only the approvers
mapped in settings can press. Bolt verifies request signatures (forged or stale
requests get 401). HTTP mode is mounted at ``/slack/events``; ``assistant slack`` runs
Socket Mode.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel

from assistant.approvals import ConflictError, ForbiddenError
from assistant.auth import Role, User
from assistant.events import ApprovalRequired, ErrorEvent, TextDelta, ToolCall
from assistant.services import Services
from assistant.settings import Settings
from assistant.store import NotFoundError

MENTION = re.compile(r"<@[A-Z0-9]+>\s*")


class SlackThreadRow(SQLModel, table=True):
    """Which conversation a Slack thread continues."""

    __tablename__ = "slack_threads"

    thread_key: str = Field(primary_key=True)  # channel:thread_ts
    conversation_id: str = Field(foreign_key="conversations.id")


class ThreadMap:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        SQLModel.metadata.create_all(engine, tables=[SlackThreadRow.__table__])

    def get(self, key: str) -> str | None:
        with Session(self.engine) as s:
            row = s.get(SlackThreadRow, key)
        return row.conversation_id if row else None

    def set(self, key: str, conversation_id: str) -> None:
        with Session(self.engine) as s:
            s.merge(SlackThreadRow(thread_key=key, conversation_id=conversation_id))
            s.commit()


def approval_blocks(event: ApprovalRequired) -> list[dict]:
    o = event.order
    checks = "passed" if event.risk_checks.get("passed") else "FAILED"
    text = (
        f"*Approval needed:* {o['side']} {o['quantity']:g} {o['symbol']} ({o['type']}) · pre-trade checks "
        f"{checks} · expires {event.expires_at:%Y-%m-%d %H:%M} UTC · `{event.approval_id}`"
    )
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": f"approval:{event.approval_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "style": "primary",
                    "value": event.approval_id,
                    "text": {"type": "plain_text", "text": "Approve"},
                },
                {
                    "type": "button",
                    "action_id": "reject",
                    "style": "danger",
                    "value": event.approval_id,
                    "text": {"type": "plain_text", "text": "Reject"},
                },
            ],
        },
    ]


def build_slack_app(settings: Settings, services: Services) -> AsyncApp:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    if not token or not secret:
        raise ValueError("Slack needs ASSISTANT_SLACK_BOT_TOKEN and ASSISTANT_SLACK_SIGNING_SECRET")
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url or AsyncWebClient.BASE_URL)
    app = AsyncApp(client=client, signing_secret=secret)
    threads = ThreadMap(services.store.engine)
    approvers = set(settings.slack_approvers)

    async def answer(
        text: str, channel: str, thread_ts: str, slack_user: str, client: AsyncWebClient
    ) -> None:
        user = User(id=f"slack:{slack_user}", role=Role.TRADER)
        key = f"{channel}:{thread_ts}"
        posted = await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text="Working on it…"
        )
        ts, steps, chunks, approvals, error = posted["ts"], [], [], [], None
        conversation = threads.get(key)
        async for event in services.chat.stream(text, user, conversation, channel="slack"):
            if conversation is None and getattr(event, "conversation_id", None):
                conversation = event.conversation_id
                threads.set(key, conversation)
            if isinstance(event, ToolCall):
                steps.append(event.name)
                await client.chat_update(
                    channel=channel, ts=ts, text=f"Working on it… ({', '.join(steps)})"
                )
            elif isinstance(event, TextDelta):
                chunks.append(event.text)
            elif isinstance(event, ApprovalRequired):
                approvals.append(event)
            elif isinstance(event, ErrorEvent):
                error = event
        final = "".join(chunks).strip() or (
            f"Sorry, that failed: {error.message}" if error else "(no answer)"
        )
        await client.chat_update(channel=channel, ts=ts, text=final)
        for approval in approvals:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text="Approval needed",
                blocks=approval_blocks(approval),
            )

    @app.event("app_mention")
    async def on_mention(event, client):
        text = MENTION.sub("", event.get("text", "")).strip()
        await answer(
            text, event["channel"], event.get("thread_ts") or event["ts"], event["user"], client
        )

    @app.event("message")
    async def on_message(event, client):
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        await answer(
            event.get("text", ""),
            event["channel"],
            event.get("thread_ts") or event["ts"],
            event["user"],
            client,
        )

    async def decide(ack, body, client, action: str) -> None:
        await ack()
        slack_user = body["user"]["id"]
        approval_id = body["actions"][0]["value"]
        channel = body["channel"]["id"]
        thread_ts = body["message"].get("thread_ts") or body["message"]["ts"]
        if slack_user not in approvers:
            await client.chat_postEphemeral(
                channel=channel,
                user=slack_user,
                text="Only approvers named in the assistant's settings can decide orders.",
            )
            return
        user = User(id=f"slack:{slack_user}", role=Role.APPROVER)
        try:
            if action == "approve":
                decision = await services.approvals.approve(approval_id, user)
            else:
                decision = await services.approvals.reject(
                    approval_id, user, f"rejected in Slack by <@{slack_user}>"
                )
        except (ConflictError, ForbiddenError, NotFoundError) as exc:
            await client.chat_postEphemeral(channel=channel, user=slack_user, text=str(exc))
            return
        summary = f"{decision.status} by <@{slack_user}> · `{approval_id}`"
        await client.chat_update(
            channel=channel,
            ts=body["message"]["ts"],
            text=summary,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": summary}}],
        )
        if decision.turn and decision.turn.answer.strip():
            await client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=decision.turn.answer.strip()
            )

    @app.action("approve")
    async def on_approve(ack, body, client):
        await decide(ack, body, client, "approve")

    @app.action("reject")
    async def on_reject(ack, body, client):
        await decide(ack, body, client, "reject")

    return app


async def run_socket_mode(settings: Settings, services: Services) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    if not settings.slack_app_token:
        raise ValueError("Socket Mode needs ASSISTANT_SLACK_APP_TOKEN (xapp-...)")
    handler = AsyncSocketModeHandler(
        build_slack_app(settings, services), settings.slack_app_token.get_secret_value()
    )
    await handler.start_async()
