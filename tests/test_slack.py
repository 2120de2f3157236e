"""The Slack bot with signed (and forged) requests against a local fake Slack Web API."""

import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from api.app import create_app
from assistant.settings import Settings
from tests.fakes.slack import serve_fake_slack
from tests.test_api import Server

SECRET = "slack-signing-secret"
APPROVER, OUTSIDER = "UAPPROVER", "URANDOM"


@pytest.fixture(scope="module")
def slack(tmp_path_factory, sample_dir):
    data = tmp_path_factory.mktemp("slack-data")
    (data / "prices").symlink_to(sample_dir / "prices")
    with serve_fake_slack() as fake:
        settings = Settings(
            data_dir=data,
            slack_bot_token=SecretStr("xoxb-test"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=fake.url,
            slack_approvers=[APPROVER],
        )
        with Server(create_app(settings)) as server:
            server.fake = fake
            yield server


def signed_post(server, body: str, content_type: str, *, secret=SECRET, age: int = 0):
    stamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }
    return httpx.post(f"{server.url}/slack/events", content=body, headers=headers, timeout=30)


def event(server, text: str, ts: str, user: str = "UASKER"):
    payload = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": f"Ev{ts}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": user,
            "text": f"<@UBOT> {text}",
            "ts": ts,
            "channel": "C1",
            "event_ts": ts,
        },
    }
    return signed_post(server, json.dumps(payload), "application/json")


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the bot")


def test_url_verification_and_signatures(slack):
    challenge = json.dumps({"type": "url_verification", "challenge": "xyz", "token": "t"})
    assert signed_post(slack, challenge, "application/json").json()["challenge"] == "xyz"
    assert signed_post(slack, challenge, "application/json", secret="forged").status_code == 401
    assert (
        signed_post(slack, challenge, "application/json", age=60 * 10).status_code == 401
    )  # stale


def test_mention_is_answered_in_thread_by_updating_one_message(slack):
    assert (
        event(
            slack, "What was the RSI of AAPL at the end of 2020?", "1700000100.000001"
        ).status_code
        == 200
    )
    final = wait_for(
        lambda: [u for u in slack.fake.of("chat.update") if "RSI was 62.77" in u.get("text", "")]
    )
    first = next(
        p for p in slack.fake.of("chat.postMessage") if p.get("thread_ts") == "1700000100.000001"
    )
    assert first["text"] == "Working on it…"
    assert final[-1]["channel"] == "C1"
    progress = [
        u["text"] for u in slack.fake.of("chat.update") if u["text"].startswith("Working on it… (")
    ]
    assert any("get_indicators" in t for t in progress)


def test_approval_buttons_only_work_for_mapped_approvers(slack):
    event(slack, "buy 10 KO", "1700000200.000001")
    blocks_msg = wait_for(
        lambda: [p for p in slack.fake.of("chat.postMessage") if p.get("blocks")]
    )[-1]
    actions = next(b for b in blocks_msg["blocks"] if b["type"] == "actions")
    approval_id = actions["elements"][0]["value"]

    def click(user: str, action: str = "approve"):
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "token": "t",
            "trigger_id": "1.2",
            "channel": {"id": "C1"},
            "container": {"type": "message"},
            "message": {
                "ts": "1700000999.000001",
                "thread_ts": "1700000200.000001",
                "text": "Approval needed",
            },
            "actions": [
                {
                    "action_id": action,
                    "block_id": actions["block_id"],
                    "value": approval_id,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        return signed_post(
            slack, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    assert click(OUTSIDER).status_code == 200
    wait_for(lambda: [p for p in slack.fake.of("chat.postEphemeral") if p.get("user") == OUTSIDER])
    assert click(APPROVER).status_code == 200
    done = wait_for(
        lambda: [
            u for u in slack.fake.of("chat.update") if u.get("text", "").startswith("executed by")
        ]
    )
    assert approval_id in done[-1]["text"]
    wait_for(
        lambda: [
            p for p in slack.fake.of("chat.postMessage") if "was filled at" in p.get("text", "")
        ]
    )
    assert click(APPROVER).status_code == 200  # a second click: conflict, told privately
    wait_for(
        lambda: [
            p for p in slack.fake.of("chat.postEphemeral") if "not pending" in p.get("text", "")
        ]
    )
