"""The Slack bot with signed (and forged) requests against a local fake Slack Web API."""

import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlmodel import Session

from api.app import create_app
from assistant.settings import Settings
from assistant.slack_threads import SlackThreadRow, ThreadMap
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


def event(server, text: str, ts: str, user: str = "UASKER", *, dm: bool = False, **fields):
    """A signed Events API request: a mention in C1, or (``dm``) a direct message in D1."""
    body = {"type": "message", "channel_type": "im", "channel": "D1", "text": text}
    if not dm:
        body = {"type": "app_mention", "channel": "C1", "text": f"<@UBOT> {text}"}
    payload = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": f"Ev{ts}",
        "event_time": int(time.time()),
        "event": {**body, "user": user, "ts": ts, "event_ts": ts, **fields},
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


def button_press(user: str, action: str, *, card: dict, channel: str) -> dict:
    """The block_actions payload Slack sends when ``user`` presses a button on ``card``."""
    actions = next(b for b in card["blocks"] if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == action)
    return {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "token": "t",
        "trigger_id": "1.2",
        "channel": {"id": channel},
        "container": {"type": "message"},
        "message": {"ts": card["_ts"], "thread_ts": card["thread_ts"], "text": card["text"]},
        "actions": [
            {
                "action_id": action,
                "block_id": actions["block_id"],
                "value": button["value"],
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }


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
        payload = button_press(user, action, card=blocks_msg, channel="C1")
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


def test_charts_are_uploaded_into_the_thread(slack):
    event(slack, "Backtest a 50/200 SMA cross on KO since 2010", "1700000300.000001")
    [done] = wait_for(lambda: slack.fake.of("files.completeUploadExternal"))
    assert done["channel_id"] == "C1" and done["thread_ts"] == "1700000300.000001"
    [requested] = slack.fake.of("files.getUploadURLExternal")
    file_id = done["files"][0]["id"]
    png = slack.fake.uploads[file_id]
    assert png.startswith(b"\x89PNG") and int(requested["length"]) == len(png)
    assert requested["filename"].endswith(".png") and "KO" in done["files"][0]["title"]


def test_a_decision_taken_through_the_api_is_posted_to_the_slack_thread(slack):
    from assistant.auth import Role
    from assistant.keys import KeyStore
    from assistant.resources import engine

    settings = slack.server.config.app.state.services.settings
    approver = KeyStore(engine(settings)).create(Role.APPROVER)[1]
    event(slack, "buy 4 PG", "1700000400.000001")
    card = wait_for(
        lambda: [
            p
            for p in slack.fake.of("chat.postMessage")
            if p.get("blocks") and p.get("thread_ts") == "1700000400.000001"
        ]
    )[-1]
    approval_id = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    rejected = httpx.post(
        f"{slack.url}/v1/approvals/{approval_id}/reject",
        json={"reason": "too concentrated"},
        headers={"Authorization": f"Bearer {approver}"},
        timeout=30,
    )
    assert rejected.json()["status"] == "rejected"
    [update] = wait_for(lambda: [u for u in slack.fake.of("chat.update") if u["ts"] == card["_ts"]])
    assert update["text"].startswith("rejected by `key:") and "too concentrated" in update["text"]
    assert approval_id in update["text"] and update["blocks"][0]["type"] == "section"  # no buttons
    posted = wait_for(
        lambda: [
            p
            for p in slack.fake.of("chat.postMessage")
            if p.get("thread_ts") == "1700000400.000001" and "rejected" in p.get("text", "")
        ]
    )
    assert posted[-1]["channel"] == "C1"


def test_socket_mode_answers_and_takes_button_presses(tmp_path, sample_dir):
    """`assistant slack` as a user runs it: no signing secret, no public URL, a websocket."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    with serve_fake_slack() as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")},
            "ASSISTANT_DATA_DIR": str(tmp_path),
            "ASSISTANT_SLACK_BOT_TOKEN": "xoxb-test",
            "ASSISTANT_SLACK_APP_TOKEN": "xapp-test",
            "ASSISTANT_SLACK_API_URL": fake.url,
            "ASSISTANT_SLACK_APPROVERS": json.dumps([APPROVER]),
        }
        exe = str(Path(sys.executable).with_name("assistant"))
        bot = subprocess.Popen([exe, "slack"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(fake.socket.connected, timeout=120)
            opened = fake.of("apps.connections.open")  # once to check the token, once to connect
            assert [o["_auth"] for o in opened] == ["Bearer xapp-test"] * 2
            mention = {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event_id": "Ev1",
                "event_time": int(time.time()),
                "event": {
                    "type": "app_mention",
                    "user": "UASKER",
                    "text": "<@UBOT> buy 2 KO",
                    "ts": "1700000500.000001",
                    "channel": "C9",
                    "event_ts": "1700000500.000001",
                },
            }
            fake.socket.push(
                {
                    "envelope_id": "env-1",
                    "type": "events_api",
                    "payload": mention,
                    "accepts_response_payload": False,
                    "retry_attempt": 0,
                }
            )
            wait_for(lambda: [m for m in fake.socket.received if m.get("envelope_id") == "env-1"])
            card = wait_for(lambda: [p for p in fake.of("chat.postMessage") if p.get("blocks")])[-1]
            approval_id = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0][
                "value"
            ]
            press = button_press(APPROVER, "approve", card=card, channel="C9")
            fake.socket.push(
                {
                    "envelope_id": "env-2",
                    "type": "interactive",
                    "payload": press,
                    "accepts_response_payload": False,
                }
            )
            [update] = wait_for(
                lambda: [u for u in fake.of("chat.update") if u["ts"] == card["_ts"]]
            )
            assert update["text"].startswith(f"executed by <@{APPROVER}>")
            assert approval_id in update["text"]
            wait_for(
                lambda: [
                    p
                    for p in fake.of("chat.postMessage")
                    if p.get("thread_ts") == "1700000500.000001" and "was filled at" in p["text"]
                ]
            )
        finally:
            bot.terminate()
            _, err = bot.communicate(timeout=30)
        assert "Traceback" not in err, err


def test_socket_mode_without_an_app_token_is_a_usage_error(cli, monkeypatch):
    monkeypatch.setenv("ASSISTANT_SLACK_BOT_TOKEN", "xoxb-test")
    result = cli("slack")
    assert result.exit_code == 2 and "ASSISTANT_SLACK_APP_TOKEN" in result.output


@pytest.mark.parametrize(
    ("bot", "app"), [("xoxb-revoked", "xapp-test"), ("xoxb-test", "xapp-revoked")]
)
def test_socket_mode_with_a_refused_token_says_so_and_stops(cli, monkeypatch, bot, app):
    with serve_fake_slack() as fake:
        monkeypatch.setenv("ASSISTANT_SLACK_API_URL", fake.url)
        monkeypatch.setenv("ASSISTANT_SLACK_BOT_TOKEN", bot)
        monkeypatch.setenv("ASSISTANT_SLACK_APP_TOKEN", app)
        result = cli("slack")
    assert result.exit_code == 2 and "refused the bot or app token: invalid_auth" in result.output
    assert not fake.socket.connected()


def test_direct_messages_are_answered_and_a_thread_keeps_its_conversation(slack):
    store = slack.server.config.app.state.services.store
    event(slack, "What was the RSI of MSFT at the end of 2020?", "1700000600.000001", dm=True)
    wait_for(
        lambda: [
            u
            for u in slack.fake.of("chat.update")
            if u["channel"] == "D1" and "MSFT" in u["text"] and "RSI" in u["text"]
        ]
    )
    # the bot's own messages and edits come back as events too: they are ignored
    event(slack, "Working on it…", "1700000600.000002", dm=True, bot_id="B1")
    event(slack, "edited", "1700000600.000003", dm=True, subtype="message_changed")
    event(slack, "and for AAPL?", "1700000600.000004", dm=True, thread_ts="1700000600.000001")
    wait_for(
        lambda: [
            u for u in slack.fake.of("chat.update") if u["channel"] == "D1" and "AAPL" in u["text"]
        ]
    )
    posts = [p for p in slack.fake.of("chat.postMessage") if p["channel"] == "D1"]
    assert [p["thread_ts"] for p in posts] == ["1700000600.000001"] * 2  # no reply to the bot
    conversation = ThreadMap(store.engine).get("D1:1700000600.000001:UASKER")
    turns = [m.role for m in store.messages(conversation)]
    assert turns == ["user", "assistant", "user", "assistant"]


def test_a_colleague_replying_in_a_thread_gets_a_conversation_of_their_own(slack):
    """An attack of 2026-12-07: a reply by another person in someone's thread raised (the
    conversation is not theirs) and was never answered."""
    store = slack.server.config.app.state.services.store
    event(slack, "What is KO's RSI?", "1700002000.000001", user="UANN")
    event(slack, "and PEP's?", "1700002000.000002", user="UBEN", thread_ts="1700002000.000001")
    wait_for(
        lambda: [
            u
            for u in slack.fake.of("chat.update")
            if u["channel"] == "C1" and "PEP" in u["text"] and "RSI" in u["text"]
        ]
    )
    threads = ThreadMap(store.engine)
    ann, ben = (threads.get(f"C1:1700002000.000001:{u}") for u in ("UANN", "UBEN"))
    assert ann and ben and ann != ben
    assert store.conversation(ben).user_id == "slack:UBEN"
    assert threads.thread_of(ben) == ("C1", "1700002000.000001")


def test_a_thread_keyed_by_an_earlier_version_keeps_its_conversation(slack):
    store = slack.server.config.app.state.services.store
    event(slack, "What is KO's RSI?", "1700002100.000001", user="UANN")
    threads = ThreadMap(store.engine)
    first = wait_for(lambda: threads.get("C1:1700002100.000001:UANN"))
    wait_for(lambda: [u for u in slack.fake.of("chat.update") if "KO" in u["text"]])
    with Session(store.engine) as s:  # as an earlier version stored it: by the thread alone
        row = s.get(SlackThreadRow, "C1:1700002100.000001:UANN")
        s.delete(row)
        s.add(SlackThreadRow(thread_key="C1:1700002100.000001", conversation_id=first))
        s.commit()
    event(slack, "and PEP's?", "1700002100.000002", user="UANN", thread_ts="1700002100.000001")
    assert wait_for(lambda: threads.get("C1:1700002100.000001:UANN")) == first
    wait_for(lambda: [u for u in slack.fake.of("chat.update") if "PEP" in u["text"]])
    assert [m.role for m in store.messages(first)] == ["user", "assistant"] * 2


def test_retries_and_replays_of_an_event_are_handled_once(slack):
    """Finding 9: a re-sent signed event created a second pending order."""
    ts = "1700000900.000001"
    store = slack.server.config.app.state.services.store

    def mine():
        return [
            a
            for a in store.approvals(None)
            if '"MRK"' in a.order_json and a.requested_by == "slack:UREPLAY"
        ]

    assert event(slack, "buy 4 MRK", ts, user="UREPLAY").status_code == 200
    wait_for(mine)
    body = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": f"Ev{ts}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "channel": "C1",
            "text": "<@UBOT> buy 4 MRK",
            "user": "UREPLAY",
            "ts": ts,
            "event_ts": ts,
        },
    }
    stamp = str(int(time.time()))
    raw = json.dumps(body)
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=raw)
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/json",
    }
    replay = httpx.post(f"{slack.url}/slack/events", content=raw, headers=headers, timeout=30)
    retry = httpx.post(
        f"{slack.url}/slack/events",
        content=raw,
        headers={**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        timeout=30,
    )
    assert replay.status_code == 200 and retry.status_code == 200
    time.sleep(1.0)  # time enough for a second turn to have proposed a second order
    assert len(mine()) == 1


def test_a_slack_user_sets_their_risk_profile_in_a_direct_message(slack):
    """The questionnaire over Slack messages: each Slack user keeps a profile of their own
    (``slack:U…``), which the checks of their orders then apply."""
    services = slack.server.config.app.state.services
    assert (
        event(
            slack, "take the risk questionnaire", "1700001900.000001", "UPROF", dm=True
        ).status_code
        == 200
    )
    wait_for(
        lambda: [
            u for u in slack.fake.of("chat.update") if "When will you need" in u.get("text", "")
        ]
    )
    event(
        slack,
        "within a year, sell some, income, some experience",
        "1700001900.000002",
        "UPROF",
        dm=True,
        thread_ts="1700001900.000001",  # a reply in the bot's thread continues the conversation
    )
    wait_for(lambda: services.profiles.get("slack:UPROF"))
    saved = services.profiles.get("slack:UPROF")
    assert saved.level.value == "conservative" and saved.answers.horizon.value == "under_1y"
    wait_for(
        lambda: [u for u in slack.fake.of("chat.update") if "now conservative" in u.get("text", "")]
    )
    assert services.profiles.get("slack:UASKER") is None
