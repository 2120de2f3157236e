"""What the OpenAPI schema promises, request by request: the bodies the fuzzer found the
server and its schema disagreeing on (issue 14), each pinned to the behaviour a client
relies on."""

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from assistant.auth import Role
from assistant.settings import Settings
from retrieval.days import day_pattern
from tests.test_api import Server, api, client, sse_events  # noqa: F401 - the shared server


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(1900, 1, 1), date(2100, 12, 31)),
        (date(1900, 1, 1), date(2026, 11, 26)),
        (date(1995, 3, 9), date(2004, 1, 31)),
        (date(2020, 2, 29), date(2020, 3, 1)),
    ],
)
def test_a_day_pattern_matches_exactly_the_days_in_its_range(first, last):
    pattern = re.compile(day_pattern(first, last))
    day = date(1890, 1, 1)
    while day < date(2110, 1, 1):
        assert bool(pattern.match(day.isoformat())) == (first <= day <= last), day
        day += timedelta(days=1)


def test_the_schema_states_the_bounds_the_server_checks(tmp_path):
    schema = TestClient(create_app(Settings(data_dir=tmp_path))).get("/openapi.json").json()
    chat = schema["components"]["schemas"]["ChatRequest"]["properties"]
    as_of = next(s for s in chat["as_of"]["anyOf"] if s.get("type") == "string")
    today = date.today()
    assert re.match(as_of["pattern"], today.isoformat())
    assert not re.match(as_of["pattern"], (today + timedelta(days=1)).isoformat())
    assert not re.match(as_of["pattern"], "1899-12-31")
    message = chat["message"]["pattern"]
    assert re.match(message, "what is KO's RSI?") and not re.match(message, " \t\u3000")
    assert not re.match(message, "a\x00b")
    metrics = schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]


def test_a_number_is_not_a_date_nor_a_boolean(api):  # noqa: F811
    with client(api) as c:
        as_of = c.post("/v1/chat", json={"message": "KO price", "as_of": 0})
        assert as_of.status_code == 422 and "YYYY-MM-DD" in as_of.json()["error"]["message"]
        start = c.post("/v1/tools/get_prices", json={"symbol": "KO", "start": 86400})
        assert start.status_code == 422
        flag = c.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "hi"}], "stream": 0},
        )
        assert flag.status_code == 422
        days = c.post("/v1/tools/get_indicators", json={"symbol": "KO", "end": "2020-12-31"})
        assert days.status_code == 200
        text_number = c.post(
            "/v1/tools/run_walk_forward", json={"symbol": "KO", "train_days": "300"}
        )
        assert text_number.status_code == 422
        whole = c.post(  # 300.0 is an integer to JSON Schema: taken as 300
            "/v1/tools/find_symbol", json={"query": "coca", "limit": 3.0}
        )
        assert whole.status_code == 200 and whole.json()["matches"][0]["symbol"] == "KO"


def test_completions_take_any_history_that_has_a_question(api):  # noqa: F811
    """The question is the last user message; tool and system messages after it are
    history a client may send (the schema cannot say 'the last item', so it says 'some
    user message, and every user message has text')."""
    question = {"role": "user", "content": "What was the RSI of AAPL at the end of 2020?"}
    with client(api) as c:
        ok = c.post(
            "/v1/chat/completions",
            json={
                "messages": [
                    question,  # a tool message that reads like a question is not the question
                    {"role": "tool", "content": "What was the RSI of MSFT at the end of 2020?"},
                ]
            },
        )
        assert ok.status_code == 200, ok.text
        answer = ok.json()["choices"][0]["message"]["content"]
        assert "62.77" in answer and "58.18" not in answer
        parts = c.post(
            "/v1/chat/completions",
            json={
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": question["content"]}]}
                ]
            },
        )
        assert (
            parts.status_code == 200 and "62.77" in parts.json()["choices"][0]["message"]["content"]
        )
        for bad in (
            [{"role": "system", "content": "be brief"}],  # no question
            [{"role": "user", "content": "  \u3000"}],  # a blank one
            [{"role": "user", "content": [{"type": "image_url", "text": None}]}],  # no text part
        ):
            refused = c.post("/v1/chat/completions", json={"messages": bad})
            assert refused.status_code == 422, bad
            assert refused.json()["error"]["code"] == "invalid_request"


def test_logout_without_a_session_is_answered_not_refused(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        answer = c.post("/v1/logout")
    assert answer.status_code == 200 and answer.json() == {"logged_out": False}


def test_an_ingest_with_nothing_in_it_is_refused_and_the_schema_says_so(api):  # noqa: F811
    with client(api, Role.ADMIN) as c:
        refused = c.post("/v1/ingest", json={})
        schema = c.get("/openapi.json").json()["components"]["schemas"]["IngestRequest"]
    assert refused.status_code == 422
    assert "nothing to ingest" in refused.json()["error"]["message"]
    assert len(schema["anyOf"]) == 2  # sample: true, or at least one document
