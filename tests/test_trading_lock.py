"""The risk check and the broker submit are one step per account, across processes
(finding 10): two API processes, a slow broker, a daily limit of 12 orders with 11
used, four approvals at once -> exactly one more order. SQLite (an OS file lock) and
PostgreSQL (a row lock) each run it; under CI=true PostgreSQL must be there."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine

from assistant.account_lock import AccountLock
from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.store import ApprovalRow, ConversationRow, Store, new_id, utcnow
from tests.fakes.alpaca import KEY, SECRET, serve_fake_alpaca
from tests.serving import served


def test_the_lock_serialises_holders(tmp_path, db_url):
    lock = AccountLock(create_engine(db_url), tmp_path)
    inside, overlaps = [], []

    def hold(i: int) -> None:
        with lock.hold("paper:default"):
            inside.append(i)
            if len(inside) > 1:
                overlaps.append(list(inside))
            time.sleep(0.05)
            inside.remove(i)

    threads = [threading.Thread(target=hold, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []


def _seed(store: Store, status: str, decided: bool, owner: str) -> str:
    conversation = ConversationRow(id=new_id("conv"), user_id=owner)
    store.add_conversation(conversation)
    row = ApprovalRow(
        id=new_id("appr"),
        conversation_id=conversation.id,
        tool_call_id=new_id("call"),
        order_json=json.dumps({"symbol": "KO", "side": "buy", "quantity": 1, "type": "market"}),
        risk_json=json.dumps({"passed": True, "checks": []}),
        requested_by=owner,
        status=status,
        decided_by="key:someone" if decided else None,
        decided_at=utcnow() if decided else None,
        expires_at=utcnow().replace(year=utcnow().year + 1),
    )
    store.add_approval(row)
    return row.id


def test_two_processes_cannot_exceed_the_daily_limit_together(tmp_path, db_url, sample_dir):
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    store = Store(create_engine(db_url))
    keys = KeyStore(store.engine)
    trader = f"key:{keys.create(Role.TRADER)[0].id}"
    for _ in range(11):
        _seed(store, "executed", decided=True, owner=trader)
    pending = [_seed(store, "pending", decided=False, owner=trader) for _ in range(4)]
    approver = keys.create(Role.APPROVER)[1]
    with serve_fake_alpaca({"KO": 62.0}) as alpaca:
        alpaca.submit_delay = 0.5  # a slow broker widens any race to half a second
        env = {
            "ASSISTANT_DATA_DIR": str(tmp_path),
            "ASSISTANT_DATABASE_URL": db_url,
            "ASSISTANT_BROKER": "alpaca",
            "ASSISTANT_ALPACA_API_KEY": KEY,
            "ASSISTANT_ALPACA_SECRET_KEY": SECRET,
            "ASSISTANT_ALPACA_BASE_URL": alpaca.url,
            "ASSISTANT_MAX_ORDERS_PER_DAY": "12",
        }
        with (
            served(env, tmp_path / "a.log") as a,
            served(env, tmp_path / "b.log") as b,
            ThreadPoolExecutor(4) as pool,
        ):
            urls = [a.url, b.url, a.url, b.url]
            answers = list(
                pool.map(
                    lambda pair: httpx.post(
                        f"{pair[0]}/v1/approvals/{pair[1]}/approve",
                        headers={"Authorization": f"Bearer {approver}"},
                        timeout=60,
                    ),
                    zip(urls, pending, strict=True),
                )
            )
    statuses = sorted(r.json()["status"] for r in answers)
    assert statuses == ["executed", "failed_checks", "failed_checks", "failed_checks"]
    assert len(alpaca.orders) == 1
    assert all(
        "daily limit of 12 orders" in r.json()["reason"]
        for r in answers
        if r.json()["status"] == "failed_checks"
    )
