"""A chat turn: run the agent, stream its events, store the conversation.

A new question and the resumption of a run paused for approvals go through the same
turn, so both produce the documented events and both persist the pydantic-ai history
(serialised with ``ModelMessagesTypeAdapter``) for follow-ups and restarts.

Turns of one conversation run one at a time, in any number of processes, under the
conversation's lease (:meth:`Store.claim`). The question is stored when the turn starts,
so a failure, a disconnect or a restart never loses it; every failure ends the stream
with an ``error`` event.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta
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
from assistant.approvals import ApprovalService, approval_event, describe_order
from assistant.auth import Role, User
from assistant.citations import citations
from assistant.deferred import open_calls, results_for, waiting_returns
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
from assistant.results import BacktestSummary, OrderOutcome
from assistant.settings import Settings
from assistant.store import ApprovalRow, ConversationRow, Store, new_id, utcnow
from assistant.toolsets import problem_text, read_result
from assistant.workload import HeavyWork
from retrieval.index import DocumentIndex
from tools.broker import Broker
from tools.market_data import PriceStore

log = logging.getLogger(__name__)


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


class BusyConversationError(RuntimeError):
    """Another turn of the conversation held it for longer than a turn may last."""


class ChatService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        prices: PriceStore,
        index_factory: Callable[[], DocumentIndex],
        broker_factory: Callable[[], Broker],
        approvals: ApprovalService,
        *,
        model_name: str | None = None,
        hub: EventHub | None = None,
        heavy: HeavyWork | None = None,
        role_of: Callable[[str], Role | None] | None = None,
    ) -> None:
        self.settings, self.store, self.prices = settings, store, prices
        self.index_factory, self.broker_factory = index_factory, broker_factory
        self.approvals = approvals
        self.model_name = model_name or settings.model
        self.hub = hub or LocalEventHub()
        self.heavy = heavy or HeavyWork(settings.heavy_workers, settings.heavy_calls_per_key)
        self.role_of = role_of or (lambda user_id: None)
        self.last_tool_seconds = 0.0
        self.index_is_shared = False
        # Bounded work per process: every stream gets its first event at once, then waits
        # for a slot, instead of 100 turns fighting over the event loop and the GIL.
        self.turn_slots = settings.max_concurrent_turns or (
            (os.cpu_count() or 2) if self.model_name in ("offline", "") else 64
        )
        self._slots = asyncio.Semaphore(self.turn_slots)
        self.lease_seconds = settings.turn_timeout_seconds + 60
        self._running: set[asyncio.Task] = set()
        self._cleanups: set[asyncio.Future] = set()
        self.failures: dict[str, tuple[str, datetime]] = {}
        """The last failure of each kind (error code), for /readyz."""

    @cache  # noqa: B019 - one agent per service and model, built once
    def agent(self) -> Agent:
        return build_agent(
            resolve_model(self.model_name, self.settings, lambda: set(self.prices.symbols()))
        )

    def deps(self, user: User, conversation: ConversationRow | None = None) -> AgentDeps:
        """What tools get: in a conversation they may propose orders, outside one not."""
        return AgentDeps(
            settings=self.settings,
            store=self.prices,
            user=user,
            owner=conversation.user_id if conversation else user.id,
            conversation_id=conversation.id if conversation else "direct",
            index_factory=self.index_factory,
            broker_factory=self.broker_factory,
            heavy=self.heavy,
            orders=self.approvals if conversation else None,
            close_index=not self.index_is_shared,
        )

    # -- asking -----------------------------------------------------------------------

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
        if isinstance(conversation, str):
            conversation = await asyncio.to_thread(self.store.conversation_for, conversation, user)
        new = conversation is None
        if new:
            conversation = ConversationRow(
                id=new_id("conv"),
                user_id=user.id,
                channel=channel,
                model=self.model_name,
                title=question[:200],
                history_json=ModelMessagesTypeAdapter.dump_json(history or []).decode(),
            )
        async for event in self._detached(
            self._published(conversation.id, self._ask(conversation, user, question, new))
        ):
            yield event

    async def _detached(self, events: AsyncIterator[ChatEvent]) -> AsyncIterator[ChatEvent]:
        """Run a turn in a task of its own and relay its events. A client that goes away
        stops reading, not the turn: its answer is still stored, and at shutdown
        :meth:`drain` lets running turns finish."""
        queue: asyncio.Queue = asyncio.Queue()
        done = object()

        async def pump() -> None:
            try:
                async for event in events:
                    if isinstance(event, ErrorEvent):
                        self.failures[event.code] = (event.message, utcnow())
                    queue.put_nowait(event)
            except Exception:  # a bug: the stream still ends with an error event
                log.exception("turn failed")
                message = "an internal error ended this turn; it has been logged"
                queue.put_nowait(ErrorEvent(code="internal_error", message=message))
            finally:
                queue.put_nowait(done)

        self.detach(pump())
        while (event := await queue.get()) is not done:
            yield event

    def detach(self, work: Coroutine) -> asyncio.Task:
        """Run ``work`` as a task of its own that its caller going away does not cancel;
        :meth:`drain` waits for it at shutdown."""
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def drain(self, seconds: float) -> None:
        """Shutdown: wait up to ``seconds`` for running turns, then interrupt the rest
        (each stores a note that it was interrupted; the question is already stored)."""
        if not self._running:
            return
        _, late = await asyncio.wait(set(self._running), timeout=seconds)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=5)
        if self._cleanups:  # the notes of interrupted turns are being stored
            await asyncio.wait(set(self._cleanups), timeout=5)

    async def _ask(
        self, conversation: ConversationRow, user: User, question: str, new: bool
    ) -> AsyncIterator[ChatEvent]:
        yield MessageStart(conversation_id=conversation.id, model=self.model_name)
        holder = new_id("turn")
        try:
            if new:
                conversation = await asyncio.to_thread(
                    self.store.start_conversation, conversation, holder, self._expiry(), question
                )
            else:
                await self._claim(conversation.id, holder)
                conversation = await asyncio.to_thread(
                    self.store.continue_conversation, conversation.id, question, user.id
                )
            # orders still waiting from an earlier turn are closed with their outcome so far
            deferred = await asyncio.to_thread(self._outcomes_so_far, conversation)
        except BusyConversationError as exc:
            yield ErrorEvent(code="busy", message=str(exc))
            return
        except Exception as exc:
            await asyncio.to_thread(self._release, conversation.id, holder)
            yield _storage_error(exc)
            return
        async for event in self._turn(conversation, holder, user, question, deferred):
            yield event

    def _outcomes_so_far(self, conversation: ConversationRow) -> DeferredToolResults | None:
        calls = open_calls(ModelMessagesTypeAdapter.validate_json(conversation.history_json))
        if not calls:
            return None
        return results_for(calls, self._outcomes(conversation.id, [c.tool_call_id for c in calls]))

    def _outcomes(self, conversation_id: str, call_ids: list[str]) -> dict[str, OrderOutcome]:
        rows = self.store.approvals_of_calls(conversation_id, call_ids)
        return {row.tool_call_id: self.approvals.outcome(row) for row in rows}

    # -- resuming after decisions -------------------------------------------------------

    async def settle(self, conversation_id: str) -> ChatTurn | None:
        """Bring a conversation up to date with its orders' decisions: resume the paused
        run once every order of that model response is decided, or report decisions on
        orders a later question already closed as pending. None when nothing is due."""
        holder = new_id("settle")
        await self._claim(conversation_id, holder)
        try:
            conversation = await asyncio.to_thread(self.store.conversation, conversation_id)
            history = ModelMessagesTypeAdapter.validate_json(conversation.history_json)
            calls = open_calls(history)
            ids = [c.tool_call_id for c in calls]
            outcomes = await asyncio.to_thread(self._outcomes, conversation_id, ids)
            if calls and all(o.status.final for o in outcomes.values()):
                role = self.role_of(conversation.user_id) or Role.VIEWER
                owner = User(id=conversation.user_id, role=role)
                deferred = results_for(calls, outcomes)
                start = MessageStart(conversation_id=conversation_id, model=self.model_name)
                events = self._turn(conversation, holder, owner, None, deferred)
                holder = None  # the turn gives the lease back
                return await collect(self._published(conversation_id, _prepend(start, events)))
            waiting = waiting_returns(history)
            late = await asyncio.to_thread(self._outcomes, conversation_id, list(waiting))
            late = {k: o for k, o in late.items() if o.status.final}
            if not late:
                return None
            events = self._report_late(conversation, holder, history, waiting, late)
            holder = None
            return await collect(self._published(conversation_id, events))
        finally:
            if holder is not None:
                await asyncio.to_thread(self._release, conversation_id, holder)

    async def _report_late(
        self, conversation: ConversationRow, holder: str, history, waiting, late
    ) -> AsyncIterator[ChatEvent]:
        """Decisions on orders a later question closed as pending: the history gets the
        real outcome in place, the conversation a message saying what happened."""
        started = time.perf_counter()
        yield MessageStart(conversation_id=conversation.id, model=self.model_name)
        for call_id, outcome in late.items():
            waiting[call_id].content = outcome
        text = "\n".join(outcome.describe() for outcome in late.values())
        try:
            await asyncio.to_thread(
                self.store.finish_turn,
                conversation.id,
                holder,
                ModelMessagesTypeAdapter.dump_json(history).decode(),
                [("assistant", text, {"model": self.model_name, "decisions": list(late)})],
            )
        except Exception as exc:
            await asyncio.to_thread(self._release, conversation.id, holder)
            yield _storage_error(exc)
            return
        yield TextDelta(text=text)
        yield MessageEnd(usage={}, latency_ms=round((time.perf_counter() - started) * 1000, 1))

    # -- one turn -----------------------------------------------------------------------

    async def _turn(
        self,
        conversation: ConversationRow,
        holder: str,
        user: User,
        question: str | None,
        deferred: DeferredToolResults | None,
    ) -> AsyncIterator[ChatEvent]:
        """Run the agent under the lease ``holder`` holds; always gives the lease back."""
        started = time.perf_counter()
        deps = self.deps(user, conversation)
        limits = UsageLimits(
            tool_calls_limit=self.settings.max_tool_calls,
            total_tokens_limit=self.settings.max_tokens_per_turn,
        )
        answer: list[str] = []
        result, failure, stored = None, None, False
        try:
            history = ModelMessagesTypeAdapter.validate_json(conversation.history_json)
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
            failure = ErrorEvent(
                code="limit_exceeded", message=f"this question needs too many steps: {exc}"
            )
        except Exception as exc:  # a provider fault of any kind ends the turn, never the process
            log.warning("turn failed in %s: %s: %s", conversation.id, type(exc).__name__, exc)
            failure = ErrorEvent(
                code="model_error", message=f"the model failed: {type(exc).__name__}: {exc}"
            )
        finally:
            deps.close()
            self.last_tool_seconds = deps.tool_seconds  # for the overhead benchmark
            if result is None and failure is None:  # cancelled: client gone or shutdown
                self._in_background(
                    self._end_unanswered, conversation.id, holder, "(interrupted before an answer)"
                )
        if failure is not None:
            try:
                await asyncio.to_thread(
                    self._end_unanswered, conversation.id, holder, f"(failed: {failure.message})"
                )
            except Exception as exc:
                log.error("could not record the failed turn of %s: %s", conversation.id, exc)
            yield failure
            return
        try:
            approvals: list[ApprovalRow] = []
            if isinstance(result.output, DeferredToolRequests):
                approvals = await asyncio.to_thread(
                    self.approvals.pending, conversation.id, conversation.user_id, result.output
                )
            events = [approval_event(row) for row in approvals]
            note = pending_note(events)
            answer.append(note)
            meta = {"model": self.model_name, "approvals": [a.id for a in approvals]}
            await asyncio.to_thread(
                self.store.finish_turn,
                conversation.id,
                holder,
                result.all_messages_json().decode(),
                [("assistant", "".join(answer).strip(), meta)],
                approvals,
            )
            stored = True
        except (asyncio.CancelledError, GeneratorExit):
            if not stored:
                self._in_background(
                    self._end_unanswered, conversation.id, holder, "(interrupted before an answer)"
                )
            raise
        except Exception as exc:
            await asyncio.to_thread(self._release, conversation.id, holder)
            yield _storage_error(exc)
        returns = [
            p
            for m in result.new_messages()
            if isinstance(m, ModelRequest)
            for p in m.parts
            if isinstance(p, ToolReturnPart)
        ]
        if not stored:
            return
        for c in citations(returns):
            yield CitationEvent(
                n=c.n,
                doc_id=c.doc_id,
                title=c.title,
                source=c.source,
                date=c.published_at,
                snippet=c.snippet,
            )
        for event in events:
            yield event
        if note:
            yield TextDelta(text=note)
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
            part = event.part
            result = read_result(part)
            chart = result.chart if isinstance(result, BacktestSummary) else None
            summary = (
                result.summary()
                if result is not None
                else f"{part.tool_name} failed: {problem_text(part.content)}"
            )
            return [
                ToolResult(
                    id=part.tool_call_id,
                    name=part.tool_name,
                    summary=summary,
                    artifact_url=chart.url if chart else None,
                )
            ]
        return []

    # -- leases and housekeeping ----------------------------------------------------------

    def _expiry(self):
        return utcnow() + timedelta(seconds=self.lease_seconds)

    async def _claim(self, conversation_id: str, holder: str) -> None:
        """Wait for the conversation's lease (another turn of it may be running)."""
        deadline = time.monotonic() + self.settings.turn_timeout_seconds
        pause = 0.05
        while not await asyncio.to_thread(
            self.store.claim, conversation_id, holder, self._expiry()
        ):
            if time.monotonic() > deadline:
                raise BusyConversationError(
                    "another turn of this conversation is still running: try again shortly"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _release(self, conversation_id: str, holder: str) -> None:
        try:
            self.store.release(conversation_id, holder)
        except Exception as exc:  # the lease lapses by itself
            log.error("could not release %s: %s", conversation_id, exc)

    def _end_unanswered(self, conversation_id: str, holder: str, note: str) -> None:
        """The question stays stored; say why no answer followed, and give the lease back."""
        conversation = self.store.conversation(conversation_id)
        meta = {"model": self.model_name, "error": note}
        try:
            self.store.finish_turn(
                conversation_id, holder, conversation.history_json, [("assistant", note, meta)]
            )
        except Exception:
            self._release(conversation_id, holder)
            raise

    def _in_background(self, fn: Callable, *args) -> None:
        """Run cleanup in a thread even when the turn's task is being cancelled."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            fn(*args)
            return
        cleanup = loop.run_in_executor(None, _logged(fn), *args)
        self._cleanups.add(cleanup)
        cleanup.add_done_callback(self._cleanups.discard)

    async def _published(
        self, conversation_id: str, events: AsyncIterator[ChatEvent]
    ) -> AsyncIterator[ChatEvent]:
        async for event in events:
            yield event  # the asker first; watchers (maybe through Redis) right after
            await self.hub.publish(conversation_id, event)


def pending_note(approvals: list[ApprovalRequired]) -> str:
    lines = []
    for a in approvals:
        checks = (
            "all pre-trade checks passed"
            if a.risk_checks.get("passed")
            else "pre-trade checks failed"
        )
        lines.append(
            f"Order proposed: {describe_order(a.order)}. It is waiting for approval {a.approval_id} by "
            f"an approver (expires {a.expires_at:%Y-%m-%d %H:%M} UTC); {checks}."
        )
    return ("\n\n" if lines else "") + "\n".join(lines)


def _storage_error(exc: Exception) -> ErrorEvent:
    log.error("storage failed: %s: %s", type(exc).__name__, exc)
    return ErrorEvent(
        code="storage_error",
        message=f"the conversation could not be stored ({type(exc).__name__}); please retry",
    )


def _logged(fn: Callable) -> Callable:
    def run(*args):
        try:
            fn(*args)
        except Exception as exc:
            log.error("cleanup %s failed: %s", fn.__name__, exc)

    return run


async def _prepend(first: ChatEvent, rest: AsyncIterator[ChatEvent]) -> AsyncIterator[ChatEvent]:
    yield first
    async for event in rest:
        yield event


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
