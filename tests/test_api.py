"""The HTTP service over real HTTP (uvicorn on a loopback port): SSE chat, the official
openai client, approvals with roles, direct tools, search, ingest, errors, limits."""

import json
import shutil
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from api.app import create_app
from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.settings import Settings


class Server:
    def __init__(self, app):
        self.config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory, sample_dir, sample_index_dir):
    data = tmp_path_factory.mktemp("api-data")
    (data / "prices").symlink_to(sample_dir / "prices")
    shutil.copytree(sample_index_dir, data / "qdrant")
    settings = Settings(data_dir=data, rate_limit_per_minute=10_000)
    keys = KeyStore(engine(settings))
    tokens = {role: keys.create(role)[1] for role in Role}
    app = create_app(settings, login_token="one-time-token")
    with Server(app) as server:
        server.keys, server.data_dir = tokens, data
        yield server


def client(api, role=Role.TRADER):
    headers = {"Authorization": f"Bearer {api.keys[role]}"} if role else {}
    return httpx.Client(base_url=api.url, headers=headers, timeout=60)


def sse_events(response) -> list[dict]:
    return [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]


def watch(http: httpx.Client, conversation: str, received: list[dict]) -> threading.Thread:
    """Collect a conversation's events (GET .../events) in a thread until a message_end."""

    def run():
        path = f"/v1/conversations/{conversation}/events"
        with http, http.stream("GET", path, timeout=30) as r:
            for line in r.iter_lines():
                if line.startswith("data:"):
                    received.append(json.loads(line[5:]))
                    if received[-1]["type"] == "message_end":
                        return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_health_ready_and_metrics(api):
    with client(api, None) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz").json()
        assert (
            ready["ready"] is True
            and ready["checks"]["database"] == "ok"
            and ready["checks"]["index"] == "ok"
        )
        assert c.get("/docs").status_code == 200 and c.get("/openapi.json").status_code == 200
        assert c.get("/no/such/page").status_code == 404
        metrics = c.get("/metrics").text
        assert "ma_http_requests_total" in metrics
        # every route is labelled by its template; only a page that does not exist is not
        assert 'route="/docs",status="200"' in metrics
        assert 'route="/openapi.json",status="200"' in metrics
        assert 'route="unmatched",status="404"' in metrics
        assert c.get("/healthz").headers["x-content-type-options"] == "nosniff"


def test_keys_are_required_and_roles_enforced(api):
    with client(api, None) as c:
        response = c.post("/v1/chat", json={"message": "hi"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        bad = c.post(
            "/v1/chat", json={"message": "hi"}, headers={"Authorization": "Bearer ma_nope_nope"}
        )
        assert bad.status_code == 401
    with client(api, Role.VIEWER) as c:
        assert c.get("/v1/approvals").status_code == 403
        assert c.post("/v1/ingest", json={"sample": True}).status_code == 403


def test_sse_chat_streams_the_documented_events(api):
    with (
        client(api) as c,
        c.stream(
            "POST",
            "/v1/chat",
            json={"message": "What did Apple's 10-K say about supply chain risk?"},
        ) as r,
    ):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    types = [e["type"] for e in events]
    assert types[0] == "message_start" and types[-1] == "message_end"
    assert {"tool_call", "tool_result", "text_delta", "citation"} <= set(types)
    citation = next(e for e in events if e["type"] == "citation")
    assert citation["n"] == 1 and citation["doc_id"].startswith("sample:AAPL:")
    conversation = events[0]["conversation_id"]
    with client(api) as c:
        stored = c.get(f"/v1/conversations/{conversation}").json()
        assert [m["role"] for m in stored["messages"]] == ["user", "assistant"]
        assert (
            c.get(
                f"/v1/conversations/{conversation}",
                headers={"Authorization": f"Bearer {api.keys[Role.VIEWER]}"},
            ).status_code
            == 404
        )  # not theirs


def test_a_conversation_is_continued_by_its_owner_or_an_admin_only(api):
    with client(api) as c, c.stream("POST", "/v1/chat", json={"message": "RSI of KO"}) as r:
        conversation = sse_events(r)[0]["conversation_id"]
    follow_up = {"message": "and for PEP?", "conversation_id": conversation}
    with client(api, Role.VIEWER) as c:  # another user: as if it did not exist
        refused = c.post("/v1/chat", json=follow_up)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    with client(api, Role.ADMIN) as c, c.stream("POST", "/v1/chat", json=follow_up) as r:
        events = sse_events(r)
    assert events[0]["conversation_id"] == conversation and events[-1]["type"] == "message_end"
    with client(api) as c:
        stored = c.get(f"/v1/conversations/{conversation}").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"] * 2


def test_official_openai_client_streamed_and_not(api):
    from openai import OpenAI

    oa = OpenAI(base_url=f"{api.url}/v1", api_key=api.keys[Role.VIEWER])
    assert [m.id for m in oa.models.list()] == ["market-assistant"]
    reply = oa.chat.completions.create(
        model="market-assistant",
        messages=[{"role": "user", "content": "What was the RSI of AAPL at the end of 2020?"}],
    )
    assert "RSI was 62.77" in reply.choices[0].message.content
    assert reply.usage.total_tokens > 0
    stream = oa.chat.completions.create(
        model="market-assistant",
        stream=True,
        messages=[
            {"role": "user", "content": "What was the RSI of AAPL at the end of 2020?"},
            {"role": "assistant", "content": "AAPL's RSI was 62.77."},
            {"role": "user", "content": "and for MSFT?"},
        ],
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert "MSFT" in text and "RSI was 58.18" in text


def test_order_needs_an_approver_and_executes_once(api):
    with client(api) as c, c.stream("POST", "/v1/chat", json={"message": "buy 10 KO"}) as r:
        events = sse_events(r)
    [approval] = [e for e in events if e["type"] == "approval_required"]
    assert approval["order"]["symbol"] == "KO" and approval["risk_checks"]["passed"] is True
    with client(api, Role.APPROVER) as c:
        pending = c.get("/v1/approvals").json()
        assert approval["approval_id"] in [a["approval_id"] for a in pending]
        decided = c.post(f"/v1/approvals/{approval['approval_id']}/approve")
        assert decided.status_code == 200 and decided.json()["status"] == "executed"
        again = c.post(f"/v1/approvals/{approval['approval_id']}/approve")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        assert c.post("/v1/approvals/appr_nope/approve").status_code == 404


def test_direct_tools_and_search(api):
    with client(api, Role.VIEWER) as c:
        rsi = c.post("/v1/tools/get_indicators", json={"symbol": "AAPL", "end": "2020-12-31"})
        assert rsi.status_code == 200 and rsi.json()["values"]["rsi_14"] == 62.77
        assert c.post("/v1/tools/get_indicators", json={"symbol": 5, "extra": 1}).status_code == 422
        unknown = c.post("/v1/tools/get_indicators", json={"symbol": "NOPE"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_symbol"
        assert "unknown symbol" in unknown.json()["error"]["message"]
        window = c.post(  # a known symbol, nothing stored in the window
            "/v1/tools/get_prices",
            json={"symbol": "KO", "start": "1900-01-01", "end": "1900-02-01"},
        )
        assert window.status_code == 404 and window.json()["error"]["code"] == "no_data"
        contradictory = c.post(
            "/v1/tools/optimize_portfolio", json={"symbols": ["KO", "PEP"], "max_weight": 0.1}
        )
        assert contradictory.status_code == 400
        assert contradictory.json()["error"]["code"] == "tool_error"
        assert c.post("/v1/tools/get_prices", json={"symbol": "KO", "end": 0}).status_code == 422
        assert (
            c.post("/v1/tools/place_order", json={}).status_code == 404
        )  # orders only via approval
        found = c.get("/v1/search", params={"q": "supply chain risk", "ticker": "AAPL", "k": 3})
        assert found.status_code == 200, found.text
        hits = found.json()["hits"]
        assert len(hits) == 3 and hits[0]["citation"]["doc_id"].startswith("sample:AAPL:")
        future = c.get("/v1/search", params={"q": "x", "as_of": "2999-01-01"})
        assert future.status_code == 422
        nvda = c.get("/v1/search", params={"q": "chips", "ticker": "NVDA"})  # as the CLI says
        assert nvda.status_code == 404 and nvda.json()["error"]["code"] == "unknown_symbol"
        assert "unknown ticker NVDA: no indexed document mentions it" in nvda.text
        blank = c.post("/v1/chat", json={"message": "   "})
        assert blank.status_code == 422 and "the message is empty" in blank.text


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            422,
            "invalid_request",
        ),
        ({"json": {"message": 12}}, 422, "invalid_request"),
        ({"json": {"message": ""}}, 422, "invalid_request"),
        ({"json": {"message": "x" * 5000}}, 413, "too_large"),
        ({"json": {"message": "hi", "conversation_id": "conv_nope"}}, 404, "not_found"),
        (
            {"content": b"x" * 70_000, "headers": {"Content-Type": "application/json"}},
            413,
            "too_large",
        ),
    ],
)
def test_bad_input_is_a_json_4xx(api, kwargs, status, code):
    with client(api) as c:
        response = c.post("/v1/chat", **kwargs)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_ingest_is_admin_only_and_reports(api):
    doc = {
        "doc_id": "api:1",
        "title": "Widget news",
        "source": "wire",
        "doc_type": "news",
        "published_at": "2022-01-03",
        "tickers": ["KO"],
        "text": "Coca-Cola launches a widget soda.",
    }
    with client(api, Role.ADMIN) as c:
        report = c.post("/v1/ingest", json={"documents": [doc]}).json()
        assert report["written"] == 1 and report["chunks"] == 1
        assert c.post("/v1/ingest", json={}).status_code == 422


def test_login_link_works_once(api):
    with httpx.Client(base_url=api.url, follow_redirects=False) as c:
        first = c.get("/login", params={"token": "one-time-token"})
        assert first.status_code == 303 and "ma_session" in first.cookies
        assert c.get("/v1/models").status_code == 200  # the cookie authenticates
        assert c.get("/login", params={"token": "one-time-token"}).status_code == 401


def test_auth_off_only_on_loopback_and_rate_limits(tmp_path):
    with pytest.raises(RuntimeError, match="non-loopback"):
        create_app(Settings(data_dir=tmp_path, auth="off", host="0.0.0.0"))
    from fastapi.testclient import TestClient

    app = create_app(Settings(data_dir=tmp_path / "b", auth="off", rate_limit_per_minute=2))
    with TestClient(app) as c:
        answers = [c.get("/v1/models") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].headers["Retry-After"] == "30"  # 2 a minute: one refills in 30 s
    assert answers[-1].json()["error"]["code"] == "rate_limited"


def test_cors_and_security_headers_are_configurable(tmp_path):
    from fastapi.testclient import TestClient

    settings = Settings(
        data_dir=tmp_path,
        auth="off",
        cors_origins=["https://desk.example"],
        security_headers={"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": ""},
    )
    with TestClient(create_app(settings)) as c:
        page = c.get("/healthz", headers={"Origin": "https://desk.example"})
        other = c.get("/healthz", headers={"Origin": "https://evil.example"})
    assert page.headers["access-control-allow-origin"] == "https://desk.example"
    assert "access-control-allow-origin" not in other.headers
    assert page.headers["content-security-policy"] == "default-src 'self'"
    assert "x-frame-options" not in page.headers  # removed by an empty value
    assert page.headers["x-content-type-options"] == "nosniff"  # defaults stay


def test_a_decision_streams_to_the_conversation_subscribers(api):
    with client(api) as c, c.stream("POST", "/v1/chat", json={"message": "buy 2 PEP"}) as r:
        events = sse_events(r)
    conversation = events[0]["conversation_id"]
    [approval] = [e for e in events if e["type"] == "approval_required"]
    received: list[dict] = []
    watcher = watch(client(api), conversation, received)
    time.sleep(0.5)  # let the subscription register
    with client(api, Role.APPROVER) as c:
        assert (
            c.post(f"/v1/approvals/{approval['approval_id']}/approve").json()["status"]
            == "executed"
        )
    watcher.join(timeout=30)
    text = "".join(e["text"] for e in received if e["type"] == "text_delta")
    assert received[0]["type"] == "message_start" and "was filled at" in text
    with client(api, None) as c:
        assert 'ma_approvals{status="executed"}' in c.get("/metrics").text


def test_rate_limit_is_shared_through_redis(tmp_path, redis_url):
    import asyncio
    import uuid

    import redis
    from fastapi.testclient import TestClient

    from api.limits import RedisRateLimiter

    prefix = f"ma:test:{uuid.uuid4().hex}"

    async def four_calls():
        shared = RedisRateLimiter("redis://127.0.0.1:6379/0", 3, prefix=prefix)
        other = RedisRateLimiter("redis://127.0.0.1:6379/0", 3, prefix=prefix)  # a second process
        return [
            await shared.allow("k"),
            await other.allow("k"),
            await shared.allow("k"),
            await other.allow("k"),
        ]

    assert asyncio.run(four_calls()) == [True, True, True, False]

    async def drain_and_refill():  # a token bucket, not a window: 60/min refills 1 a second
        bucket = RedisRateLimiter("redis://127.0.0.1:6379/0", 60, prefix=f"{prefix}:refill")
        drained = [await bucket.allow("k") for _ in range(61)]
        await asyncio.sleep(1.2)
        return drained, await bucket.allow("k"), await bucket.allow("k")

    drained, refilled, again = asyncio.run(drain_and_refill())
    assert drained == [True] * 60 + [False] and (refilled, again) == (True, False)
    plain = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    assert 0 < plain.ttl(f"{prefix}:k") <= 61  # an idle bucket goes away once it would be full
    app = create_app(
        Settings(
            data_dir=tmp_path,
            auth="off",
            rate_limit_per_minute=2,
            redis_url="redis://127.0.0.1:6379/0",
        )
    )
    plain.delete("ma:rate:anonymous")
    with TestClient(app) as c:
        codes = [c.get("/v1/models").status_code for _ in range(3)]
    plain.delete("ma:rate:anonymous", f"{prefix}:k", f"{prefix}:refill:k")
    assert codes[-1] == 429


def test_a_decision_on_one_server_streams_to_a_watcher_on_another(tmp_path, sample_dir, redis_url):
    """Two API processes behind a load balancer: the approval lands on A, the watcher on B."""
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    settings = Settings(
        data_dir=tmp_path, rate_limit_per_minute=10_000, redis_url="redis://127.0.0.1:6379/0"
    )
    keys = KeyStore(engine(settings))
    trader, approver = keys.create(Role.TRADER)[1], keys.create(Role.APPROVER)[1]
    with Server(create_app(settings)) as a, Server(create_app(settings)) as b:
        on_a = httpx.Client(base_url=a.url, headers={"Authorization": f"Bearer {trader}"})
        with on_a.stream("POST", "/v1/chat", json={"message": "buy 3 KO"}) as r:
            events = sse_events(r)
        conversation = events[0]["conversation_id"]
        [approval] = [e for e in events if e["type"] == "approval_required"]
        received: list[dict] = []
        on_b = httpx.Client(base_url=b.url, headers={"Authorization": f"Bearer {trader}"})
        watcher = watch(on_b, conversation, received)
        hub_b = b.server.config.app.state.services.chat.hub
        deadline = time.monotonic() + 10
        while hub_b.subscribers(conversation) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a.server.config.app.state.services.chat.hub.subscribers(conversation) == 0
        decided = httpx.post(
            f"{a.url}/v1/approvals/{approval['approval_id']}/approve",
            headers={"Authorization": f"Bearer {approver}"},
            timeout=30,
        )
        assert decided.json()["status"] == "executed"
        watcher.join(timeout=30)
        on_a.close()
    text = "".join(e["text"] for e in received if e["type"] == "text_delta")
    assert [received[0]["type"], received[-1]["type"]] == ["message_start", "message_end"]
    assert "was filled at" in text


def test_client_disconnect_frees_the_subscription_and_the_turn(api):
    services = api.server.config.app.state.services
    with client(api) as c, c.stream("POST", "/v1/chat", json={"message": "buy 1 GE"}) as r:
        first = next(line for line in r.iter_lines() if line.startswith("data:"))
    conversation = json.loads(first[5:])["conversation_id"]
    deadline = time.monotonic() + 5
    with client(api) as c:  # it is stored just after message_start (which the client cut off)
        while c.get(f"/v1/conversations/{conversation}").status_code == 404:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with client(api) as c, c.stream("GET", f"/v1/conversations/{conversation}/events") as r:
        assert r.status_code == 200
        deadline = time.monotonic() + 5
        while services.chat.hub.subscribers(conversation) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert services.chat.hub.subscribers(conversation) == 1
    # the client went away: the server notices and drops the subscription
    deadline = time.monotonic() + 10
    while services.chat.hub.subscribers(conversation) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert services.chat.hub.subscribers(conversation) == 0
    slots = services.chat._slots
    assert slots._value == services.chat.turn_slots  # no turn holds a slot


def test_the_server_expires_overdue_approvals_by_itself(tmp_path, sample_dir):
    from datetime import timedelta

    from sqlmodel import Session

    from assistant.store import ApprovalRow, utcnow

    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    settings = Settings(data_dir=tmp_path, auth="off", approval_sweep_seconds=0.2)
    with Server(create_app(settings)) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        with c.stream("POST", "/v1/chat", json={"message": "buy 5 JNJ"}) as r:
            events = sse_events(r)
        [approval] = [e for e in events if e["type"] == "approval_required"]
        store = server.server.config.app.state.services.store
        with Session(store.engine) as s:  # an hour passes
            row = s.get(ApprovalRow, approval["approval_id"])
            row.expires_at = utcnow() - timedelta(seconds=1)
            s.add(row)
            s.commit()
        path = f"/v1/conversations/{events[0]['conversation_id']}"
        deadline = time.monotonic() + 10
        while len(c.get(path).json()["messages"]) < 3:  # the resumed run has answered
            assert time.monotonic() < deadline, "the sweep never expired the approval"
            time.sleep(0.1)
        assert store.approval(approval["approval_id"]).status == "expired"
        assert "expired" in c.get(path).json()["messages"][-1]["content"]


def test_an_unreachable_redis_is_reported_not_a_500(tmp_path):
    from fastapi.testclient import TestClient

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    app = create_app(Settings(data_dir=tmp_path, auth="off", redis_url=dead))
    with TestClient(app) as c:
        assert c.get("/v1/models").status_code == 200  # the limiter fails open
        with c.stream("POST", "/v1/chat", json={"message": "RSI of AAPL"}) as r:
            events = sse_events(r)
        types = [e["type"] for e in events]
        watch_path = f"/v1/conversations/{events[0]['conversation_id']}/events"
        with c.stream("GET", watch_path) as r:
            [watched] = sse_events(r)  # told why, and the stream ends
        ready = c.get("/readyz")
    assert watched["type"] == "error" and watched["code"] == "events_unavailable"
    assert (
        types[0] == "message_start" and types[-1] == "message_end"
    )  # publishing failed; the turn did not
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("error")


def test_the_server_fills_resting_paper_orders_when_prices_reach_them(tmp_path):
    import pandas as pd

    from assistant.resources import broker, price_store
    from tests.conftest import make_ohlcv
    from tools.orders import Order, OrderStatus

    settings = Settings(data_dir=tmp_path, auth="off", approval_sweep_seconds=0.2)
    store = price_store(settings)
    bars = make_ohlcv(30)
    store.save("ACME", bars, "feed")
    last = float(bars["close"].iloc[-1])
    paper = broker(settings)
    resting = paper.submit(
        Order(symbol="ACME", side="buy", quantity=5, type="limit", limit_price=last * 0.9),
        client_order_id="rest-1",
    )
    assert resting.status is OrderStatus.NEW
    with Server(create_app(settings)):
        time.sleep(0.5)
        assert paper.get_order(resting.id).status is OrderStatus.NEW  # price not reached
        drop = bars.iloc[[-1]].copy() * 0.8  # a new bar, 20% lower
        drop.index = pd.DatetimeIndex([bars.index[-1] + pd.Timedelta(days=1)], name="date")
        store.merge("ACME", drop, "feed")
        deadline = time.monotonic() + 10
        while paper.get_order(resting.id).status is not OrderStatus.FILLED:
            assert time.monotonic() < deadline, "the sweep never filled the resting order"
            time.sleep(0.1)
    assert paper.positions()[0].quantity == 5


def test_watchers_in_one_process_share_one_redis_subscription(redis_url):
    import asyncio
    import uuid

    import redis

    from assistant.events import MessageEnd, TextDelta
    from assistant.hub import RedisEventHub

    url, prefix = "redis://127.0.0.1:6379/0", f"ma:test:{uuid.uuid4().hex}"
    plain = redis.Redis.from_url(url)
    channel = f"{prefix}:conv_1"

    def numsub() -> int:
        return dict(plain.pubsub_numsub(channel))[channel.encode()]

    async def scenario():
        hub, other_process = RedisEventHub(url, prefix), RedisEventHub(url, prefix)
        got: list[list] = [[], [], []]

        async def watch(sink):
            async for event in hub.subscribe("conv_1"):
                sink.append(event)
                if isinstance(event, MessageEnd):
                    return

        watchers = [asyncio.create_task(watch(sink)) for sink in got]
        for _ in range(100):
            if hub.subscribers("conv_1") == 3 and numsub() == 1:
                break
            await asyncio.sleep(0.05)
        assert numsub() == 1  # three watchers, one connection subscribed
        await other_process.publish("conv_1", TextDelta(text="filled"))
        await other_process.publish("conv_1", MessageEnd(usage={}, latency_ms=1.0))
        await asyncio.wait_for(asyncio.gather(*watchers), 5)
        assert [[e.type for e in sink] for sink in got] == [["text_delta", "message_end"]] * 3
        for _ in range(100):  # the last watcher left: the channel is given up
            if numsub() == 0:
                break
            await asyncio.sleep(0.05)
        assert hub.subscribers("conv_1") == 0 and numsub() == 0
        await hub.aclose()
        await other_process.aclose()

    asyncio.run(scenario())


def test_each_user_keeps_their_own_risk_profile(api):
    with client(api, Role.VIEWER) as viewer, client(api, Role.ADMIN) as admin:
        empty = viewer.get("/v1/profile").json()
        assert empty["profile"] is None
        assert [q["key"] for q in empty["questions"]] == [
            "horizon",
            "loss_tolerance",
            "goal",
            "experience",
        ]
        body = {"horizon": "over_10y", "loss_tolerance": "buy_more", "goal": "growth"}
        partial = viewer.put("/v1/profile", json=body)
        assert partial.status_code == 422 and "experience" in partial.json()["error"]["message"]
        both = viewer.put("/v1/profile", json={**body, "experience": "some", "level": "moderate"})
        assert both.status_code == 422
        bad_level = viewer.put("/v1/profile", json={"level": "bold"}).json()["error"]["message"]
        assert bad_level.startswith("body.level: Input should be 'conservative'")
        stray = viewer.put("/v1/profile", json={"level": "moderate", "extra": 1})
        assert stray.json()["error"]["message"].startswith("body.extra: Extra inputs")
        saved = viewer.put("/v1/profile", json={**body, "experience": "experienced"})
        assert saved.status_code == 200, saved.text
        assert saved.json()["level"] == "aggressive" and saved.json()["score"] == 10
        assert saved.json()["settings"]["max_position_weight"] == 0.30
        assert admin.get("/v1/profile").json()["profile"] is None  # not the viewer's
        assert admin.put("/v1/profile", json={"level": "conservative"}).json()["answers"] is None
        assert viewer.get("/v1/profile").json()["profile"]["level"] == "aggressive"
        assert viewer.delete("/v1/profile").status_code == 204
        gone = viewer.delete("/v1/profile")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
        assert admin.delete("/v1/profile").status_code == 204
        wrong = viewer.post("/v1/profile")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, GET, PUT"
    with client(api, None) as anonymous:
        assert anonymous.get("/v1/profile").status_code == 401


def test_each_user_keeps_their_own_watchlists(api):
    with client(api, Role.VIEWER) as viewer, client(api, Role.ADMIN) as admin:
        assert viewer.get("/v1/watchlists").json() == []
        put = viewer.put("/v1/watchlists/Tech", json={"symbols": ["aapl", "msft", "AAPL"]})
        assert put.status_code == 200 and put.json()["symbols"] == ["AAPL", "MSFT"]
        assert put.json()["name"] == "tech"
        assert viewer.get("/v1/watchlists/tech").json()["symbols"] == ["AAPL", "MSFT"]
        assert admin.get("/v1/watchlists/tech").status_code == 404  # not the viewer's
        for symbols in (["ZZZZQ"], ["=N.", "KO"]):
            unknown = viewer.put("/v1/watchlists/tech", json={"symbols": symbols})
            assert unknown.status_code == 404, unknown.text
            assert unknown.json()["error"]["code"] == "unknown_symbol"
        assert viewer.get("/v1/watchlists/tech").json()["symbols"] == ["AAPL", "MSFT"]
        assert viewer.put("/v1/watchlists/bad name", json={"symbols": []}).status_code == 422
        assert viewer.put("/v1/watchlists/x", json={"symbols": [], "more": 1}).status_code == 422
        assert viewer.delete("/v1/watchlists/tech").status_code == 204
        assert viewer.delete("/v1/watchlists/tech").status_code == 404


def test_alerts_are_a_traders_and_each_user_sees_their_own(api):
    body = {"symbol": "ko", "condition": {"type": "rsi_below", "value": 30}}
    with client(api, Role.VIEWER) as viewer, client(api, Role.TRADER) as trader:
        refused = viewer.post("/v1/alerts", json=body)
        assert refused.status_code == 403
        made = trader.post("/v1/alerts", json=body)
        assert made.status_code == 201, made.text
        alert = made.json()
        assert alert["symbol"] == "KO" and alert["armed"] and len(alert["secret"]) > 20
        assert alert["description"] == "KO's RSI(14) is below 30"
        listed = trader.get("/v1/alerts").json()
        assert [a["id"] for a in listed] == [alert["id"]] and "secret" not in listed[0]
        assert viewer.get("/v1/alerts").json() == []
        assert viewer.get(f"/v1/alerts/{alert['id']}/events").status_code == 404
        assert trader.get(f"/v1/alerts/{alert['id']}/events").json() == []
        bad = trader.post(
            "/v1/alerts", json={**body, "condition": {"type": "rsi_below", "value": 300}}
        )
        assert bad.status_code == 422 and "less than 100" in bad.json()["error"]["message"]
        for symbol in ("ZZZZQ", "=N."):  # the second is no ticker's shape (fuzz found a 400)
            unknown = trader.post("/v1/alerts", json={**body, "symbol": symbol})
            assert unknown.status_code == 404, unknown.text
            assert unknown.json()["error"]["code"] == "unknown_symbol"
        ftp = {**body, "channels": [{"type": "webhook", "url": "ftp://example.com/x"}]}
        assert trader.post("/v1/alerts", json=ftp).status_code == 422
        for inside in ("http://127.0.0.1:9/x", "http://[::ffff:10.0.0.1]/x", "http://localhost/x"):
            hook = {**body, "channels": [{"type": "webhook", "url": inside}]}
            refused = trader.post("/v1/alerts", json=hook)
            assert refused.status_code == 409, refused.text
            assert "not a public address" in refused.json()["error"]["message"]
        assert viewer.delete(f"/v1/alerts/{alert['id']}").status_code == 404
        assert trader.delete(f"/v1/alerts/{alert['id']}").status_code == 204
        assert trader.get("/v1/alerts").json() == []


def test_briefings_schedules_and_notifications(api):
    with client(api, Role.VIEWER) as viewer, client(api, Role.TRADER) as trader:
        assert viewer.post("/v1/briefings", json={"watchlist": "nope"}).status_code == 404
        assert (
            viewer.put("/v1/watchlists/brief", json={"symbols": ["KO", "PEP"]}).status_code == 200
        )
        made = viewer.post("/v1/briefings", json={"watchlist": "brief", "days": 7})
        assert made.status_code == 201, made.text
        briefing = made.json()
        assert briefing["text"].startswith("Briefing on your watchlist 'brief' (KO, PEP)")
        assert "KO closed at" in briefing["text"] and briefing["conversation_id"]
        assert [b["id"] for b in viewer.get("/v1/briefings").json()] == [briefing["id"]]
        assert viewer.post("/v1/briefings", json={"days": 40}).status_code == 422
        schedule = {"watchlist": "brief", "cadence": "weekly", "weekday": "friday", "hour": 6}
        assert viewer.post("/v1/briefings/schedules", json=schedule).status_code == 403
        assert trader.put("/v1/watchlists/brief", json={"symbols": ["KO"]}).status_code == 200
        email = {**schedule, "channels": [{"type": "email", "to": "t@example.com"}]}
        refused = trader.post("/v1/briefings/schedules", json=email)
        assert refused.status_code == 409 and "SMTP_HOST" in refused.json()["error"]["message"]
        assert refused.json()["error"]["code"] == "unavailable"
        widget = {**schedule, "channels": [{"type": "widget"}]}
        planned = trader.post("/v1/briefings/schedules", json=widget)
        assert planned.status_code == 201, planned.text
        assert planned.json()["weekday"] == "friday" and planned.json()["secret"]
        assert trader.get("/v1/briefings/schedules").json()[0]["id"] == planned.json()["id"]
        assert viewer.get("/v1/briefings/schedules").json() == []
        gone = trader.delete(f"/v1/briefings/schedules/{planned.json()['id']}")
        assert gone.status_code == 204
        assert trader.delete(f"/v1/briefings/schedules/{planned.json()['id']}").status_code == 404
        assert viewer.get("/v1/notifications").json() == []
        assert viewer.get("/v1/notifications", params={"after": -1}).status_code == 422
        assert viewer.post("/v1/notifications/read", json={"up_to": 5}).json() == {"marked": 0}
        slack = {"symbol": "KO", "condition": {"type": "new_filing", "value": ["8-k"]}}
        made_alert = trader.post(
            "/v1/alerts", json={**slack, "channels": [{"type": "slack", "channel": "#x"}]}
        )
        assert made_alert.status_code == 409  # no Slack bot token on this server
        filing = trader.post("/v1/alerts", json=slack)
        assert filing.status_code == 201 and filing.json()["condition"]["value"] == ["8-K"]
        text = {**slack, "condition": {"type": "new_filing", "value": "8-K"}}
        assert trader.post("/v1/alerts", json=text).status_code == 422  # the API takes a list
        truth = {**slack, "condition": {"type": "price_above", "value": True}}
        assert trader.post("/v1/alerts", json=truth).status_code == 422
        assert trader.delete(f"/v1/alerts/{filing.json()['id']}").status_code == 204


def test_a_screen_of_a_watchlist_the_caller_lacks_is_a_404(api):
    with client(api, Role.VIEWER) as viewer:
        missing = viewer.post(
            "/v1/tools/screen_symbols", json={"metric": "return", "watchlist": "nope"}
        )
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_data"
        assert "no watchlist 'nope'" in missing.json()["error"]["message"]
        assert viewer.put("/v1/watchlists/duo", json={"symbols": ["KO", "PEP"]}).status_code == 200
        ranked = viewer.post(
            "/v1/tools/screen_symbols", json={"metric": "return", "watchlist": "duo"}
        )
        assert ranked.status_code == 200 and ranked.json()["universe"] == 2
