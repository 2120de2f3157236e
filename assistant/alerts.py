"""Alert rules per user, their evaluation, and their history.

An alert is armed when created. Evaluation reads each alert's symbol at its latest close
(:mod:`tools.alert_rules`); when the condition holds and the alert is armed, one
conditional UPDATE (armed -> fired, only if still armed) decides which process records
the firing, so each firing happens once however many API processes sweep: the event and
one delivery row per channel are written in that same transaction. A fired alert re-arms
(the same kind of UPDATE) when its condition no longer holds. Deliveries are rows too:
:mod:`assistant.deliveries` claims and sends them.

Alerts on documents (a new filing, a news story's sentiment) fire once per document:
``seen_json`` holds the documents already reported (at creation, those already in the
index), and one conditional UPDATE (only if ``seen_json`` is still what was read) decides
which process reports the new ones.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from assistant.alert_rows import (
    ONE_CHANNEL,
    Alert,
    AlertEvent,
    AlertEventRow,
    AlertRow,
    Delivery,
    DeliveryRow,
    DeliveryStatus,
    NewAlert,
    alert_view,
)
from assistant.channels import Channel, Message, check_channels, shown
from assistant.schema import ensure_schema
from assistant.settings import Settings
from assistant.store import NotFoundError, new_id, utcnow
from tools.alert_rules import CONDITION, Condition, Mention, Reading, evaluate, matching
from tools.errors import ToolError, UnknownSymbolError
from tools.market_data import PriceStore, normalise_symbol

MAX_ALERTS_PER_USER = 200
MAX_SEEN = 2000
"""Documents remembered per alert (the oldest are forgotten; they are long past)."""


class AlertService:
    def __init__(
        self,
        engine: Engine,
        prices: PriceStore,
        view: Callable[[], Any] | None = None,
        *,
        documents: Callable[[], Any] | None = None,
        settings: Settings | None = None,
        owner_allowed: Callable[[str], bool] | None = None,
    ) -> None:
        """``view``: how a sweep reads prices (a live view refreshes them when online;
        anything with ``load(symbol)``); the store itself by default. ``documents``: the
        document index (for filing and news alerts), opened when first needed."""
        self.engine, self.prices = engine, prices
        self.view = view or (lambda: prices)
        self.documents, self.settings = documents, settings or Settings()
        self.owner_allowed = owner_allowed or (lambda _user: True)
        """Whether an alert's owner may still have alerts (a revoked key's stop firing)."""
        ensure_schema(engine)

    # -- rules --------------------------------------------------------------------------

    def create(
        self,
        user_id: str,
        symbol: str,
        condition: Condition,
        channels: list[Channel],
        documents: Callable[[], Any] | None = None,
    ) -> NewAlert:
        """``documents``: the index to read (an agent turn passes its own), else the
        service's."""
        try:
            symbol = normalise_symbol(symbol)
        except ToolError:  # not even a ticker's shape: no such symbol
            raise UnknownSymbolError(f"unknown symbol {symbol!r}") from None
        check_channels(channels, user_id, self.settings)
        seen = None
        if condition.on_documents:  # what is in the index now is the starting point
            mentions = self.mentions(symbol, documents)
            if mentions is None and not self.prices.exists(symbol):
                raise UnknownSymbolError(f"unknown symbol {symbol!r}: no prices or documents")
            seen = json.dumps([d.doc_id for d in matching(condition, mentions or [])][-MAX_SEEN:])
        elif not self.prices.exists(symbol):
            raise UnknownSymbolError(f"unknown symbol {symbol!r}: the store has no prices for it")
        with Session(self.engine) as s:
            mine = s.exec(select(AlertRow.id).where(AlertRow.user_id == user_id)).all()
            if len(mine) >= MAX_ALERTS_PER_USER:
                raise ToolError(f"at most {MAX_ALERTS_PER_USER} alerts per user: delete some first")
            row = AlertRow(
                id=new_id("alrt"),
                user_id=user_id,
                symbol=symbol,
                condition_json=condition.model_dump_json(),
                channels_json=json.dumps([c.model_dump(mode="json") for c in channels]),
                secret=secrets.token_urlsafe(24),
                seen_json=seen,
            )
            s.add(row)
            s.commit()
            s.refresh(row)
            # creations at once each counted the others' rows as absent: count again
            count = len(s.exec(select(AlertRow.id).where(AlertRow.user_id == user_id)).all())
            if count > MAX_ALERTS_PER_USER:
                s.delete(row)
                s.commit()
                raise ToolError(f"at most {MAX_ALERTS_PER_USER} alerts per user: delete some first")
            return NewAlert(**alert_view(row).model_dump(), secret=row.secret)

    def mentions(
        self, symbol: str, documents: Callable[[], Any] | None = None
    ) -> list[Mention] | None:
        """The documents the index holds about ``symbol``: filings, and news stories with
        their scores; None when the index knows no such ticker."""
        documents = documents or self.documents
        if documents is None:
            raise ToolError("alerts on filings and news need the document index")
        from retrieval.models import DocType, SearchFilters
        from retrieval.sentiment_index import stories_of

        index = documents()
        if symbol not in index.tickers():
            return None
        chunks = index.chunks(SearchFilters(tickers=[symbol]))
        filings: dict[str, Mention] = {}
        for c in chunks:
            if c.doc_type is DocType.FILING and c.doc_id not in filings:
                filings[c.doc_id] = Mention(
                    doc_id=c.doc_id,
                    title=c.title,
                    kind="filing",
                    form=c.form,
                    published_at=c.published_at,
                    url=c.url,
                )
        news = [
            Mention(
                doc_id=story.doc_id,
                title=story.title,
                kind="news",
                published_at=story.published_at,
                url=story.url,
                score=story.score,
            )
            for story in stories_of([c for c in chunks if c.doc_type is DocType.NEWS])
        ]
        return [*filings.values(), *news]

    def mine(self, user_id: str) -> list[Alert]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(AlertRow).where(AlertRow.user_id == user_id).order_by(AlertRow.created_at)
            ).all()
            return [alert_view(r) for r in rows]

    def _own(self, s: Session, user_id: str, alert_id: str) -> AlertRow:
        row = s.get(AlertRow, alert_id)
        if row is None or row.user_id != user_id:  # another user's alert does not exist
            raise NotFoundError(f"no alert {alert_id!r}")
        return row

    def delete(self, user_id: str, alert_id: str) -> None:
        """The alert and its history; a delivery not yet sent is not sent."""
        with Session(self.engine) as s:
            row = self._own(s, user_id, alert_id)
            for table in (DeliveryRow, AlertEventRow):
                for r in s.exec(select(table).where(table.alert_id == alert_id)).all():
                    s.delete(r)
            s.delete(row)
            s.commit()

    def events(self, user_id: str, alert_id: str) -> list[AlertEvent]:
        with Session(self.engine) as s:
            self._own(s, user_id, alert_id)
            events = s.exec(
                select(AlertEventRow)
                .where(AlertEventRow.alert_id == alert_id)
                .order_by(AlertEventRow.fired_at)
            ).all()
            deliveries = s.exec(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id)).all()
        out = []
        for e in events:
            sent = [
                Delivery(
                    id=d.id,
                    channel=shown(ONE_CHANNEL.validate_json(d.channel_json)),
                    status=DeliveryStatus(d.status),
                    attempts=d.attempts,
                    last_error=d.last_error,
                    delivered_at=d.delivered_at,
                )
                for d in deliveries
                if d.event_id == e.id
            ]
            out.append(AlertEvent(**e.model_dump(), deliveries=sent))
        return out

    def fired_since(self, user_id: str, since: date) -> list[AlertEvent]:
        """The user's firings on data dated ``since`` or later (an event's ``as_of``: the
        close or the document that fired it), oldest first."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(AlertEventRow)
                .join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
                .where(AlertRow.user_id == user_id, AlertEventRow.as_of >= since)
                .order_by(AlertEventRow.fired_at)
            ).all()
        return [AlertEvent(**e.model_dump()) for e in rows]

    def secret(self, alert_id: str) -> str | None:
        with Session(self.engine) as s:
            row = s.get(AlertRow, alert_id)
            return row.secret if row is not None else None

    # -- evaluation ---------------------------------------------------------------------

    def sweep(self, symbols: set[str] | None = None) -> list[AlertEvent]:
        """Evaluate every alert (on ``symbols`` only, when given) once; the events this
        process recorded."""
        with Session(self.engine) as s:
            rows = s.exec(select(AlertRow)).all()
        store, fired, closes, documents = self.view(), [], {}, {}
        for row in rows:
            if symbols is not None and row.symbol not in symbols:
                continue
            if not self.owner_allowed(row.user_id):
                self._checked(row.id, "not evaluated: its owner's key was revoked or expired")
                continue
            try:
                condition = CONDITION.validate_json(row.condition_json)
                if condition.on_documents:
                    if row.symbol not in documents:
                        documents[row.symbol] = self.mentions(row.symbol) or []
                    event = self._report(row, condition, documents[row.symbol])
                else:
                    if row.symbol not in closes:
                        closes[row.symbol] = store.load(row.symbol).price
                    reading = evaluate(condition, closes[row.symbol], row.symbol)
                    event = self._settle(row, condition, reading)
            except (ToolError, ValueError) as exc:
                self._checked(row.id, f"not evaluated: {exc}")
                continue
            if event is not None:
                fired.append(event)
        return fired

    def _report(self, row: AlertRow, condition, mentions: list[Mention]) -> AlertEvent | None:
        """One event for the documents not reported before, if any; of several processes
        the one whose UPDATE still finds ``seen_json`` as it was read reports them."""
        seen = json.loads(row.seen_json or "[]")
        known = set(seen)
        new = [d for d in matching(condition, mentions) if d.doc_id not in known]
        if not new:
            self._checked(row.id, f"no new documents ({len(known)} seen)")
            return None
        lines = [
            f"{d.published_at} {d.form or d.kind}: {d.title}"
            + (f" (score {d.score:+.2f})" if d.score is not None else "")
            + (f" {d.url}" if d.url else "")
            for d in new
        ]
        message = f"{condition.describe(row.symbol)}: " + "; ".join(lines)
        after = json.dumps((seen + [d.doc_id for d in new])[-MAX_SEEN:])
        latest = new[-1]
        with Session(self.engine) as s:
            changed = s.exec(
                update(AlertRow)
                .where(AlertRow.id == row.id, AlertRow.seen_json == row.seen_json)
                .values(seen_json=after, checked_at=utcnow(), last_detail=lines[-1][:300])
            ).rowcount
            if not changed:  # another process reported them
                s.commit()
                return None
            return self._record(s, row, latest.published_at, latest.score, message[:4000])

    def _record(
        self, s: Session, row: AlertRow, as_of: date, measured: float | None, message: str
    ) -> AlertEvent:
        """The event and one delivery per channel, committed with the caller's UPDATE."""
        event = AlertEventRow(
            id=new_id("evt"), alert_id=row.id, as_of=as_of, measured=measured, message=message
        )
        s.add(event)
        for channel in json.loads(row.channels_json):
            s.add(
                DeliveryRow(
                    id=new_id("dlv"),
                    event_id=event.id,
                    alert_id=row.id,
                    channel_json=json.dumps(channel),
                )
            )
        s.commit()
        s.refresh(event)
        return AlertEvent(**event.model_dump())

    def _checked(self, alert_id: str, detail: str) -> None:
        with Session(self.engine) as s:
            s.exec(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(checked_at=utcnow(), last_detail=detail)
            )
            s.commit()

    def _settle(self, row: AlertRow, condition, reading: Reading) -> AlertEvent | None:
        """Fire (armed and holding) or re-arm (fired and not holding), each by one
        conditional UPDATE: of several processes, exactly one makes each change."""
        with Session(self.engine) as s:
            changed = s.exec(
                update(AlertRow)
                .where(AlertRow.id == row.id, AlertRow.armed == reading.holds)
                .values(armed=not reading.holds, checked_at=utcnow(), last_detail=reading.detail)
            ).rowcount
            if not (changed and reading.holds):
                s.commit()
                if not changed:
                    self._checked(row.id, reading.detail)
                return None
            message = f"{condition.describe(row.symbol)}: {reading.detail} on {reading.as_of}"
            return self._record(s, row, reading.as_of, reading.measured, message)

    # -- delivering -----------------------------------------------------------------------

    def message(self, delivery: DeliveryRow) -> Message | None:
        return alert_message(self.engine, delivery)


def alert_message(engine: Engine, delivery: DeliveryRow) -> Message | None:
    """What a delivery of a firing sends; None when the alert was deleted meanwhile."""
    with Session(engine) as s:
        event = s.get(AlertEventRow, delivery.event_id)
        alert = s.get(AlertRow, delivery.alert_id)
        if event is None or alert is None:
            return None
        condition = CONDITION.validate_json(alert.condition_json)
        body = {
            "alert_id": alert.id,
            "event_id": event.id,
            "symbol": alert.symbol,
            "condition": json.loads(alert.condition_json),
            "as_of": event.as_of.isoformat(),
            "measured": event.measured,
            "message": event.message,
            "fired_at": event.fired_at.isoformat(),
        }
        return Message(
            delivery_id=delivery.id,
            user_id=alert.user_id,
            title=f"Alert: {condition.describe(alert.symbol)}",
            text=event.message,
            body=body,
            secret=alert.secret,
        )
