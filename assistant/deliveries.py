"""Sending deliveries (of alert firings and briefings): rows that a process claims,
sends and settles.

A delivery is claimed by one conditional UPDATE (pending and due -> sending, with a
lease), so of several processes one sends it; a process that dies mid-send leaves a lease
that runs out, and the row is sent again (receivers dedupe on ``X-Assistant-Delivery``).
Each row names its channel (assistant/channels.py: webhook, Slack, e-mail, widget) and
what it is about (``kind``: an alert's firing or a briefing, whose service builds the
message). A send that fails is retried after ``RETRY_BASE_SECONDS × 2^attempt`` until
``MAX_ATTEMPTS``, then dead-lettered (status ``dead``, with the last error, in the
alert's history); one that can never succeed (a refused webhook target, an unknown Slack
channel) is dead at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from sqlalchemy import Engine, or_, update
from sqlmodel import Session, select

from assistant.alert_rows import ONE_CHANNEL, DeliveryRow, DeliveryStatus
from assistant.alerts import alert_message
from assistant.channels import (
    EmailChannel,
    Message,
    SlackChannel,
    WebhookChannel,
    WidgetChannel,
    check_target,
    send_email,
    send_slack,
    send_webhook,
    signature,
)
from assistant.notifications import Notifications
from assistant.settings import Settings
from assistant.store import utcnow

__all__ = ["Deliveries", "check_target", "signature"]

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30.0
LEASE_SECONDS = 60.0

Source = Callable[[DeliveryRow], Message | None]
"""Builds what a delivery sends from the row it is about (None: deleted meanwhile)."""


class Deliveries:
    def __init__(
        self,
        engine: Engine,
        *,
        settings: Settings | None = None,
        sources: dict[str, Source] | None = None,
        allow_private: bool | None = None,
        retry_base_seconds: float = RETRY_BASE_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        """``sources``: per kind of delivery (``briefing``...), what builds its message;
        alert firings' is built in."""
        self.engine, self.settings = engine, settings or Settings()
        self.sources = {"alert": partial(alert_message, engine), **(sources or {})}
        self.allow_private = (
            self.settings.alert_webhook_allow_private if allow_private is None else allow_private
        )
        self.retry_base, self.max_attempts = retry_base_seconds, max_attempts
        self.notifications = Notifications(engine)

    def _claim(self) -> list[DeliveryRow]:
        now = utcnow()
        # rows read before a later commit must stay readable after it (and after close)
        with Session(self.engine, expire_on_commit=False) as s:
            due = s.exec(
                select(DeliveryRow.id).where(
                    or_(
                        (DeliveryRow.status == DeliveryStatus.PENDING)
                        & (DeliveryRow.next_attempt_at <= now),
                        (DeliveryRow.status == DeliveryStatus.SENDING)
                        & (DeliveryRow.claimed_until < now),
                    )
                )
            ).all()
            claimed = []
            for delivery_id in due:
                took = s.exec(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.id == delivery_id,
                        or_(
                            DeliveryRow.status == DeliveryStatus.PENDING,
                            DeliveryRow.claimed_until < now,
                        ),
                    )
                    .values(
                        status=DeliveryStatus.SENDING,
                        claimed_until=now + timedelta(seconds=LEASE_SECONDS),
                    )
                ).rowcount
                s.commit()
                if took:
                    claimed.append(s.get(DeliveryRow, delivery_id))
            return claimed

    def run(self) -> list[DeliveryRow]:
        """Send every due delivery this process claims; the rows as they ended."""
        out = []
        for row in self._claim():
            try:
                source = self.sources.get(row.kind)
                if source is None:
                    error, final = f"no sender for {row.kind!r} deliveries", True
                else:
                    message = source(row)
                    if message is None:  # deleted meanwhile: nothing to send
                        continue
                    error, final = self._send(row, message)
            except Exception as exc:  # one bad row must not hold up the others
                error, final = f"{type(exc).__name__}: {exc}"[:500], False
            out.append(self._settle(row, error, final))
        return out

    def _send(self, row: DeliveryRow, message: Message) -> tuple[str | None, bool]:
        """(the error or None, whether retrying can never help)."""
        channel = ONE_CHANNEL.validate_json(row.channel_json)
        if isinstance(channel, WebhookChannel):
            return send_webhook(channel, message, self.allow_private)
        if isinstance(channel, SlackChannel):
            return send_slack(channel, message, self.settings)
        if isinstance(channel, EmailChannel):
            return send_email(channel, message, self.settings)
        assert isinstance(channel, WidgetChannel)
        about = row.alert_id if row.kind == "alert" else row.event_id
        self.notifications.add(message.user_id, row.kind, about, message.title, message.text)
        return None, False

    def _settle(self, row: DeliveryRow, error: str | None, final: bool = False) -> DeliveryRow:
        attempts = row.attempts + 1
        if error is None:
            values = {"status": DeliveryStatus.DELIVERED, "delivered_at": utcnow()}
        elif final or attempts >= self.max_attempts:
            values = {"status": DeliveryStatus.DEAD}
        else:
            wait = timedelta(seconds=self.retry_base * 2 ** (attempts - 1))
            values = {"status": DeliveryStatus.PENDING, "next_attempt_at": utcnow() + wait}
        with Session(self.engine, expire_on_commit=False) as s:
            s.exec(
                update(DeliveryRow)
                .where(DeliveryRow.id == row.id)
                .values(attempts=attempts, last_error=error, claimed_until=None, **values)
            )
            s.commit()
            return s.get(DeliveryRow, row.id)
