"""Alert channels and document alerts: e-mail over SMTP (a local aiosmtpd server), Slack
(the fake Web API), the widget's notifications, webhooks sent to the address that was
checked; filing and news alerts that fire once per new document."""

import socket
from email import message_from_bytes

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine

from assistant.alerts import AlertService
from assistant.channels import (
    ChannelError,
    EmailChannel,
    SlackChannel,
    WebhookChannel,
    WidgetChannel,
    redact_url,
)
from assistant.deliveries import Deliveries
from assistant.notifications import Notifications
from assistant.settings import Settings
from ingest.pipeline import ingest
from ingest.sentiment import LexiconSentiment
from retrieval.embeddings import shared_embedder
from retrieval.index import DocumentIndex
from retrieval.models import DocType, Document
from tests.fakes.slack import serve_fake_slack
from tests.test_alerts import Receiver
from tools.alert_rules import make_condition
from tools.market_data import PriceStore

DAYS = pd.bdate_range("2022-01-03", periods=80)


@pytest.fixture(autouse=True)
def _receivers_are_local(monkeypatch):
    """The fake receivers listen on 127.0.0.1, which a server refuses by default."""
    monkeypatch.setenv("ASSISTANT_ALERT_WEBHOOK_ALLOW_PRIVATE", "true")


@pytest.fixture
def prices(tmp_path):
    store = PriceStore(tmp_path / "prices")
    frame = pd.DataFrame(
        {"adj_close": np.linspace(10, 20, 80)}, index=pd.DatetimeIndex(DAYS, name="date")
    )
    store.save("ACME", frame, "test", replace=True)
    return store


class Mailbox:
    """An SMTP server on localhost (aiosmtpd) that keeps what it is sent."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def test_email_goes_over_smtp_and_needs_a_server(db_url, prices):
    engine = create_engine(db_url)
    channel = EmailChannel(type="email", to="ann@example.com")
    with pytest.raises(ChannelError, match="ASSISTANT_SMTP_HOST"):
        AlertService(engine, prices).create(
            "ann", "ACME", make_condition("price_above", 1), [channel]
        )
    mailbox = Mailbox()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_from="ma@test")
        alerts = AlertService(engine, prices, settings=settings)
        alerts.create("ann", "ACME", make_condition("price_above", 15), [channel])
        alerts.sweep()
        [sent] = Deliveries(engine, settings=settings).run()
        assert sent.status == "delivered"
        [(to, mail)] = mailbox.messages
        assert to == ["ann@example.com"] and mail["From"] == "ma@test"
        assert mail["Subject"] == "Alert: ACME closes above 15"
        assert "ACME closes above 15: close 20" in mail.get_payload()
    finally:
        mailbox.close()


def test_slack_posts_block_kit_to_a_channel_or_the_users_dm(db_url, prices):
    engine = create_engine(db_url)
    with serve_fake_slack() as fake:
        settings = Settings(slack_bot_token="xoxb-test", slack_api_url=fake.url + "/api/")
        alerts = AlertService(engine, prices, settings=settings)
        rule = make_condition("price_above", 15)
        dm = SlackChannel(type="slack")
        with pytest.raises(ChannelError, match="not a Slack user"):
            alerts.create("key:abc", "ACME", rule, [dm])
        alerts.create("slack:U42", "ACME", rule, [dm])
        alerts.create("key:abc", "ACME", rule, [SlackChannel(type="slack", channel="#desk")])
        alerts.sweep()
        sent = Deliveries(engine, settings=settings).run()
        assert [d.status for d in sent] == ["delivered", "delivered"]
        posts = fake.of("chat.postMessage")
        assert sorted(p["channel"] for p in posts) == ["#desk", "U42"]
        header, section = posts[0]["blocks"]
        assert header["type"] == "header" and header["text"]["text"].startswith("Alert: ACME")
        assert "close 20" in section["text"]["text"]
    without = AlertService(engine, prices)  # no bot token on this server
    with pytest.raises(ChannelError, match="SLACK_BOT_TOKEN"):
        without.create("slack:U42", "ACME", rule, [dm])


def test_widget_firings_become_the_users_notifications(db_url, prices):
    engine = create_engine(db_url)
    alerts = AlertService(engine, prices)
    made = alerts.create(
        "ann", "ACME", make_condition("price_above", 15), [WidgetChannel(type="widget")]
    )
    alerts.sweep()
    Deliveries(engine).run()
    notes = Notifications(engine)
    [note] = notes.mine("ann")
    assert (note.kind, note.source_id, note.read) == ("alert", made.id, False)
    assert note.title == "Alert: ACME closes above 15"
    assert notes.mine("bob") == [] and notes.mine("ann", after=note.seq) == []
    assert notes.mark_read("ann", note.seq) == 1 and notes.mine("ann", unread=True) == []


def test_a_webhook_goes_to_the_address_that_was_checked(db_url, prices, monkeypatch):
    """DNS rebinding: the name is resolved once, checked, and the request goes there
    (a second lookup would answer differently: here, it would fail)."""
    receiver = Receiver()
    real = socket.getaddrinfo
    lookups = []

    def once_then_gone(host, *args, **kwargs):
        if host == "hooks.example":
            lookups.append(host)
            if len(lookups) > 1:
                raise socket.gaierror("rebound")
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", once_then_gone)
    try:
        engine = create_engine(db_url)
        port = receiver.url.split(":")[2].split("/")[0]
        hook = WebhookChannel(type="webhook", url=f"http://hooks.example:{port}/hook")
        alerts = AlertService(engine, prices)
        alerts.create("ann", "ACME", make_condition("price_above", 15), [hook])
        alerts.sweep()
        [sent] = Deliveries(engine, allow_private=True).run()
        assert sent.status == "delivered", sent.last_error
        [(headers, _body)] = receiver.received
        assert headers["Host"] == f"hooks.example:{port}" and lookups == ["hooks.example"]
    finally:
        receiver.close()


def test_credentials_in_a_webhook_url_are_not_shown_in_lists():
    assert (
        redact_url("https://user:pw@hooks.example.com/x?y=1")
        == "https://***@hooks.example.com/x?y=***"
    )
    assert redact_url("https://hooks.example.com/x") == "https://hooks.example.com/x"


def _doc(doc_id, ticker, day, *, form=None, text="Quarterly update.", title=None):
    return Document(
        doc_id=doc_id,
        title=title or f"{ticker} {form or 'news'} {day}",
        source="test",
        doc_type=DocType.FILING if form else DocType.NEWS,
        form=form,
        tickers=[ticker],
        published_at=day,
        text=text,
    )


@pytest.fixture
def index(tmp_path, model_cache):
    idx = DocumentIndex(shared_embedder(cache_dir=model_cache), path=tmp_path / "qdrant")
    yield idx
    idx.close()


def test_filing_and_news_alerts_fire_once_per_new_document(db_url, prices, index):
    engine = create_engine(db_url)
    lexicon = LexiconSentiment()
    ingest(index, [_doc("f1", "ACME", "2022-04-01", form="10-K")], sentiment=lexicon)
    alerts = AlertService(engine, prices, documents=lambda: index)
    eight_k = alerts.create("ann", "ACME", make_condition("new_filing", "8-k"), [])
    any_form = alerts.create("ann", "ACME", make_condition("new_filing"), [])
    bad_news = alerts.create("ann", "ACME", make_condition("news_sentiment", -0.3), [])
    assert eight_k.condition.value == ["8-K"] and any_form.condition.value == []
    assert alerts.sweep() == []  # the 10-K was there before: the starting point
    ingest(
        index,
        [
            _doc("f2", "ACME", "2022-04-20", form="8-K"),
            _doc(
                "n1",
                "ACME",
                "2022-04-21",
                text="ACME shares plunged after a terrible loss, "
                "a fraud probe and a weak, disappointing outlook.",
            ),
            _doc(
                "n2",
                "ACME",
                "2022-04-22",
                text="ACME posted strong record growth and beat "
                "estimates; analysts upgraded the stock.",
            ),
        ],
        sentiment=lexicon,
    )
    fired = {e.alert_id: e for e in alerts.sweep()}
    assert set(fired) == {eight_k.id, any_form.id, bad_news.id}
    assert "8-K" in fired[eight_k.id].message and "2022-04-20" in fired[eight_k.id].message
    assert "ACME news 2022-04-21" in fired[bad_news.id].message
    assert "2022-04-22" not in fired[bad_news.id].message  # good news is not bad news
    assert fired[bad_news.id].measured < -0.3
    assert alerts.sweep() == []  # each document fires once


def test_two_sweeps_that_read_the_same_state_report_a_document_once(db_url, prices, index):
    from sqlmodel import Session, select

    from assistant.alert_rows import AlertRow
    from tools.alert_rules import CONDITION

    engine = create_engine(db_url)
    alerts = AlertService(engine, prices, documents=lambda: index)
    alerts.create("ann", "ACME", make_condition("new_filing"), [])
    ingest(index, [_doc("f9", "ACME", "2022-05-02", form="8-K")])
    with Session(engine) as s:
        [row] = s.exec(select(AlertRow)).all()  # both processes read it before either wrote
    condition, mentions = CONDITION.validate_json(row.condition_json), alerts.mentions("ACME")
    first = alerts._report(row, condition, mentions)
    second = AlertService(engine, prices, documents=lambda: index)._report(row, condition, mentions)
    assert first is not None and second is None


def test_public_ipv6_forms_of_public_addresses_are_allowed():
    import ipaddress

    from assistant.channels import public

    for address in ("8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "2002:808:808::1"):
        assert public(ipaddress.ip_address(address)), address


def test_a_name_that_does_not_resolve_now_is_retried_not_dead(db_url, prices):
    engine = create_engine(db_url)
    alerts = AlertService(engine, prices)
    hook = WebhookChannel(type="webhook", url="http://no-such-host.invalid/hook")
    made = alerts.create("ann", "ACME", make_condition("price_above", 15), [hook])
    alerts.sweep()
    [sent] = Deliveries(engine).run()
    assert sent.status == "pending" and "cannot resolve" in sent.last_error
    assert alerts.events("ann", made.id)[0].deliveries[0].attempts == 1


def test_lists_show_webhook_urls_without_their_credentials(db_url, prices):
    engine = create_engine(db_url)
    alerts = AlertService(engine, prices)
    hook = WebhookChannel(type="webhook", url="https://user:pw@hooks.example.com/x?token=abc")
    made = alerts.create("ann", "ACME", make_condition("price_above", 15), [hook])
    for shown in (made.channels[0], alerts.mine("ann")[0].channels[0]):
        assert str(shown.url) == "https://***@hooks.example.com/x?token=***"
    alerts.sweep()
    [event] = alerts.events("ann", made.id)
    assert "pw" not in event.model_dump_json() and "abc" not in event.model_dump_json()


def test_a_slow_receiver_holds_up_no_one_else(db_url, prices):
    """A trader's webhooks to a receiver that never answers: another user's widget
    firing is still delivered in the first round, and the round ends within the lease."""
    import time

    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(100)  # accepts, never answers
    port = hang.getsockname()[1]
    engine = create_engine(db_url)
    alerts = AlertService(engine, prices)
    rule = make_condition("price_above", 15)
    try:
        for i in range(6):
            hooks = [
                WebhookChannel(type="webhook", url=f"http://127.0.0.1:{port}/h{i}{j}")
                for j in range(5)
            ]
            alerts.create("slow", "ACME", rule, hooks)
        alerts.create("ann", "ACME", rule, [WidgetChannel(type="widget")])
        alerts.sweep()
        started = time.monotonic()
        Deliveries(engine, allow_private=True).run()
        assert time.monotonic() - started < 50  # 31 sends, 8 at a time, 5 s at most each
        assert [n.kind for n in Notifications(engine).mine("ann")] == ["alert"]
    finally:
        hang.close()


def test_a_claim_too_close_to_its_lease_end_is_given_back_not_sent(db_url, prices):
    from datetime import timedelta

    from sqlmodel import Session, select

    from assistant.alert_rows import DeliveryRow
    from assistant.store import utcnow

    receiver = Receiver()
    engine = create_engine(db_url)
    try:
        alerts = AlertService(engine, prices)
        hook = WebhookChannel(type="webhook", url=receiver.url)
        alerts.create("ann", "ACME", make_condition("price_above", 15), [hook])
        alerts.sweep()
        sender = Deliveries(engine, allow_private=True)
        [row] = sender._claim()
        row.claimed_until = utcnow() + timedelta(seconds=2)  # the send took too long to start
        assert sender._deliver(row) is None and receiver.received == []
        with Session(engine) as s:
            [again] = s.exec(select(DeliveryRow)).all()
        assert again.status == "pending" and again.attempts == 0
        assert [r.status for r in sender.run()] == ["delivered"]
        assert len(receiver.received) == 1
    finally:
        receiver.close()


def test_a_revoked_owners_alerts_stop_firing(db_url, prices):
    engine = create_engine(db_url)
    revoked = {"key:gone"}
    alerts = AlertService(engine, prices, owner_allowed=lambda user: user not in revoked)
    rule = make_condition("price_above", 15)
    gone = alerts.create("key:gone", "ACME", rule, [])
    kept = alerts.create("key:kept", "ACME", rule, [])
    assert [e.alert_id for e in alerts.sweep()] == [kept.id]
    [state] = alerts.mine("key:gone")
    assert state.armed and "revoked" in state.last_detail and gone.id == state.id


def test_the_alert_cap_holds_when_creations_race(db_url, prices, monkeypatch):
    import threading

    import assistant.alerts as alerts_module

    monkeypatch.setattr(alerts_module, "MAX_ALERTS_PER_USER", 3)
    engine = create_engine(db_url)
    alerts = AlertService(engine, prices)
    barrier = threading.Barrier(8)
    outcomes = []

    def create() -> None:
        barrier.wait()
        try:
            alerts.create("ann", "ACME", make_condition("price_above", 15), [])
            outcomes.append("made")
        except Exception as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(alerts.mine("ann")) <= 3
    assert outcomes.count("made") == len(alerts.mine("ann"))
