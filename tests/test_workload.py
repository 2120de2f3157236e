"""Heavy work apart from the serving threads and bounded per caller (finding 8), and no
blocking work on the event loop (finding 11)."""

import asyncio
import threading
import time

import httpx
import pytest

from api.app import create_app
from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.settings import Settings
from assistant.workload import BusyError, HeavyWork
from tests.fakes.alpaca import KEY, SECRET, serve_fake_alpaca
from tests.test_api import Server


def test_one_caller_cannot_queue_more_heavy_work_than_its_share():
    heavy = HeavyWork(workers=1, per_caller=1)
    release = threading.Event()

    async def scenario():
        first = asyncio.create_task(heavy.run("alice", release.wait, 5))
        await asyncio.sleep(0.05)
        with pytest.raises(BusyError, match="1 at a time is the limit"):
            await heavy.run("alice", time.sleep, 0)
        other = asyncio.create_task(heavy.run("bob", lambda: "bob's answer"))
        await asyncio.sleep(0.05)
        assert heavy.running("bob") == 1  # queued behind alice in the one worker, not refused
        release.set()
        assert await first is True and await other == "bob's answer"
        assert heavy.running("alice") == heavy.running("bob") == 0

    asyncio.run(scenario())
    heavy.close()


def _server(tmp_path, sample_dir, **settings):
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    config = Settings(data_dir=tmp_path, rate_limit_per_minute=100_000, **settings)
    keys = KeyStore(engine(config))
    return config, {role: keys.create(role)[1] for role in Role}


def test_a_second_heavy_call_from_the_same_key_is_a_429(tmp_path, sample_dir):
    config, keys = _server(tmp_path, sample_dir)
    app = create_app(config)
    grid = {"fast": [float(x) for x in range(2, 42)], "slow": [float(x) for x in range(100, 150)]}
    with Server(app) as server:
        viewer = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {keys[Role.VIEWER]}"}
        )
        heavy = app.state.services.chat.heavy
        results: list[httpx.Response] = []
        first = threading.Thread(
            target=lambda: results.append(
                viewer.post(
                    "/v1/tools/run_backtest",
                    json={"symbol": "AAPL", "strategy": "sma-cross", "sweep_grid": grid},
                    timeout=60,
                )
            )
        )
        first.start()
        deadline = time.monotonic() + 10
        while not any(heavy._running.values()) and time.monotonic() < deadline:
            time.sleep(0.005)
        second = viewer.post("/v1/tools/run_backtest", json={"symbol": "KO"}, timeout=60)
        first.join()
    assert results[0].status_code == 200 and results[0].json()["combinations"] == 2000
    assert second.status_code == 429 and second.json()["error"]["code"] == "busy"
    assert second.headers["Retry-After"] == "1"
    assert "1 at a time is the limit" in second.json()["error"]["message"]


def test_a_slow_broker_never_stalls_the_event_loop(tmp_path, sample_dir):
    with serve_fake_alpaca({"KO": 60.0}) as alpaca:
        config, keys = _server(
            tmp_path,
            sample_dir,
            broker="alpaca",
            alpaca_api_key=KEY,
            alpaca_secret_key=SECRET,
            alpaca_base_url=alpaca.url,
        )
        with Server(create_app(config)) as server:
            trader = httpx.Client(
                base_url=server.url,
                headers={"Authorization": f"Bearer {keys[Role.TRADER]}"},
                timeout=60,
            )
            with trader.stream("POST", "/v1/chat", json={"message": "buy 1 KO"}) as r:
                lines = [line for line in r.iter_lines() if "approval_required" in line]
            approval_id = lines[0].split('"approval_id":"')[1].split('"')[0]
            alpaca.submit_delay = 2.0
            decided: list[httpx.Response] = []
            approver = threading.Thread(
                target=lambda: decided.append(
                    httpx.post(
                        f"{server.url}/v1/approvals/{approval_id}/approve",
                        headers={"Authorization": f"Bearer {keys[Role.APPROVER]}"},
                        timeout=60,
                    )
                )
            )
            approver.start()
            time.sleep(0.3)  # the approval is now waiting on the broker
            slowest = 0.0
            probe = httpx.Client(base_url=server.url, timeout=5)  # time the server, not TLS set-up
            while approver.is_alive():
                started = time.perf_counter()
                assert probe.get("/healthz").status_code == 200
                slowest = max(slowest, time.perf_counter() - started)
                time.sleep(0.1)
            approver.join()
    assert decided[0].json()["status"] == "executed"
    assert slowest < 0.5, f"/healthz took {slowest:.2f}s while the broker was slow"
