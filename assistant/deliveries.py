"""Sending deliveries (of alert firings and briefings): rows that a process claims,
sends and settles.

A delivery is claimed by one conditional UPDATE (pending and due -> sending, with a
lease), so of several processes one sends it; a process that dies mid-send leaves a lease
that runs out, and the row is sent again (receivers dedupe on ``X-Assistant-Delivery``).
A round takes at most ``BATCH`` deliveries, round-robin across alerts, and sends them
``WORKERS`` at a time, so one trader's slow webhooks delay nobody else's for long. Each
row names its channel (assistant/channels.py: webhook, Slack, e-mail, widget) and
what it is about (``kind``: an alert's firing or a briefing, whose service builds the
message). A send that fails is retried after ``RETRY_BASE_SECONDS × 2^attempt`` until
``MAX_ATTEMPTS``, then dead-lettered (status ``dead``, with the last error, in the
alert's history); one that can never succeed (a refused webhook target, an unknown Slack
channel) is dead at once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from assistant.store import aware, utcnow

__all__ = ["Deliveries", "check_target", "signature"]

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30.0
LEASE_SECONDS = 60.0
LEASE_MARGIN = 10.0
"""A claimed delivery is not sent this close to its lease's end (a send takes at most
the channel's timeout, 5 s), so a delivery is never sent by two processes."""
WORKERS = 8
BATCH = 48
"""Deliveries per round: at 8 at a time and 5 s at most each, a round ends well inside
the lease."""
SCAN = 1000


def _round_robin(due) -> list[str]:
    """Delivery ids, one per alert (or schedule) in turn."""
    queues: dict[str, list[str]] = {}
    for delivery_id, owner in due:
        queues.setdefault(owner, []).append(delivery_id)
    out: list[str] = []
    while queues:
        for owner in list(queues):
            out.append(queues[owner].pop(0))
            if not queues[owner]:
                del queues[owner]
    return out


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
        """Up to ``BATCH`` due deliveries, taken round-robin across alerts (one trader's
        many slow webhooks cannot fill a round), each by a conditional UPDATE."""
        now = utcnow()
        # rows read before a later commit must stay readable after it (and after close)
        with Session(self.engine, expire_on_commit=False) as s:
            due = s.exec(
                select(DeliveryRow.id, DeliveryRow.alert_id)
                .where(
                    or_(
                        (DeliveryRow.status == DeliveryStatus.PENDING)
                        & (DeliveryRow.next_attempt_at <= now),
                        (DeliveryRow.status == DeliveryStatus.SENDING)
                        & (DeliveryRow.claimed_until < now),
                    )
                )
                .order_by(DeliveryRow.next_attempt_at)
                .limit(SCAN)
            ).all()
            claimed = []
            for delivery_id in _round_robin(due)[:BATCH]:
                took = s.exec(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.id == delivery_id,
                        or_(
                            (DeliveryRow.status == DeliveryStatus.PENDING)
                            & (DeliveryRow.next_attempt_at <= now),
                            (DeliveryRow.status == DeliveryStatus.SENDING)
                            & (DeliveryRow.claimed_until < now),
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
        """Send the due deliveries this process claims, ``WORKERS`` at a time; the rows as
        they ended."""
        claimed = self._claim()
        if not claimed:
            return []
        with ThreadPoolExecutor(min(WORKERS, len(claimed)), "delivery") as pool:
            ended = list(pool.map(self._deliver, claimed))
        return [row for row in ended if row is not None]

    def _deliver(self, row: DeliveryRow) -> DeliveryRow | None:
        lease = row.claimed_until
        if lease is not None and utcnow() >= aware(lease) - timedelta(seconds=LEASE_MARGIN):
            self._release(row)  # too late to send safely: another process may take it now
            return None
        try:
            source = self.sources.get(row.kind)
            if source is None:
                error, final = f"no sender for {row.kind!r} deliveries", True
            elif (message := source(row)) is None:
                error, final = "its alert or briefing schedule no longer exists", True
            else:
                error, final = self._send(row, message)
        except Exception as exc:  # one bad row must not hold up the others
            error, final = f"{type(exc).__name__}: {exc}"[:500], False
        return self._settle(row, error, final)

    def _release(self, row: DeliveryRow) -> None:
        with Session(self.engine) as s:
            s.exec(
                update(DeliveryRow)
                .where(DeliveryRow.id == row.id, DeliveryRow.status == DeliveryStatus.SENDING)
                .values(status=DeliveryStatus.PENDING, claimed_until=None)
            )
            s.commit()

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
