"""A pydantic-ai ``Model`` on ``litellm.acompletion``: any provider by model string.

``openai/gpt-4o-mini``, ``anthropic/claude-...``, ``ollama/qwen2.5`` or any
OpenAI-compatible server through ``api_base`` (a LiteLLM proxy included), with
fallbacks, timeouts and retries handled by litellm. pydantic-ai's own
``LiteLLMProvider`` only talks to a proxy, hence this adapter.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

from tools.errors import InvalidInputError

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download at import


def _litellm():
    import litellm

    litellm.suppress_debug_info = True
    return litellm


def map_messages(messages: list[ModelMessage], instructions: str | None) -> list[dict[str, Any]]:
    """pydantic-ai history -> OpenAI chat messages (the format litellm speaks)."""
    out: list[dict[str, Any]] = []
    if instructions:
        out.append({"role": "system", "content": instructions})
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    out.append({"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart):
                    content = (
                        part.content
                        if isinstance(part.content, str)
                        else " ".join(c for c in part.content if isinstance(c, str))
                    )
                    out.append({"role": "user", "content": content})
                elif isinstance(part, ToolReturnPart):
                    out.append(
                        {
                            "role": "tool",
                            "tool_call_id": part.tool_call_id,
                            "content": part.model_response_str(),
                        }
                    )
                elif isinstance(part, RetryPromptPart):
                    if part.tool_name:
                        out.append(
                            {
                                "role": "tool",
                                "tool_call_id": part.tool_call_id,
                                "content": part.model_response(),
                            }
                        )
                    else:
                        out.append({"role": "user", "content": part.model_response()})
        elif isinstance(message, ModelResponse):
            text = "".join(p.content for p in message.parts if isinstance(p, TextPart))
            calls = [
                {
                    "id": p.tool_call_id,
                    "type": "function",
                    "function": {"name": p.tool_name, "arguments": p.args_as_json_str()},
                }
                for p in message.parts
                if isinstance(p, ToolCallPart)
            ]
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                entry["tool_calls"] = calls
            out.append(entry)
    return out


def _usage(raw: Any) -> RequestUsage:
    if raw is None:
        return RequestUsage()
    return RequestUsage(
        input_tokens=getattr(raw, "prompt_tokens", 0) or 0,
        output_tokens=getattr(raw, "completion_tokens", 0) or 0,
    )


def check_model_name(name: str, api_base: str | None = None) -> None:
    """A model litellm cannot place with a provider fails at once, in one sentence — not
    after retries, once per question or eval case, with litellm's multi-line text."""
    try:
        _litellm().get_llm_provider(name, api_base=api_base)
    except Exception:
        raise InvalidInputError(
            f"unknown model {name!r}: give a litellm model string with its provider "
            "(e.g. openai/gpt-4o-mini, anthropic/claude-sonnet-4-5, ollama/llama3) or 'offline'"
        ) from None


class LiteLLMModel(Model):
    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        fallbacks: list[str] | None = None,
        timeout: float = 60.0,
        num_retries: int = 2,
        settings: ModelSettings | None = None,
    ) -> None:
        super().__init__(settings=settings)
        for name in [model, *(fallbacks or [])]:
            check_model_name(name, api_base)
        self._model_name = model
        self.api_base, self.api_key = api_base, api_key
        self.fallbacks, self.timeout, self.num_retries = fallbacks or [], timeout, num_retries

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "litellm"

    def _kwargs(
        self, messages, model_settings, params: ModelRequestParameters, *, stream: bool
    ) -> dict:
        parts = self._get_instruction_parts(messages, params) or []
        instructions = "\n\n".join(p.content for p in parts) or None
        tools = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description or "",
                    "parameters": t.parameters_json_schema,
                },
            }
            for t in params.function_tools
        ]
        kwargs: dict[str, Any] = {
            "model": self._model_name,
            "messages": map_messages(messages, instructions),
            "timeout": self.timeout,
            "num_retries": self.num_retries,
            "stream": stream,
        }
        if tools:
            kwargs["tools"] = tools
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        if self.fallbacks:
            kwargs["fallbacks"] = self.fallbacks
        if stream:
            kwargs["stream_options"] = {"include_usage": True}
        for key in ("temperature", "max_tokens", "top_p"):
            if model_settings and model_settings.get(key) is not None:
                kwargs[key] = model_settings[key]
        return kwargs

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        model_settings, params = self.prepare_request(model_settings, model_request_parameters)
        response = await _litellm().acompletion(
            **self._kwargs(messages, model_settings, params, stream=False)
        )
        message = response.choices[0].message
        parts: list[Any] = []
        if message.content:
            parts.append(TextPart(message.content))
        for call in message.tool_calls or []:
            parts.append(
                ToolCallPart(call.function.name, call.function.arguments, tool_call_id=call.id)
            )
        return ModelResponse(
            parts=parts,
            usage=_usage(getattr(response, "usage", None)),
            model_name=response.model or self._model_name,
            provider_name="litellm",
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: Any = None,
    ) -> AsyncGenerator[StreamedResponse]:
        model_settings, params = self.prepare_request(model_settings, model_request_parameters)
        stream = await _litellm().acompletion(
            **self._kwargs(messages, model_settings, params, stream=True)
        )
        yield LiteLLMStreamedResponse(
            model_request_parameters=params, _model_name=self._model_name, _stream=stream
        )


@dataclass
class LiteLLMStreamedResponse(StreamedResponse):
    _model_name: str
    _stream: AsyncIterator[Any]
    _timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        async for chunk in self._stream:
            if getattr(chunk, "usage", None):
                self._usage = _usage(chunk.usage)
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if getattr(delta, "content", None):
                for event in self._parts_manager.handle_text_delta(
                    vendor_part_id="content", content=delta.content
                ):
                    yield event
            for call in getattr(delta, "tool_calls", None) or []:
                fn = call.function
                for event in self._parts_manager.handle_tool_call_delta_events(
                    vendor_part_id=call.index,
                    tool_name=fn.name if fn and fn.name else None,
                    args=fn.arguments if fn and fn.arguments else None,
                    tool_call_id=call.id,
                ):
                    yield event

    async def close_stream(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close:
            await close()

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def provider_name(self) -> str:
        return "litellm"

    @property
    def provider_url(self) -> str | None:
        return None

    @property
    def timestamp(self) -> datetime:
        return self._timestamp
