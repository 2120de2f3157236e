"""Alerts: each condition against a formula written here, fire-once and re-arm, exactly
one firing and one signed delivery however many processes sweep, retries with backoff
and the dead letter, the API and the CLI."""

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, update
from sqlmodel import Session

from assistant.alert_rows import DeliveryRow
from assistant.alerts import AlertService
from assistant.auth import Role, User
from assistant.channels import WebhookChannel
from assistant.deliveries import Deliveries, check_target
from assistant.store import utcnow
from tests.agent_env import make_services
from tools.alert_rules import ConditionType, evaluate, make_condition
from tools.market_data import PriceStore

DAYS = pd.bdate_range("2022-01-03", periods=60)


def closes(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=DAYS[: len(values)])


def wilder_rsi(p: np.ndarray, n: int = 14) -> float:
    d = np.diff(p)
    up, down = np.clip(d, 0, None), np.clip(-d, 0, None)
    au, ad = up[:n].mean(), down[:n].mean()
    for u, dn in zip(up[n:], down[n:], strict=True):
        au, ad = (au * (n - 1) + u) / n, (ad * (n - 1) + dn) / n
    return 100.0 if ad == 0 else 100 - 100 / (1 + au / ad)


def test_each_condition_against_its_formula():
    rng = np.random.default_rng(3)
    p = 100 * np.cumprod(1 + rng.normal(0, 0.02, 60))
    s = closes(p)
    last, move, rsi = p[-1], p[-1] / p[-2] - 1, wilder_rsi(p)
    above = evaluate(make_condition(ConditionType.PRICE_ABOVE, last - 0.01), s, "X")
    assert above.holds and above.measured == pytest.approx(last)
    assert not evaluate(make_condition(ConditionType.PRICE_BELOW, last - 0.01), s, "X").holds
    moved = evaluate(make_condition(ConditionType.PCT_MOVE, abs(move) * 0.99), s, "X")
    assert moved.holds and moved.measured == pytest.approx(move)
    assert not evaluate(make_condition(ConditionType.PCT_MOVE, abs(move) * 1.01), s, "X").holds
    down, up = closes([100.0, 94.0]), closes([100.0, 106.0])  # -6% and +6% in a day
    for kind, holds_on in (
        (ConditionType.PCT_DROP, down),
        (ConditionType.PCT_RISE, up),
    ):
        other = up if holds_on is down else down
        assert evaluate(make_condition(kind, 0.05), holds_on, "X").holds
        assert not evaluate(make_condition(kind, 0.05), other, "X").holds  # the other way
        assert not evaluate(make_condition(kind, 0.07), holds_on, "X").holds
    assert make_condition(ConditionType.PCT_DROP, 0.05).describe("KO") == (
        "KO falls 5.0% or more in a day"
    )
    r = evaluate(make_condition(ConditionType.RSI_ABOVE, 1), s, "X")
    assert r.measured == pytest.approx(rsi, rel=1e-9)
    flat_then_up = closes([10.0] * 25 + [9.0, 12.0])  # below its 20-day average, then above
    assert evaluate(make_condition(ConditionType.CROSS_SMA, 20), flat_then_up, "X").holds
    assert not evaluate(
        make_condition(ConditionType.CROSS_SMA, 20), closes([10.0] * 25 + [12.0, 13.0]), "X"
    ).holds
    assert evaluate(make_condition(ConditionType.PRICE_ABOVE, 1), closes([5.0]), "X").as_of == (
        DAYS[0].date()
    )


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("rsi_below", 130, "less than 100"),
        ("pct_move", 5, "less than 1"),
        ("cross_sma", 2.5, "valid integer"),
        ("price_above", -1, "greater than 0"),
        ("price_above", float("nan"), "finite number"),
        ("earnings_beat", 1, "does not match any of the expected tags"),
        ("new_filing", 1, "valid list"),
        ("new_filing", ["10-K; DROP TABLE"], "should match pattern"),
        ("news_sentiment", 2, "less than or equal to 1"),
        ("anomaly", 1, "greater than or equal to 2"),
    ],
)
def test_conditions_that_cannot_be_meant_are_refused(kind, value, message):
    with pytest.raises(ValidationError, match=message):
        make_condition(kind, value)


class Receiver:
    """A webhook receiver on localhost: answers with the next status in ``statuses``
    (then 200) and keeps every request."""

    def __init__(self, statuses=()):
        self.statuses, self.received = list(statuses), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(autouse=True)
def _receivers_are_local(monkeypatch):
    """The fake receivers listen on 127.0.0.1, which a server refuses by default."""
    monkeypatch.setenv("ASSISTANT_ALERT_WEBHOOK_ALLOW_PRIVATE", "true")


@pytest.fixture
def prices(tmp_path):
    store = PriceStore(tmp_path / "prices")
    _set_closes(store, np.linspace(10, 20, 40))
    return store


def _set_closes(store: PriceStore, values) -> None:
    frame = pd.DataFrame(
        {"adj_close": np.asarray(values, dtype=float)},
        index=pd.DatetimeIndex(DAYS[: len(values)], name="date"),
    )
    store.save("ACME", frame, "test", replace=True)


def test_an_alert_fires_once_re_arms_and_fires_again(db_url, prices):
    alerts = AlertService(create_engine(db_url), prices)
    made = alerts.create("ann", "acme", make_condition("price_above", 15), [])
    assert made.armed and made.symbol == "ACME" and made.secret
    assert [e.message for e in alerts.sweep()] == [
        f"ACME closes above 15: close 20 on {DAYS[39].date()}"
    ]
    assert alerts.sweep() == []  # still above: no second firing
    _set_closes(prices, list(np.linspace(10, 20, 39)) + [14.0])
    assert alerts.sweep() == [] and alerts.mine("ann")[0].armed  # below again: re-armed
    _set_closes(prices, list(np.linspace(10, 20, 39)) + [14.0, 16.0])
    assert len(alerts.sweep()) == 1
    assert len(alerts.events("ann", made.id)) == 2
    with pytest.raises(Exception, match="no alert"):
        alerts.events("bob", made.id)  # another user's alert does not exist for bob


def _sweep_in_a_process(db_url: str, prices_dir: str, out) -> None:
    alerts = AlertService(create_engine(db_url), PriceStore(prices_dir))
    fired = alerts.sweep()
    sent = Deliveries(create_engine(db_url), allow_private=True).run()
    out.put((len(fired), len(sent)))


def test_two_processes_record_one_firing_and_send_one_signed_webhook(db_url, prices, tmp_path):
    receiver = Receiver()
    try:
        alerts = AlertService(create_engine(db_url), prices)
        made = alerts.create(
            "ann",
            "ACME",
            make_condition("price_above", 15),
            [WebhookChannel(type="webhook", url=receiver.url)],
        )
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        workers = [
            ctx.Process(target=_sweep_in_a_process, args=(db_url, str(prices.root), out))
            for _ in range(2)
        ]
        for w in workers:
            w.start()
        results = [out.get(timeout=120) for _ in workers]
        for w in workers:
            w.join(timeout=30)
        assert sorted(f for f, _ in results) == [0, 1] and sum(s for _, s in results) == 1
        [(headers, body)] = receiver.received
        expected = "sha256=" + hmac.new(made.secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Assistant-Signature"] == expected
        payload = json.loads(body)
        assert payload["alert_id"] == made.id and payload["symbol"] == "ACME"
        assert payload["measured"] == pytest.approx(20.0)
        [event] = alerts.events("ann", made.id)
        assert [d.status for d in event.deliveries] == ["delivered"]
        assert headers["X-Assistant-Delivery"] == event.deliveries[0].id
    finally:
        receiver.close()


def test_failed_deliveries_back_off_and_end_in_the_dead_letter(db_url, prices):
    receiver = Receiver(statuses=[500, 503, 500])
    engine = create_engine(db_url)
    try:
        alerts = AlertService(engine, prices)
        made = alerts.create(
            "ann",
            "ACME",
            make_condition("price_above", 1),
            [WebhookChannel(type="webhook", url=receiver.url)],
        )
        alerts.sweep()
        sender = Deliveries(engine, allow_private=True, max_attempts=3, retry_base_seconds=60)
        [first] = sender.run()
        assert first.status == "pending" and first.attempts == 1 and first.last_error == "HTTP 500"
        assert sender.run() == []  # not due yet: backing off 60 s
        for _ in range(2):  # the clock moves past each backoff (60 s, then 120 s)
            with Session(engine) as s:
                s.exec(update(DeliveryRow).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
                s.commit()
            [row] = sender.run()
        assert row.status == "dead" and row.attempts == 3 and row.last_error == "HTTP 500"
        assert len(receiver.received) == 3
        [event] = alerts.events("ann", made.id)
        assert event.deliveries[0].status == "dead"
    finally:
        receiver.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://10.1.2.3/hook",
        "http://100.100.100.200/latest/meta-data",  # shared space (cloud metadata)
        "http://[::1]/hook",
        "http://224.0.0.1/hook",
        "http://2130706433/hook",
        "http://[64:ff9b::7f00:1]/hook",  # NAT64: reaches 127.0.0.1 through a gateway
        "http://[::127.0.0.1]/hook",  # IPv4-compatible
        "http://[::ffff:0:7f00:1]/hook",  # IPv4-translated
        "http://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
        "http://[fec0::1]/hook",  # site-local
        "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
    ],
)
def test_webhooks_into_the_network_are_refused_unless_allowed(url):
    with pytest.raises(ValueError, match="not a public address"):
        check_target(url, allow_private=False)
    check_target(url, allow_private=True)


def test_several_due_deliveries_are_each_sent_and_a_refused_target_is_dead_at_once(db_url, prices):
    """A stranger's finding: two webhooks due in one sweep jammed every delivery."""
    receiver = Receiver()
    engine = create_engine(db_url)
    try:
        alerts = AlertService(engine, prices)
        hooks = [
            WebhookChannel(type="webhook", url=receiver.url),
            WebhookChannel(type="webhook", url=receiver.url + "2"),
        ]
        made = alerts.create("ann", "ACME", make_condition("price_above", 1), hooks)
        alerts.create("bob", "ACME", make_condition("price_above", 2), [hooks[0]])
        alerts.sweep()
        sent = Deliveries(engine, allow_private=True).run()
        assert sorted(r.status for r in sent) == ["delivered"] * 3
        assert len(receiver.received) == 3
        refused = AlertService(engine, prices).create(
            "cy", "ACME", make_condition("price_above", 3), [hooks[0]]
        )
        alerts.sweep()
        [dead] = Deliveries(engine, allow_private=False).run()
        assert dead.status == "dead" and dead.attempts == 1
        assert "not a public address" in dead.last_error
        assert alerts.events("cy", refused.id)[0].deliveries[0].status == "dead"
        assert len(alerts.events("ann", made.id)[0].deliveries) == 2
    finally:
        receiver.close()


def test_cli_alerts(cli, use_sample):
    made = cli("alerts", "add", "KO", "--when", "price_above", "--value", "1", "--json")
    assert made.exit_code == 0, made.output
    alert = json.loads(made.output)
    assert alert["description"] == "KO closes above 1" and alert["secret"]
    ran = cli("alerts", "run", "--json")
    assert json.loads(ran.output)["fired"][0]["alert_id"] == alert["id"]
    assert "fired" in cli("alerts", "list").output
    assert "KO closes above 1" in cli("alerts", "events", alert["id"]).output
    for bad in (
        ["alerts", "add", "KO", "--when", "rsi_below", "--value", "300"],
        ["alerts", "add", "KO", "--when", "price_above", "--value", "nan"],
        ["alerts", "add", "NOTREAL", "--when", "price_above", "--value", "1"],
        ["alerts", "add", "KO", "--when", "soon", "--value", "1"],
        ["alerts", "add", "KO", "--when", "price_above", "--value", "1", "--webhook", "ftp://x"],
        ["alerts", "remove", "alrt_nope"],
    ):
        result = cli(*bad)
        assert result.exit_code == 2 and result.output.count("error:") == 1, (bad, result.output)
    assert cli("alerts", "remove", alert["id"]).exit_code == 0


@pytest.mark.parametrize(
    ("question", "call"),
    [
        (
            "alert me when AAPL's RSI drops below 30",
            {"symbol": "AAPL", "condition": "rsi_below", "value": 30.0},
        ),
        (
            "notify me if Coca-Cola goes above 70",
            {"symbol": "KO", "condition": "price_above", "value": 70.0},
        ),
        (
            "tell me when MSFT moves 5% in a day",
            {"symbol": "MSFT", "condition": "pct_move", "value": 0.05},
        ),
        (
            "let me know when Microsoft crosses its 50-day moving average",
            {"symbol": "MSFT", "condition": "cross_sma", "value": 50.0},
        ),
        (
            "ping me if KO falls below $55",
            {"symbol": "KO", "condition": "price_below", "value": 55.0},
        ),
    ],
)
def test_alert_talk(model_cache, question, call):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL KO MSFT".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert plan.calls == [("create_alert", call)]


def test_chat_creates_an_alert_for_a_trader_only(tmp_path, db_url, sample_store, sample_index_dir):
    services = make_services(tmp_path / "data", db_url, sample_store, sample_index_dir)
    trader, viewer = User(id="tina", role=Role.TRADER), User(id="val", role=Role.VIEWER)
    made = asyncio.run(services.chat.ask("alert me when KO's RSI drops below 30", trader))
    assert "Alert set (alrt_" in made.answer
    [alert] = services.chat.alerts.mine("tina")
    assert (alert.symbol, alert.condition.type, alert.condition.value) == ("KO", "rsi_below", 30)
    refused = asyncio.run(services.chat.ask("alert me when KO closes above 70", viewer))
    assert "trader role" in refused.answer and services.chat.alerts.mine("val") == []


@pytest.mark.parametrize(
    "question",
    [
        "Tell me about UnitedHealth",
        "tell me about pfizer and merck",
        "let me know what you think of KO",
        "warn me about the risks in AAPL's 10-K",
        "what is an alert",
    ],
)
def test_other_talk_is_not_alert_talk(model_cache, question):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL KO MRK PFE UNH".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert not any(name in ("create_alert", "list_alerts") for name, _ in plan.calls)
    assert "alert" not in (plan.message or "").lower()
