"""Sending alert deliveries: rows that a process claims, sends and settles.

A delivery is claimed by one conditional UPDATE (pending and due -> sending, with a
lease), so of several processes one sends it; a process that dies mid-send leaves a lease
that runs out, and the row is sent again (receivers dedupe on ``X-Assistant-Delivery``).
A webhook gets the event as JSON, signed ``X-Assistant-Signature: sha256=<HMAC-SHA256 of
the body with the alert's secret>``; a 2xx is delivered, anything else is retried after
``RETRY_BASE_SECONDS × 2^attempt`` until ``MAX_ATTEMPTS``, then dead-lettered (status
``dead``, with the last error, in the alert's history).

Webhooks may only target public addresses (not loopback, private, shared, link-local,
multicast or reserved ones) unless ``ASSISTANT_ALERT_WEBHOOK_ALLOW_PRIVATE`` is set: a
trader must not be able to make the server call the machines behind it. A refused target
is dead at once (retrying cannot help). Known gap: the name is resolved to check it and
again to send, so a name whose answer changes in between (DNS rebinding) is not stopped.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, or_, update
from sqlmodel import Session, select

from assistant.alerts import AlertEventRow, AlertRow, DeliveryRow, DeliveryStatus
from assistant.store import utcnow

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30.0
LEASE_SECONDS = 60.0
TIMEOUT_SECONDS = 5.0


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_target(url: str, allow_private: bool) -> None:
    """Refuse an address inside the network unless allowed (raises ValueError)."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:  # private, shared (100.64/10), loopback...
            raise ValueError(f"{host} resolves to {ip}, not a public address: not allowed")


class Deliveries:
    def __init__(
        self,
        engine: Engine,
        *,
        allow_private: bool = False,
        retry_base_seconds: float = RETRY_BASE_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.engine, self.allow_private = engine, allow_private
        self.retry_base, self.max_attempts = retry_base_seconds, max_attempts

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
                with Session(self.engine, expire_on_commit=False) as s:
                    event = s.get(AlertEventRow, row.event_id)
                    alert = s.get(AlertRow, row.alert_id)
                if event is None or alert is None:  # deleted meanwhile: nothing to send
                    continue
                error, final = self._send(row, event, alert)
            except Exception as exc:  # one bad row must not hold up the others
                error, final = f"{type(exc).__name__}: {exc}"[:500], False
            out.append(self._settle(row, error, final))
        return out

    def _send(
        self, row: DeliveryRow, event: AlertEventRow, alert: AlertRow
    ) -> tuple[str | None, bool]:
        """(the error or None, whether retrying can never help)."""
        channel = json.loads(row.channel_json)
        body = json.dumps(
            {
                "alert_id": alert.id,
                "event_id": event.id,
                "symbol": alert.symbol,
                "condition": json.loads(alert.condition_json),
                "as_of": event.as_of.isoformat(),
                "measured": event.measured,
                "message": event.message,
                "fired_at": event.fired_at.isoformat(),
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Assistant-Signature": signature(alert.secret, body),
            "X-Assistant-Delivery": row.id,
        }
        try:
            check_target(channel["url"], self.allow_private)
        except ValueError as exc:  # refused: it will be refused again
            return str(exc)[:500], True
        try:
            response = httpx.post(
                channel["url"], content=body, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500], False
        if 200 <= response.status_code < 300:
            return None, False
        return f"HTTP {response.status_code}", False

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
