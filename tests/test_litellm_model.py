"""The litellm path end to end over HTTP: a fake OpenAI-compatible server scripts tool
calls; the real litellm client, our adapter and the real tools run."""

import asyncio

import pytest

from assistant.auth import Role, User
from assistant.events import ErrorEvent
from tests.agent_env import make_services
from tests.fakes.openai import Reply, serve_fake_openai

USER = User(id="dev", role=Role.TRADER)


def ask(services, question):
    return asyncio.run(services.chat.ask(question, USER))


@pytest.fixture
def make(tmp_path, sample_store, sample_index_dir):
    def build(url, **settings):
        return make_services(
            tmp_path / "data",
            f"sqlite:///{tmp_path / 'db.sqlite'}",
            sample_store,
            sample_index_dir,
            model="openai/gpt-test",
            api_base=url,
            api_key="sk-test",
            model_retries=0,
            **settings,
        )

    return build


def test_streamed_tool_call_then_answer(make):
    script = [
        Reply(
            tool_calls=[("get_indicators", {"symbol": "AAPL", "end": "2020-12-31"})],
            ids=["call_0"],
        ),
        Reply(text="AAPL's RSI was 62.77 as of 2020-12-31."),
    ]
    with serve_fake_openai(script) as fake:
        turn = ask(make(fake.url), "What was AAPL's RSI at the end of 2020?")
    assert turn.error is None
    assert [(c.name, c.args) for c in turn.tool_calls] == [
        ("get_indicators", {"symbol": "AAPL", "end": "2020-12-31"})
    ]
    assert turn.answer.strip() == "AAPL's RSI was 62.77 as of 2020-12-31."
    first, second = fake.requests
    assert first["stream"] is True and first["model"] == "gpt-test"
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "get_indicators",
        "place_order",
        "search_documents",
    }
    assert (
        first["messages"][0]["role"] == "system"
        and "Every number" in first["messages"][0]["content"]
    )
    tool_message = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool_message["tool_call_id"] == "call_0" and '"rsi_14":62.77' in tool_message["content"]
    end = turn.events[-1]
    assert end.usage["input_tokens"] == 22 and end.usage["tool_calls"] == 1


def test_non_streamed_request(make, sample_store):
    from pydantic_ai.messages import ModelRequest, UserPromptPart
    from pydantic_ai.models import ModelRequestParameters

    from assistant.models.litellm_model import LiteLLMModel

    reply = Reply(tool_calls=[("get_prices", {"symbol": "KO"})], ids=["call_0"])
    with serve_fake_openai([reply]) as fake:
        model = LiteLLMModel("openai/gpt-test", api_base=fake.url, api_key="sk", num_retries=0)
        response = asyncio.run(
            model.request(
                [ModelRequest(parts=[UserPromptPart("KO price?")])], None, ModelRequestParameters()
            )
        )
    [call] = response.parts
    assert (call.tool_name, call.args_as_dict(), call.tool_call_id) == (
        "get_prices",
        {"symbol": "KO"},
        "call_0",
    )
    assert response.usage.input_tokens == 11 and not fake.requests[0].get("stream")


def test_orders_from_a_remote_model_still_need_approval(make):
    script = [Reply(tool_calls=[("place_order", {"symbol": "AAPL", "side": "buy", "quantity": 5})])]
    with serve_fake_openai(script) as fake:
        services = make(fake.url)
        turn = ask(services, "buy 5 apple")
    [approval] = turn.approvals
    assert (
        approval.order["quantity"] == 5
        and services.store.approval(approval.approval_id).status == "pending"
    )
    assert len(fake.requests) == 1  # the run paused; nothing was executed


def test_provider_failure_is_an_error_event(make):
    with serve_fake_openai([Reply(status=500)]) as fake:
        turn = ask(make(fake.url), "hello")
    assert isinstance(turn.error, ErrorEvent) and turn.error.code == "model_error"


def test_fallback_model_answers_when_the_first_fails(make):
    with serve_fake_openai([Reply(status=500), Reply(text="from the fallback")]) as fake:
        services = make(fake.url, model_fallbacks=["openai/gpt-backup"])
        turn = ask(services, "hello")
    assert turn.answer.strip() == "from the fallback"
    assert [r["model"] for r in fake.requests] == ["gpt-test", "gpt-backup"]
