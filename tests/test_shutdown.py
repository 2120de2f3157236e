"""SIGTERM during a turn (finding 15): the turn may finish within the grace period and
its stream ends normally; past the grace period the stream ends with an error event.
Either way the question is kept, and the server exits."""

import json
import threading
import time

import httpx
from sqlalchemy import create_engine

from assistant.store import Store
from tests.fakes.openai import Reply, serve_fake_openai
from tests.serving import served


def _ask_in_background(url: str, events: list[dict]) -> threading.Thread:
    def run():
        with httpx.stream("POST", f"{url}/v1/chat", json={"message": "hello"}, timeout=60) as r:
            for line in r.iter_lines():
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _env(tmp_path, model_url: str, grace: float) -> dict[str, str]:
    return {
        "ASSISTANT_DATA_DIR": str(tmp_path),
        "ASSISTANT_AUTH": "off",
        "ASSISTANT_MODEL": "openai/slow-model",
        "ASSISTANT_API_BASE": model_url,
        "ASSISTANT_API_KEY": "sk-test",
        "ASSISTANT_MODEL_RETRIES": "0",
        "ASSISTANT_SHUTDOWN_GRACE_SECONDS": str(grace),
    }


def _messages(tmp_path):
    store = Store(create_engine(f"sqlite:///{tmp_path / 'assistant.db'}"))
    [conversation] = store_conversations(store)
    return [(m.role, m.content) for m in store.messages(conversation)]


def store_conversations(store: Store) -> list[str]:
    from sqlmodel import Session, select

    from assistant.store import ConversationRow

    with Session(store.engine) as s:
        return [row.id for row in s.exec(select(ConversationRow)).all()]


def _wait_for_first_event(events: list[dict]) -> None:
    deadline = time.monotonic() + 30
    while not events and time.monotonic() < deadline:
        time.sleep(0.05)
    assert events and events[0]["type"] == "message_start"


def test_a_turn_running_at_sigterm_finishes_and_is_stored(tmp_path):
    with (
        serve_fake_openai([Reply(text="An answer worth waiting for.")], delay=2.0) as model,
        served(_env(tmp_path, model.url, grace=20), tmp_path / "serve.log") as server,
    ):
        events: list[dict] = []
        asker = _ask_in_background(server.url, events)
        _wait_for_first_event(events)
        time.sleep(0.3)  # the model is thinking
        assert server.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after a clean stop
        asker.join(10)
    assert events[-1]["type"] == "message_end"
    text = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert "worth waiting for" in text
    assert _messages(tmp_path) == [("user", "hello"), ("assistant", text.strip())]


def test_past_the_grace_period_the_stream_says_so_and_the_question_is_kept(tmp_path):
    with (
        serve_fake_openai([Reply(text="Too late.")], delay=6.0) as model,
        served(_env(tmp_path, model.url, grace=1), tmp_path / "serve.log") as server,
    ):
        events: list[dict] = []
        asker = _ask_in_background(server.url, events)
        _wait_for_first_event(events)
        time.sleep(0.3)
        assert server.terminate() in (0, -15)
        asker.join(10)
    assert events[-1]["type"] == "error" and events[-1]["code"] == "shutting_down"
    assert _messages(tmp_path) == [
        ("user", "hello"),
        ("assistant", "(interrupted before an answer)"),
    ]
