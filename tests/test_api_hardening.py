"""The HTTP service under the inputs of a careless user and an attacker (issue 11):
anonymous admin off loopback, chunked bodies, NUL and surrogates, read-only storage,
sessions and revoked keys, malformed tool arguments, artifacts, Slack headers."""

import json
import sqlite3
import time

import httpx
import pytest
from fastapi.testclient import TestClient

import api.streams as streams_module
import assistant.keys as keys_module
from api.app import create_app
from api.auth import is_loopback
from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.settings import Settings
from tests.test_api import Server, api, client, sse_events  # noqa: F401 - the shared server


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True)]
    + [("", False), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("box", False)],
)
def test_only_loopback_addresses_count_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::"])
def test_auth_off_is_refused_on_every_interface(tmp_path, host, cli, monkeypatch):
    """Finding 3: an empty host binds every interface and made everyone an admin."""
    with pytest.raises(RuntimeError, match="non-loopback"):
        create_app(Settings(data_dir=tmp_path, auth="off", host=host))
    monkeypatch.setenv("ASSISTANT_AUTH", "off")
    monkeypatch.setenv("ASSISTANT_HOST", host)
    result = cli("serve")
    assert result.exit_code == 2 and "only allowed on a loopback host" in result.output


def test_a_chunked_body_is_counted_as_it_arrives(api):  # noqa: F811
    """Finding 7: no Content-Length (chunked transfer) used to bypass the size limit."""

    def body():
        for _ in range(100):
            yield b"x" * 1024

    with client(api) as c:
        response = c.post("/v1/chat", content=body(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_a_body_that_trickles_in_is_cut_off(tmp_path):
    """A request whose body never finishes held its connection (and a file descriptor)
    for as long as the client liked: with thousands, the server stopped answering."""
    import socket

    with Server(create_app(Settings(data_dir=tmp_path, body_timeout_seconds=0.5))) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(
                b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b'Content-Type: application/json\r\n\r\n5\r\n{"a":\r\n'
            )
            started = time.monotonic()
            answer = s.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 408") and time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/v1/chat", {"message": "price of AAPL\u0000"}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi\u0000"}]}),
        ("/v1/chat", {"message": "\ud800 lone surrogate"}),
        (
            "/v1/chat/completions",
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "RSI \u0000"}]}]},
        ),
        (
            "/v1/chat/completions",
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "RSI \ud800"}]}]},
        ),
    ],
)
def test_text_that_cannot_be_stored_is_a_422(api, path, payload):  # noqa: F811
    """Finding 12: a NUL cut the stream on PostgreSQL and made completions answer 500."""
    with client(api) as c:
        response = c.post(
            path, content=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "character" in message or "unicode" in message


@pytest.mark.parametrize(
    ("tool", "args", "problem"),
    [
        (
            "get_prices",
            {"symbol": "AAPL", "start": "0001-01-01", "end": "9999-12-31"},
            "1900-01-01",
        ),
        ("run_backtest", {"symbol": "AAPL", "params": {"fast": 1e18, "slow": 1e19}}, "10000"),
        ("run_backtest", {"symbol": "AAPL", "cost_bps": "NaN"}, "finite number"),
        ("run_backtest", {"symbol": "AAPL", "sweep_grid": {"fast": []}}, "at least 1 item"),
        ("run_backtest", {"symbol": "AAPL", "strategy": "rebalance"}, "sma-cross"),
        ("optimize_portfolio", {"symbols": ["AAPL"]}, "at least 2 items"),
        ("search_documents", {"query": "a\u0000b"}, "NUL character"),
    ],
)
def test_malformed_tool_arguments_are_a_422_that_names_the_field(api, tool, args, problem):  # noqa: F811
    """Finding 17: each of these was a plain-text 500."""
    with client(api, Role.VIEWER) as c:
        response = c.post(f"/v1/tools/{tool}", json=args)
    assert response.status_code == 422, response.text
    assert problem in json.dumps(response.json())


def test_fixed_parameters_join_a_sweep(api):  # noqa: F811
    """They were dropped: a sweep of slow with fast 5 ran fast 20."""
    body = {"symbol": "KO", "params": {"fast": 5}, "sweep_grid": {"slow": [60, 70, 60]}}
    with client(api, Role.VIEWER) as c:
        result = c.post("/v1/tools/run_backtest", json=body).json()
    assert result["combinations"] == 2
    assert sorted(row["params"]["slow"] for row in result["top"]) == [60, 70]
    assert {row["params"]["fast"] for row in result["top"]} == {5}


def test_a_sweep_over_the_cap_names_the_cap(api):  # noqa: F811
    """Finding 8: the largest sweep is bounded, and the refusal says by what."""
    grid = {"fast": [float(x) for x in range(2, 62)], "slow": [float(x) for x in range(100, 160)]}
    with client(api, Role.VIEWER) as c:
        response = c.post("/v1/tools/run_backtest", json={"symbol": "AAPL", "sweep_grid": grid})
    assert response.status_code == 400
    assert "3,600 combinations exceeds the limit of 2,000" in response.json()["error"]["message"]


def test_charts_are_artifacts_with_urls_never_server_paths(api):  # noqa: F811
    """Finding 19: the tools API, the SSE stream and the answer carried the absolute path."""
    with client(api, Role.VIEWER) as c:
        result = c.post("/v1/tools/run_backtest", json={"symbol": "KO", "start": "2020-01-01"})
        assert result.status_code == 200
        chart = result.json()["chart"]
        assert chart["url"] == f"/v1/artifacts/{chart['name']}"
        assert str(api.data_dir) not in result.text
        assert c.get(chart["url"]).headers["content-type"] == "image/png"
        with c.stream("POST", "/v1/chat", json={"message": "backtest an SMA cross on KO"}) as r:
            events = sse_events(r)
    [tool_result] = [e for e in events if e["type"] == "tool_result"]
    answer = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert tool_result["artifact_url"].startswith("/v1/artifacts/backtest-")
    assert tool_result["artifact_url"] in answer and str(api.data_dir) not in answer


@pytest.mark.parametrize("name", ["x.png%00.txt", "..%2F..%2Fetc%2Fpasswd", "%00"])
def test_odd_artifact_names_are_a_404(api, name):  # noqa: F811
    with client(api, Role.VIEWER) as c:
        response = c.get(f"/v1/artifacts/{name}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"doc_id": ""}, "at least 1 character"),
        ({"doc_id": "a\u0000b"}, "match pattern"),
        ({"url": "file:///etc/passwd"}, "http:// or https://"),
        ({"url": "javascript:alert(1)"}, "http:// or https://"),
        ({"text": "bad \ud800 text"}, "lone surrogate"),
        ({"tickers": ["../x"]}, "match pattern"),
        ({"tickers": [""]}, "at least 1 character"),
        ({"published_at": "0001-01-01"}, "1900-01-01"),
        ({"author": "someone"}, "Extra inputs are not permitted"),
    ],
)
def test_ingest_refuses_documents_that_cannot_be_stored_or_shown(api, document, problem):  # noqa: F811
    doc = {
        "doc_id": "ok:1",
        "title": "t",
        "source": "s",
        "doc_type": "news",
        "published_at": "2022-01-03",
        "text": "fine",
        **document,
    }
    with client(api, Role.ADMIN) as c:
        response = c.post(
            "/v1/ingest",
            content=json.dumps({"documents": [doc]}),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422 and problem in json.dumps(response.json())


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x\u0000"},
        {"q": "x", "ticker": "../../x"},
        {"q": "x", "ticker": ""},
        {"q": "x", "as_of": "0001-01-01"},
        {"q": "x", "as_of": "9999-12-31"},
    ],
)
def test_search_checks_its_parameters_like_the_tool_does(api, params):  # noqa: F811
    with client(api, Role.VIEWER) as c:
        response = c.get("/v1/search", params=params)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_impossible_dates_in_chat_are_explained_not_leaked(api):  # noqa: F811
    with (
        client(api) as c,
        c.stream("POST", "/v1/chat", json={"message": "price of AAPL as of 2021-13-45"}) as r,
    ):
        events = sse_events(r)
    answer = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert "not a calendar date" in answer and "month must be" not in answer
    assert events[-1]["type"] == "message_end"


def test_approving_an_expired_approval_is_a_409(api):  # noqa: F811
    """Finding 18: it answered 200 {"status": "expired"}."""
    from datetime import timedelta

    from sqlmodel import Session

    from assistant.store import ApprovalRow, utcnow

    with client(api) as c, c.stream("POST", "/v1/chat", json={"message": "buy 1 PG"}) as r:
        [approval] = [e for e in sse_events(r) if e["type"] == "approval_required"]
    store = api.server.config.app.state.services.store
    with Session(store.engine) as s:
        row = s.get(ApprovalRow, approval["approval_id"])
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
        s.commit()
    with client(api, Role.APPROVER) as c:
        response = c.post(f"/v1/approvals/{approval['approval_id']}/approve")
    assert response.status_code == 409 and "expired" in response.json()["error"]["message"]
    assert store.approval(approval["approval_id"]).status == "expired"


def test_a_read_only_database_ends_the_stream_with_an_error_and_is_not_ready(tmp_path, sample_dir):
    """Finding 12: the stream was cut with no error event and /readyz said ready."""
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    writable = Settings(data_dir=tmp_path, auth="off")
    with TestClient(create_app(writable)) as c:  # creates every table
        assert c.get("/readyz").json()["checks"]["database"] == "ok"
    db = tmp_path / "assistant.db"
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    read_only = Settings(
        data_dir=tmp_path, auth="off", database_url=f"sqlite:///file:{db}?mode=ro&uri=true"
    )
    with TestClient(create_app(read_only)) as c:
        with c.stream("POST", "/v1/chat", json={"message": "RSI of AAPL"}) as r:
            events = sse_events(r)
        ready = c.get("/readyz")
    assert events[-1]["type"] == "error" and events[-1]["code"] == "storage_error"
    assert ready.status_code == 503 and "readonly" in ready.json()["checks"]["database"].lower()
    assert "storage_error" in ready.json()["recent_turn_failures"]


def test_sessions_expire_log_out_and_take_the_configured_role(tmp_path, sample_dir):
    """Finding 16: the login link made a never-expiring admin key and there was no logout."""
    settings = Settings(data_dir=tmp_path, login_role="viewer", session_hours=1)
    app = create_app(settings, login_token="once")
    with TestClient(app, follow_redirects=False) as c:
        assert c.get("/login", params={"token": "once"}).status_code == 303
        assert c.get("/v1/me").json()["role"] == "viewer"
        assert c.post("/v1/logout").json() == {"logged_out": True}
        assert c.get("/v1/me").status_code == 401
    keys = KeyStore(engine(settings))
    _, stale = keys.open_session(Role.ADMIN, hours=-1)  # opened a while ago, now expired
    with TestClient(app, cookies={"ma_session": stale}) as c:
        assert c.get("/v1/me").status_code == 401


def test_repeated_bad_keys_are_slowed_down(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, auth_failures_per_minute=3))
    with TestClient(app) as c:
        answers = [
            c.get("/v1/me", headers={"Authorization": f"Bearer ma_guess_{i}"}) for i in range(5)
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[-1].headers["Retry-After"] == "60"


def test_revoking_a_key_stops_its_open_streams(tmp_path, sample_dir, monkeypatch):
    monkeypatch.setattr(keys_module, "CACHE_SECONDS", 0.2)
    monkeypatch.setattr(streams_module, "STREAM_RECHECK_SECONDS", 0.3)
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    settings = Settings(data_dir=tmp_path)
    keys = KeyStore(engine(settings))
    row, key = keys.create(Role.TRADER)
    with Server(create_app(settings)) as server:
        http = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        with http.stream("POST", "/v1/chat", json={"message": "RSI of KO"}) as r:
            conversation = sse_events(r)[0]["conversation_id"]
        received = []
        with http.stream("GET", f"/v1/conversations/{conversation}/events") as r:
            keys.revoke(row.id)
            started = time.monotonic()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    received.append(json.loads(line[5:]))
        assert time.monotonic() - started < 10
    assert received[-1] == {
        "type": "error",
        "code": "unauthorized",
        "message": "your key was revoked or your session ended",
    }


def test_a_malformed_slack_timestamp_is_a_400(tmp_path, sample_dir):
    from pydantic import SecretStr

    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token=SecretStr("xoxb-test"),
        slack_signing_secret=SecretStr("secret"),
        slack_api_url="http://127.0.0.1:9/api/",
    )
    with TestClient(create_app(settings)) as c:
        response = c.post(
            "/slack/events",
            content=b"{}",
            headers={"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
        )
    assert response.status_code == 400 and "Unix time" in response.json()["error"]["message"]


def test_config_never_prints_credentials(cli, monkeypatch):
    """Finding 13: passwords in URL query strings were printed."""
    monkeypatch.setenv("ASSISTANT_QDRANT_URL", "https://q.example:6333/?api-key=s3cret&x=1")
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@cache:6379/0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw1@db/prod?sslmode=require&password=pw2")
    monkeypatch.setenv("ASSISTANT_YAHOO_BASE_URL", "https://tok3n@mirror.example/")
    monkeypatch.setenv("ASSISTANT_MODEL_FALLBACKS", '["openai/gpt-4o?api_key=k3y"]')
    monkeypatch.setenv("ASSISTANT_SECURITY_HEADERS", '{"X-Api-Token": "h3ader"}')
    for shown in (cli("config").output, cli("config", "--json").output):
        leaked = [
            s for s in ("s3cret", "hunter2", "pw1", "pw2", "tok3n", "k3y", "h3ader") if s in shown
        ]
        assert leaked == []
        assert "sslmode=require" in shown and "x=1" in shown and "mirror.example" in shown


def test_an_unreachable_redis_is_logged_masked_and_throttled(tmp_path, caplog):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"redis://:hunter2@127.0.0.1:{s.getsockname()[1]}/0"
    app = create_app(Settings(data_dir=tmp_path, auth="off", redis_url=dead))
    with TestClient(app) as c:
        for _ in range(3):
            with c.stream("POST", "/v1/chat", json={"message": "RSI of AAPL"}) as r:
                sse_events(r)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings and not any("hunter2" in w for w in warnings)
    publish = [w for w in warnings if "could not publish" in w]
    assert len(publish) == 1  # about 20 publishes failed; one warning


def test_a_change_signed_in_by_the_cookie_must_come_from_this_servers_page(tmp_path):
    """A page on another port of this host (same site, so SameSite lets the cookie go)
    cannot approve an order through an admin's open session."""
    settings = Settings(data_dir=tmp_path)
    keys = KeyStore(engine(settings))
    _, session = keys.open_session(Role.ADMIN, hours=1)
    _, key = keys.create(Role.ADMIN)
    app = create_app(settings)
    approve = "/v1/approvals/appr_0123456789abcdef/approve"
    with TestClient(app, cookies={"ma_session": session}) as c:
        for headers in (
            {"Origin": "http://testserver:9999"},  # another port: same site, not same origin
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
            {},  # no word from a browser at all
        ):
            refused = c.post(approve, headers=headers)
            assert refused.status_code == 403, headers
            assert "this server's own page" in refused.json()["error"]["message"]
        for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}):
            assert c.post(approve, headers=headers).status_code == 404  # let in: no such id
        assert c.get("/v1/me").json()["role"] == "admin"  # reading needs no such word
        basic = c.post(approve, headers={"Authorization": "Basic eDp5"})  # the cookie signs it
        assert basic.status_code == 403
    with TestClient(app) as c:  # a script with a key
        assert c.post(approve, headers={"Authorization": f"Bearer {key}"}).status_code == 404
