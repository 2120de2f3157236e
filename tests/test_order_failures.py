"""Finding 1 of issue 11: one bad order or one broker failure must never wedge the server.

Orders are validated completely when proposed; every broker failure (network errors
included) ends in ``broker_error``; reconciliation at start records a bad row and goes
on; the order approved is exactly the order shown. Alpaca runs as its real client
against a local fake that can drop connections (SQLite, and PostgreSQL when set).
"""

import asyncio
import json
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from assistant.auth import Role, User
from assistant.settings import Settings
from assistant.store import ApprovalRow, ConversationRow, new_id, utcnow
from tests.agent_env import make_services
from tests.fakes.alpaca import KEY, SECRET, serve_fake_alpaca
from tools.broker.alpaca import AlpacaBroker

TRADER = User(id="tina", role=Role.TRADER)
APPROVER = User(id="alex", role=Role.APPROVER)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def alpaca():
    with serve_fake_alpaca({"AAPL": 130.0, "KO": 60.0}) as fake:
        yield fake


@pytest.fixture
def services(tmp_path, db_url, sample_store, sample_index_dir, alpaca):
    return make_services(
        tmp_path / "data",
        db_url,
        sample_store,
        sample_index_dir,
        broker_factory=lambda: AlpacaBroker(KEY, SECRET, base_url=alpaca.url),
    )


def _legacy_row(services, status: str, order: dict) -> str:
    """An approval as the old code could store it (e.g. "quantity": null for 400 digits)."""
    conversation = ConversationRow(id=new_id("conv"), user_id="tina")
    services.store.add_conversation(conversation)
    row = ApprovalRow(
        id=new_id("appr"),
        conversation_id=conversation.id,
        tool_call_id="call_legacy",
        order_json=json.dumps(order),
        risk_json=json.dumps({"passed": True, "checks": []}),
        requested_by="tina",
        status=status,
        expires_at=utcnow().replace(year=utcnow().year + 1),
    )
    services.store.add_approval(row)
    return row.id


def test_a_huge_or_impossible_order_is_refused_when_proposed(services):
    """400 digits used to become an infinite quantity stored as a pending approval."""
    for question, problem in [
        ("buy " + "9" * 400 + " AAPL", "finite number"),
        ("sell 0 shares of AAPL", "greater than 0"),
        ("buy 2000000 AAPL", "exceed the maximum of 1,000,000"),
    ]:
        turn = run(services.chat.ask(question, TRADER))
        assert turn.error is None and turn.approvals == [], question
        assert "The order was not placed" in turn.answer and problem in turn.answer, turn.answer
    assert services.store.approvals(None) == []


def test_a_network_failure_at_the_broker_ends_in_broker_error(services, alpaca):
    [approval] = run(services.chat.ask("buy 3 KO", TRADER)).approvals
    alpaca.drop_submits = 1
    decision = run(services.decisions.approve(approval.approval_id, APPROVER))
    assert decision.status == "broker_error" and "could not be reached" in decision.reason
    assert services.store.approval(approval.approval_id).status == "broker_error"
    assert "failed at the broker" in decision.turn.answer
    assert alpaca.orders == {}


def test_an_order_placed_before_the_connection_dropped_is_found_not_lost(services, alpaca):
    [approval] = run(services.chat.ask("buy 3 KO", TRADER)).approvals
    alpaca.drop_submits, alpaca.accept_dropped = 1, True
    decision = run(services.decisions.approve(approval.approval_id, APPROVER))
    assert decision.status == "executed"
    assert decision.broker_order.client_order_id == approval.approval_id
    assert len(alpaca.orders) == 1


def test_the_approved_order_is_exactly_the_order_shown(services, alpaca):
    """A limit order stays a limit order with its price all the way to the broker."""
    [approval] = run(services.chat.ask("buy 2 KO at 62", TRADER)).approvals
    assert approval.order["type"] == "limit" and approval.order["limit_price"] == 62
    run(services.decisions.approve(approval.approval_id, APPROVER))
    [sent] = alpaca.orders.values()
    assert (sent["type"], float(sent["limit_price"]), float(sent["qty"])) == ("limit", 62.0, 2.0)
    limit_without_price = run(services.chat.ask("buy 2 KO with a limit order", TRADER))
    assert limit_without_price.approvals == [] or all(
        a.order["type"] == "market" for a in limit_without_price.approvals
    )


def test_a_legacy_bad_row_is_refused_at_approval_without_a_500(services):
    bad = _legacy_row(services, "pending", {"symbol": "AAPL", "side": "buy", "quantity": None})
    decision = run(services.decisions.approve(bad, APPROVER))
    assert decision.status == "failed_checks" and "stored order is invalid" in decision.reason


def test_reconcile_records_a_bad_row_and_goes_on(services, alpaca):
    bad = _legacy_row(services, "approved", {"symbol": "AAPL", "side": "buy", "quantity": None})
    good = _legacy_row(
        services, "approved", {"symbol": "KO", "side": "buy", "quantity": 1, "type": "market"}
    )
    done = {d.approval_id: d.status for d in run(services.decisions.reconcile())}
    assert done == {bad: "failed_checks", good: "executed"}
    unreachable = _legacy_row(
        services, "approved", {"symbol": "KO", "side": "buy", "quantity": 1, "type": "market"}
    )
    alpaca.down = True
    [decision] = run(services.decisions.reconcile())
    assert decision.approval_id == unreachable and decision.status == "broker_error"
    assert "check the broker for client order id" in decision.reason


def test_the_server_starts_while_the_broker_is_down(tmp_path, sample_dir, alpaca):
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    settings = Settings(
        data_dir=tmp_path,
        auth="off",
        broker="alpaca",
        alpaca_api_key=KEY,
        alpaca_secret_key=SECRET,
        alpaca_base_url=alpaca.url,
    )
    services = make_services(
        tmp_path, settings.effective_database_url, None, tmp_path / "qdrant"
    )  # only its store is used, to plant the row a crash left behind
    stuck = _legacy_row(
        services, "approved", {"symbol": "KO", "side": "buy", "quantity": 1, "type": "market"}
    )
    alpaca.down = True
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 20
        while True:  # reconciliation runs in the background
            listed = client.get("/v1/approvals", params={"status": "all"}).json()
            if listed[0]["status"] != "approved" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert [(a["approval_id"], a["status"]) for a in listed] == [(stuck, "broker_error")]


def test_start_up_does_not_wait_for_a_conversation_a_crashed_turn_holds(tmp_path, sample_dir):
    """A turn killed mid-run leaves its conversation's lease for minutes; an approval of
    that conversation expiring meanwhile used to hold the server's start-up that long."""
    from datetime import timedelta

    from sqlmodel import Session

    from assistant.store import ConversationLeaseRow

    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    settings = Settings(data_dir=tmp_path, auth="off")
    services = make_services(tmp_path, settings.effective_database_url, None, tmp_path / "q")
    overdue = _legacy_row(
        services, "pending", {"symbol": "KO", "side": "buy", "quantity": 1, "type": "market"}
    )
    row = services.store.approval(overdue)
    with Session(services.store.engine) as s:
        s.add(
            ConversationLeaseRow(
                conversation_id=row.conversation_id,
                holder="turn_of_a_dead_process",
                expires_at=utcnow() + timedelta(minutes=3),
            )
        )
        stale = s.get(ApprovalRow, overdue)
        stale.expires_at = utcnow() - timedelta(minutes=1)
        s.add(stale)
        s.commit()
    started = time.monotonic()
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 10
        deadline = time.monotonic() + 10
        while services.store.approval(overdue).status == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert services.store.approval(overdue).status == "expired"
