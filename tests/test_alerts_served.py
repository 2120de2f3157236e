"""Two `assistant serve` processes on one database: each firing is one signed webhook,
whichever process sweeps, and the widget's notification stream of either server carries
firings the other delivered."""

import hashlib
import hmac
import json
import threading
import time

import httpx
from sqlalchemy import create_engine

from assistant.auth import Role
from assistant.keys import KeyStore
from tests.serving import served
from tests.test_alerts import Receiver


def test_two_servers_deliver_one_signed_webhook_per_firing(tmp_path, db_url, sample_dir):
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    env = {
        "ASSISTANT_DATA_DIR": str(tmp_path),
        "ASSISTANT_DATABASE_URL": db_url,
        "ASSISTANT_ALERT_SWEEP_SECONDS": "0.5",
        "ASSISTANT_ALERT_WEBHOOK_ALLOW_PRIVATE": "true",
        "ASSISTANT_PRICE_PROVIDER": "none",
    }
    keys = KeyStore(create_engine(db_url))
    auth = {"Authorization": f"Bearer {keys.create(Role.TRADER)[1]}"}
    receiver = Receiver()
    try:
        with served(env, tmp_path / "a.log") as a, served(env, tmp_path / "b.log") as b:
            made = []
            for symbol, server in (("KO", a), ("PFE", b), ("MSFT", a)):
                body = {
                    "symbol": symbol,
                    "condition": {"type": "price_above", "value": 1},
                    "channels": [{"type": "webhook", "url": receiver.url}, {"type": "widget"}],
                }
                response = httpx.post(
                    f"{server.url}/v1/alerts", json=body, headers=auth, timeout=30
                )
                assert response.status_code == 201, response.text
                made.append(response.json())
            notes: list[dict] = []

            def listen() -> None:  # the widget's stream on server B
                with httpx.stream(
                    "GET", f"{b.url}/v1/notifications/stream", headers=auth, timeout=60
                ) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data:"):
                            notes.append(json.loads(line[5:]))
                            if len(notes) == 3:
                                return

            watcher = threading.Thread(target=listen, daemon=True)
            watcher.start()
            deadline = time.monotonic() + 60
            while len(receiver.received) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # several more ticks of both servers: nothing more may come
            watcher.join(timeout=30)
            states = {
                a["id"]: a["armed"] for a in httpx.get(f"{b.url}/v1/alerts", headers=auth).json()
            }
    finally:
        receiver.close()
    assert len(receiver.received) == 3, receiver.received
    secrets = {m["id"]: m["secret"] for m in made}
    for headers, body in receiver.received:
        alert_id = json.loads(body)["alert_id"]
        expected = hmac.new(secrets[alert_id].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Assistant-Signature"] == f"sha256={expected}"
    assert sorted(json.loads(b)["alert_id"] for _, b in receiver.received) == sorted(secrets)
    assert sorted(n["source_id"] for n in notes) == sorted(secrets)
    assert all(n["kind"] == "alert" for n in notes) and states == dict.fromkeys(secrets, False)
