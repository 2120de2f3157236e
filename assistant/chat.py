"""A chat turn: run the agent, stream its events, store the conversation.

The same generator serves a new question and the resumption of a run paused for an
approval, so both produce the documented events and both persist the pydantic-ai
history (serialised with ``ModelMessagesTypeAdapter``) for follow-ups and restarts.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from functools import cache

from pydantic import BaseModel, Field
from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults
from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.messages import (
    AgentStreamEvent,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    ModelMessagesTypeAdapter,
    ModelRequest,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolReturnPart,
)
from pydantic_ai.run import AgentRunResultEvent
from pydantic_ai.usage import UsageLimits

from assistant.agent import build_agent
from assistant.auth import User
from assistant.citations import citations
from assistant.deps import AgentDeps
from assistant.events import (
    ApprovalRequired,
    ChatEvent,
    CitationEvent,
    ErrorEvent,
    MessageEnd,
    MessageStart,
    TextDelta,
    ToolCall,
    ToolResult,
)
from assistant.hub import EventHub, LocalEventHub
from assistant.models import resolve_model
from assistant.settings import Settings
from assistant.store import ConversationRow, Store, new_id
from retrieval.index import DocumentIndex
from tools.broker import Broker
from tools.market_data import PriceStore
from tools.orders import BrokerOrder


class ChatTurn(BaseModel):
    """Everything one turn produced, for `--json` and the non-streaming APIs."""

    conversation_id: str
    model: str
    answer: str
    events: list[ChatEvent] = Field(default_factory=list)
    approvals: list[ApprovalRequired] = Field(default_factory=list)
    error: ErrorEvent | None = None

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [e for e in self.events if isinstance(e, ToolCall)]


def _summary(name: str, data: dict) -> str:
    if "error" in data:
        return f"{name} failed: {data['error']}"
    if name == "search_documents":
        return f"{len(data.get('hits', []))} documents"
    subject = data.get("symbol") or ", ".join(data.get("weights", {})) or data.get("broker", "")
    as_of = f" as of {data['as_of']}" if data.get("as_of") else ""
    return f"{subject}{as_of}".strip() or name


class ChatService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        prices: PriceStore,
        index_factory: Callable[[], DocumentIndex],
        broker_factory: Callable[[], Broker],
        *,
        model_name: str | None = None,
        hub: EventHub | None = None,
    ) -> None:
        self.settings, self.store, self.prices = settings, store, prices
        self.index_factory, self.broker_factory = index_factory, broker_factory
        self.model_name = model_name or settings.model
        self.last_tool_seconds = 0.0
        self.index_is_shared = False
        self.hub = hub or LocalEventHub()
        # Bounded work per process: every stream gets its first event at once, then waits
        # for a slot, instead of 100 turns fighting over the event loop and the GIL.
        self.turn_slots = settings.max_concurrent_turns or (
            (os.cpu_count() or 2) if self.model_name in ("offline", "") else 64
        )
        self._slots = asyncio.Semaphore(self.turn_slots)
        self.on_approvals: (
            Callable[[str, DeferredToolRequests, User], list[ApprovalRequired]] | None
        ) = None

    @cache  # noqa: B019 - one agent per service and model, built once
    def agent(self) -> Agent:
        return build_agent(
            resolve_model(self.model_name, self.settings, lambda: set(self.prices.symbols()))
        )

    def _deps(self, user: User, conversation_id: str) -> AgentDeps:
        return AgentDeps(
            settings=self.settings,
            store=self.prices,
            user=user,
            conversation_id=conversation_id,
            index_factory=self.index_factory,
            broker_factory=self.broker_factory,
            close_index=not self.index_is_shared,
        )

    async def ask(
        self, question: str, user: User, conversation_id: str | None = None, channel: str = "cli"
    ) -> ChatTurn:
        return await collect(self.stream(question, user, conversation_id, channel))

    async def stream(
        self,
        question: str,
        user: User,
        conversation: str | ConversationRow | None = None,
        channel: str = "cli",
        history: list | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """One turn. ``conversation`` continues one, by id or as already loaded (the API
        loads it first to answer 404 before streaming); ``history`` seeds a new one (the
        OpenAI-style API sends it)."""
        new = conversation is None
        if isinstance(conversation, str):
            conversation = await asyncio.to_thread(self.store.conversation_for, conversation, user)
        elif conversation is None:  # stored once the first event is out: no DB wait
            conversation = ConversationRow(
                id=new_id("conv"),
                user_id=user.id,
                channel=channel,
                model=self.model_name,
                title=question[:200],
                history_json=ModelMessagesTypeAdapter.dump_json(history or []).decode(),
            )
        async for event in self._run(conversation, user, question=question, new=new):
            yield event  # the asker first; watchers (maybe through Redis) right after
            await self.hub.publish(conversation.id, event)

    async def resume(
        self,
        conversation_id: str,
        user: User,
        results: DeferredToolResults,
        executed: dict[str, BrokerOrder | str],
    ) -> ChatTurn:
        conversation = await asyncio.to_thread(self.store.conversation, conversation_id)

        async def published():
            async for event in self._run(conversation, user, deferred=results, executed=executed):
                await self.hub.publish(conversation_id, event)
                yield event

        return await collect(published())

    async def _run(
        self,
        conversation: ConversationRow,
        user: User,
        *,
        question: str | None = None,
        deferred: DeferredToolResults | None = None,
        executed: dict | None = None,
        new: bool = False,
    ) -> AsyncIterator[ChatEvent]:
        started = time.perf_counter()
        yield MessageStart(conversation_id=conversation.id, model=self.model_name)
        if new:
            await asyncio.to_thread(self.store.add_conversation, conversation)
        history = ModelMessagesTypeAdapter.validate_json(conversation.history_json)
        deps = self._deps(user, conversation.id)
        deps.executed_orders.update(executed or {})
        limits = UsageLimits(
            tool_calls_limit=self.settings.max_tool_calls,
            total_tokens_limit=self.settings.max_tokens_per_turn,
        )
        answer: list[str] = []
        result = None
        try:
            async with (
                self._slots,
                self.agent().run_stream_events(
                    question,
                    message_history=history,
                    deps=deps,
                    deferred_tool_results=deferred,
                    usage_limits=limits,
                ) as events,
            ):
                async for event in events:
                    for out in self._translate(event, answer):
                        yield out
                    if isinstance(event, AgentRunResultEvent):
                        result = event.result
        except UsageLimitExceeded as exc:
            yield ErrorEvent(
                code="limit_exceeded", message=f"this question needs too many steps: {exc}"
            )
            return
        except Exception as exc:  # a provider fault of any kind ends the turn, never the process
            yield ErrorEvent(
                code="model_error", message=f"the model failed: {type(exc).__name__}: {exc}"
            )
            return
        finally:
            deps.close()
            self.last_tool_seconds = deps.tool_seconds  # for the overhead benchmark
        new = result.new_messages()
        returns = [
            p
            for m in new
            if isinstance(m, ModelRequest)
            for p in m.parts
            if isinstance(p, ToolReturnPart)
        ]
        for c in citations(returns):
            yield CitationEvent(
                n=c.n,
                doc_id=c.doc_id,
                title=c.title,
                source=c.source,
                date=c.published_at,
                snippet=c.snippet,
            )
        approvals: list[ApprovalRequired] = []
        if isinstance(result.output, DeferredToolRequests) and self.on_approvals:
            approvals = self.on_approvals(conversation.id, result.output, user)
            for a in approvals:
                yield a
            note = pending_note(approvals)
            answer.append(note)
            yield TextDelta(text=note)
        messages = [] if question is None else [("user", question, {"user_id": user.id})]
        messages.append(
            (
                "assistant",
                "".join(answer),
                {"model": self.model_name, "approvals": [a.approval_id for a in approvals]},
            )
        )
        await asyncio.to_thread(
            self.store.save_turn, conversation.id, result.all_messages_json().decode(), messages
        )
        usage = result.usage
        yield MessageEnd(
            usage={
                "requests": usage.requests,
                "input_tokens": usage.input_tokens or 0,
                "output_tokens": usage.output_tokens or 0,
                "tool_calls": usage.tool_calls,
            },
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def _translate(self, event: AgentStreamEvent, answer: list[str]) -> list[ChatEvent]:
        if (
            isinstance(event, PartStartEvent)
            and isinstance(event.part, TextPart)
            and event.part.content
        ):
            answer.append(event.part.content)
            return [TextDelta(text=event.part.content)]
        if (
            isinstance(event, PartDeltaEvent)
            and isinstance(event.delta, TextPartDelta)
            and event.delta.content_delta
        ):
            answer.append(event.delta.content_delta)
            return [TextDelta(text=event.delta.content_delta)]
        if isinstance(event, FunctionToolCallEvent):
            return [
                ToolCall(
                    id=event.part.tool_call_id,
                    name=event.part.tool_name,
                    args=event.part.args_as_dict(),
                )
            ]
        if isinstance(event, FunctionToolResultEvent) and isinstance(event.part, ToolReturnPart):
            data = event.part.model_response_object()
            chart = data.get("chart_path")
            return [
                ToolResult(
                    id=event.part.tool_call_id,
                    name=event.part.tool_name,
                    summary=_summary(event.part.tool_name, data),
                    artifact_url=chart,
                )
            ]
        return []


def pending_note(approvals: list[ApprovalRequired]) -> str:
    lines = []
    for a in approvals:
        o = a.order
        checks = (
            "all pre-trade checks passed"
            if a.risk_checks.get("passed")
            else (
                "pre-trade checks failed: "
                + "; ".join(c["reason"] for c in a.risk_checks["checks"] if not c["passed"])
            )
        )
        lines.append(
            f"Order proposed: {o['side']} {o['quantity']:g} {o['symbol']} ({o['type']}). It is waiting "
            f"for approval {a.approval_id} by an approver (expires {a.expires_at:%Y-%m-%d %H:%M} UTC); "
            f"{checks}."
        )
    return ("\n\n" if lines else "") + "\n".join(lines)


async def collect(events: AsyncIterator[ChatEvent]) -> ChatTurn:
    seen: list[ChatEvent] = []
    async for event in events:
        seen.append(event)
    start = next(e for e in seen if isinstance(e, MessageStart))
    return ChatTurn(
        conversation_id=start.conversation_id,
        model=start.model,
        answer="".join(e.text for e in seen if isinstance(e, TextDelta)),
        events=seen,
        approvals=[e for e in seen if isinstance(e, ApprovalRequired)],
        error=next((e for e in seen if isinstance(e, ErrorEvent)), None),
    )
