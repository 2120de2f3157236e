"""The Slack bot (slack-bolt AsyncApp): mentions and DMs answered in thread, progress
shown by updating one message, charts uploaded into the thread, approvals as Block Kit
buttons that only the approvers mapped in settings can press. Bolt verifies request
signatures (forged or stale requests get 401). HTTP mode is mounted at
``/slack/events``; ``assistant slack`` runs Socket Mode (no public URL, no signing
secret: Slack authenticates the websocket by the app token).

Outcomes of approvals are posted by :class:`assistant.slack_threads.SlackNotifier`,
whoever decided, so the button handler only decides.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

from fastapi import Request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from assistant.approval_text import describe_order
from assistant.approvals import ConflictError, ForbiddenError
from assistant.auth import Role, User
from assistant.events import ApprovalRequired, ErrorEvent, TextDelta, ToolCall, ToolResult
from assistant.services import Services
from assistant.settings import Settings
from assistant.slack_threads import SlackEventLog, SlackNotifier, ThreadMap, web_client
from assistant.store import NotFoundError

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+>\s*")


def slack_request_problem(request: Request) -> str | None:
    """What Bolt would crash on (a 500) instead of refusing."""
    stamp = request.headers.get("x-slack-request-timestamp")
    if stamp is not None and not stamp.strip().isdigit():
        return "X-Slack-Request-Timestamp must be a Unix time in seconds"
    return None


class SlackDeliveries:
    """Each signed Events API delivery is handled once: retries and replays (the same
    ``event_id``) are acknowledged and dropped. Unsigned requests are left to Bolt's 401,
    so nobody can block an event id before Slack sends it."""

    def __init__(self, engine, signing_secret: str) -> None:
        self.log = SlackEventLog(engine)
        self.verifier = SignatureVerifier(signing_secret)

    async def already_handled(self, request: Request) -> bool:
        body = await request.body()
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return False
        if not self.verifier.is_valid(
            text,
            request.headers.get("x-slack-request-timestamp", ""),
            request.headers.get("x-slack-signature", ""),
        ):
            return False
        try:
            event_id = json.loads(text).get("event_id")
        except (ValueError, AttributeError):  # a form-encoded button press has none
            return False
        if not isinstance(event_id, str) or not event_id:
            return False
        return not await asyncio.to_thread(self.log.first_time, event_id)


def approval_blocks(event: ApprovalRequired) -> list[dict]:
    checks = "passed" if event.risk_checks.get("passed") else "FAILED"
    text = (
        f"*Approval needed:* {describe_order(event.order)} · pre-trade checks "
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


def build_slack_app(
    settings: Settings, services: Services, *, socket_mode: bool = False
) -> AsyncApp:
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    if not settings.slack_bot_token or not (secret or socket_mode):
        raise ValueError("Slack needs ASSISTANT_SLACK_BOT_TOKEN and ASSISTANT_SLACK_SIGNING_SECRET")
    client = web_client(settings)
    app = AsyncApp(client=client, signing_secret=secret or "")
    notifier = next((x for x in services.decisions.listeners if isinstance(x, SlackNotifier)), None)
    if notifier is None:  # services built without the bot token in their settings
        notifier = SlackNotifier(ThreadMap(services.store.engine), client)
        services.decisions.listeners.append(notifier)
    threads = notifier.threads
    approvers = set(settings.slack_approvers)

    async def upload(
        client: AsyncWebClient, channel: str, thread_ts: str, chart: ToolResult
    ) -> None:
        path = settings.data_dir / "charts" / Path(chart.artifact_url or "").name
        try:
            await client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file=str(path),
                filename=path.name,
                title=f"{chart.summary} ({chart.name})",
            )
        except (OSError, SlackApiError, SlackRequestError) as exc:  # the answer stands without it
            log.warning("chart upload failed for %s: %s", path.name, exc)
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=f"(The chart {path.name} could not be uploaded.)",
            )

    def _earlier_thread(key: str, user_id: str) -> str | None:
        """A thread's conversation as an earlier version keyed it (by the thread alone),
        when it is this person's."""
        found = threads.get(key)
        if found is None:
            return None
        try:
            return found if services.store.conversation(found).user_id == user_id else None
        except NotFoundError:
            return None

    async def answer(
        text: str, channel: str, thread_ts: str, slack_user: str, client: AsyncWebClient
    ) -> None:
        user = User(id=f"slack:{slack_user}", role=Role.TRADER)
        # one conversation per person in a thread: a colleague who replies in someone
        # else's thread asks in a conversation of their own, not in theirs
        key = f"{channel}:{thread_ts}:{slack_user}"
        posted = await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text="Working on it…"
        )
        ts, steps, chunks, charts, approvals, error = posted["ts"], [], [], [], [], None
        conversation = await asyncio.to_thread(threads.get, key)
        if conversation is None:
            conversation = await asyncio.to_thread(
                _earlier_thread, f"{channel}:{thread_ts}", user.id
            )
            if conversation is not None:
                await asyncio.to_thread(threads.set, key, conversation)
        async for event in services.chat.stream(text, user, conversation, channel="slack"):
            if conversation is None and getattr(event, "conversation_id", None):
                conversation = event.conversation_id
                await asyncio.to_thread(threads.set, key, conversation)
            if isinstance(event, ToolCall):
                steps.append(event.name)
                await client.chat_update(
                    channel=channel, ts=ts, text=f"Working on it… ({', '.join(steps)})"
                )
            elif isinstance(event, ToolResult) and event.artifact_url:
                charts.append(event)
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
        for chart in charts:
            await upload(client, channel, thread_ts, chart)
        for approval in approvals:
            card = await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text="Approval needed",
                blocks=approval_blocks(approval),
            )
            await asyncio.to_thread(threads.add_card, approval.approval_id, channel, card["ts"])

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
                await services.decisions.approve(approval_id, user)
            else:
                await services.decisions.reject(
                    approval_id, user, f"rejected in Slack by <@{slack_user}>"
                )
        except (ConflictError, ForbiddenError, NotFoundError) as exc:
            await client.chat_postEphemeral(channel=channel, user=slack_user, text=str(exc))

    @app.action("approve")
    async def on_approve(ack, body, client):
        await decide(ack, body, client, "approve")

    @app.action("reject")
    async def on_reject(ack, body, client):
        await decide(ack, body, client, "reject")

    return app


def socket_mode_handler(settings: Settings, services: Services):
    """Socket Mode: the bot dials out to Slack over a websocket (``apps.connections.open``)."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    if not settings.slack_app_token:
        raise ValueError("Socket Mode needs ASSISTANT_SLACK_APP_TOKEN (xapp-...)")
    return AsyncSocketModeHandler(
        build_slack_app(settings, services, socket_mode=True),
        settings.slack_app_token.get_secret_value(),
    )


async def run_socket_mode(settings: Settings, services: Services) -> None:
    """Check both tokens first: the socket client would otherwise retry a refused token
    forever, logging a traceback each time."""
    handler = socket_mode_handler(settings, services)
    try:
        await handler.app.client.auth_test()
        await handler.app.client.apps_connections_open(app_token=handler.app_token)
    except SlackApiError as exc:
        problem = f"Slack refused the bot or app token: {exc.response['error']}"
    except (SlackRequestError, OSError) as exc:
        problem = f"cannot reach Slack at {handler.app.client.base_url}: {exc}"
    else:
        await handler.start_async()
        return
    await handler.close_async()
    raise ValueError(problem)
