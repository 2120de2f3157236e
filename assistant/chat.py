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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults
from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.messages import (
    AgentStreamEvent,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    RetryPromptPart,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.run import AgentRunResultEvent
from pydantic_ai.usage import UsageLimits

from assistant.agent import build_agent
from assistant.approval_text import approval_event, pending_line, pending_note
from assistant.approvals import ApprovalService
from assistant.auth import Role, User
from assistant.citations import citations
from assistant.deferred import open_calls, results_for, waiting_returns
from assistant.deps import AgentDeps
from assistant.events import (
    ChatEvent,
    ChatTurn,
    CitationEvent,
    ErrorEvent,
    MessageEnd,
    MessageStart,
    TextDelta,
    ToolCall,
    ToolResult,
    collect,
)
from assistant.hub import EventHub, LocalEventHub
from assistant.models import resolve_model
from assistant.models.offline.dates import pinned_date
from assistant.resources import live_prices
from assistant.results import BacktestSummary, OrderOutcome
from assistant.settings import Settings
from assistant.store import ApprovalRow, ConversationRow, Store, new_id
from assistant.toolsets import problem_text, read_result
from assistant.turns import BusyConversationError, Turns
from assistant.workload import HeavyWork
from tools.broker import Broker
from tools.market_data import PriceStore

if TYPE_CHECKING:  # Qdrant's client takes 1.3 s to import; a question may never search
    from assistant.alerts import AlertService
    from assistant.briefings import BriefingService
    from assistant.profiles import ProfileStore
    from assistant.watchlists import WatchlistStore
    from retrieval.index import DocumentIndex

log = logging.getLogger(__name__)


@dataclass
class Due:
    """A conversation's pending work from decisions (see :meth:`ChatService._due`)."""

    history: list
    resume: DeferredToolResults | None = None
    waiting: dict = field(default_factory=dict)
    late: dict[str, OrderOutcome] = field(default_factory=dict)


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
        profiles: ProfileStore | None = None,
        watchlists: WatchlistStore | None = None,
    ) -> None:
        self.settings, self.store, self.prices = settings, store, prices
        self.profiles, self.watchlists = profiles, watchlists
        self.alerts: AlertService | None = None
        self.briefings: BriefingService | None = None
        """Set by the services once built (they need the chat's live prices)."""
        self.index_factory, self.broker_factory = index_factory, broker_factory
        self.approvals = approvals
        self.model_name = model_name or settings.model
        self.hub = hub or LocalEventHub()
        self.heavy = heavy or HeavyWork(settings.heavy_workers, settings.heavy_calls_per_key)
        self.role_of = role_of or (lambda user_id: None)
        self.last_tool_seconds = 0.0
        self.index_is_shared = False
        self.live = live_prices(settings, prices)
        # Bounded work per process: every stream gets its first event at once, then waits
        # for a slot, instead of 100 turns fighting over the event loop and the GIL.
        self.turn_slots = settings.max_concurrent_turns or (
            (os.cpu_count() or 2) if self.model_name in ("offline", "") else 64
        )
        self._slots = asyncio.Semaphore(self.turn_slots)
        self.turns = Turns(store, settings.turn_timeout_seconds)

    @cache  # noqa: B019 - one agent per service and model, built once
    def agent(self) -> Agent:
        return build_agent(resolve_model(self.model_name, self.settings, self.prices))

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
            live=self.live,
            as_of=conversation.as_of if conversation else None,
            orders=self.approvals if conversation else None,
            profiles=self.profiles,
            watchlists=self.watchlists,
            alerts=self.alerts,
            briefings=self.briefings,
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
        as_of: date | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """One turn. ``conversation`` continues one, by id or as already loaded (the API
        loads it first to answer 404 before streaming); ``history`` seeds a new one (the
        OpenAI-style API sends it); ``as_of`` pins the conversation to that date."""
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
                as_of=as_of,
            )
        async for event in self.turns.relay(
            self._published(conversation.id, self._ask(conversation, user, question, new, as_of))
        ):
            yield event

    async def _ask(
        self,
        conversation: ConversationRow,
        user: User,
        question: str,
        new: bool,
        as_of: date | None = None,
    ) -> AsyncIterator[ChatEvent]:
        yield MessageStart(conversation_id=conversation.id, model=self.model_name)
        holder = new_id("turn")
        try:
            if new:
                conversation = await asyncio.to_thread(
                    self.store.start_conversation,
                    conversation,
                    holder,
                    self.turns.expiry(),
                    question,
                )
            else:
                await self.turns.claim(conversation.id, holder)
                conversation = await asyncio.to_thread(
                    self.store.continue_conversation, conversation.id, question, user.id, as_of
                )
            # orders still waiting from an earlier turn are closed with their outcome so far
            deferred, decided = await asyncio.to_thread(self._outcomes_so_far, conversation)
        except BusyConversationError as exc:
            yield ErrorEvent(code="busy", message=str(exc))
            return
        except Exception as exc:
            await asyncio.to_thread(self.turns.release, conversation.id, holder)
            yield _storage_error(exc)
            return
        async for event in self._turn(conversation, holder, user, question, deferred, decided):
            yield event

    def _outcomes_so_far(
        self, conversation: ConversationRow
    ) -> tuple[DeferredToolResults | None, list[str]]:
        """A new question closes the orders still open in the history with their outcome
        so far; those already decided are also said in this turn's answer."""
        calls = open_calls(ModelMessagesTypeAdapter.validate_json(conversation.history_json))
        if not calls:
            return None, []
        outcomes = self._outcomes(conversation.id, [c.tool_call_id for c in calls])
        decided = [o.describe() for o in outcomes.values() if o.status.final]
        return results_for(calls, outcomes), decided

    def _outcomes(self, conversation_id: str, call_ids: list[str]) -> dict[str, OrderOutcome]:
        rows = self.store.approvals_of_calls(conversation_id, call_ids)
        return {row.tool_call_id: self.approvals.outcome(row) for row in rows}

    # -- resuming after decisions -------------------------------------------------------

    def _due(self, conversation: ConversationRow) -> Due:
        """What the conversation's orders' decisions call for now: resuming the paused run
        (every order of its last model response decided), or reporting decisions on orders
        a later question closed while they still waited; or nothing."""
        history = ModelMessagesTypeAdapter.validate_json(conversation.history_json)
        calls = open_calls(history)
        outcomes = self._outcomes(conversation.id, [c.tool_call_id for c in calls])
        if calls and all(o.status.final for o in outcomes.values()):
            return Due(history=history, resume=results_for(calls, outcomes))
        waiting = waiting_returns(history)
        late = self._outcomes(conversation.id, list(waiting))
        return Due(
            history=history,
            waiting=waiting,
            late={k: o for k, o in late.items() if o.status.final},
        )

    def due(self, conversation_id: str) -> bool:
        """Whether :meth:`settle` has work in this conversation (read-only; for the sweep)."""
        due = self._due(self.store.conversation(conversation_id))
        return bool(due.resume or due.late)

    async def settle(self, conversation_id: str) -> ChatTurn | None:
        """Bring a conversation up to date with its orders' decisions (see :meth:`_due`).
        None when nothing is due."""
        holder = new_id("settle")
        await self.turns.claim(conversation_id, holder)
        try:
            conversation = await asyncio.to_thread(self.store.conversation, conversation_id)
            due = await asyncio.to_thread(self._due, conversation)
            if due.resume is not None:
                role = self.role_of(conversation.user_id) or Role.VIEWER
                owner = User(id=conversation.user_id, role=role)
                start = MessageStart(conversation_id=conversation_id, model=self.model_name)
                events = self._turn(conversation, holder, owner, None, due.resume)
                holder = None  # the turn gives the lease back
                return await collect(self._published(conversation_id, _prepend(start, events)))
            if not due.late:
                return None
            events = self._report_late(conversation, holder, due.history, due.waiting, due.late)
            holder = None
            return await collect(self._published(conversation_id, events))
        finally:
            if holder is not None:
                await asyncio.to_thread(self.turns.release, conversation_id, holder)

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
            await asyncio.to_thread(self.turns.release, conversation.id, holder)
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
        preface: list[str] = (),
    ) -> AsyncIterator[ChatEvent]:
        """Run the agent under the lease ``holder`` holds; always gives the lease back.
        ``preface``: sentences said before the model's answer (decisions it closes)."""
        started = time.perf_counter()
        deps = self.deps(user, conversation)
        if deps.as_of is None and question and (day := pinned_date(question)):
            # "as of March 1 2020, ...": the conversation stays there for its follow-ups
            deps.as_of = day
            await asyncio.to_thread(self.store.pin, conversation.id, day)
        limits = UsageLimits(
            tool_calls_limit=self.settings.max_tool_calls,
            total_tokens_limit=self.settings.max_tokens_per_turn,
        )
        answer: list[str] = []
        # calls of an earlier turn that this run resolves (decided, or still waiting): not
        # shown again as calls of this turn, which would read as a second order
        resumed = set(deferred.approvals) | set(deferred.calls) if deferred else set()
        if preface:
            answer.append("\n".join(preface) + "\n\n")
            yield TextDelta(text=answer[0])
        result, failure, stored = None, None, False
        try:
            history = ModelMessagesTypeAdapter.validate_json(conversation.history_json)
            # built once (the offline model reads its security master): not on the loop
            agent = await asyncio.to_thread(self.agent)
            async with (
                asyncio.timeout(self.settings.turn_timeout_seconds),
                self._slots,
                agent.run_stream_events(
                    question,
                    message_history=history,
                    deps=deps,
                    deferred_tool_results=deferred,
                    usage_limits=limits,
                ) as events,
            ):
                async for event in events:
                    for out in self._translate(event, answer, resumed):
                        yield out
                    if isinstance(event, AgentRunResultEvent):
                        result = event.result
        except UsageLimitExceeded as exc:
            failure = ErrorEvent(
                code="limit_exceeded", message=f"this question needs too many steps: {exc}"
            )
        except TimeoutError:
            failure = ErrorEvent(
                code="timeout",
                message=f"the turn took longer than {self.settings.turn_timeout_seconds}s",
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
                self.turns.in_background(
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
        returns = [
            p
            for m in result.new_messages()
            if isinstance(m, ModelRequest)
            for p in m.parts
            if isinstance(p, ToolReturnPart | RetryPromptPart)
        ]
        try:
            approvals: list[ApprovalRow] = []
            note = ""
            if isinstance(result.output, DeferredToolRequests):
                approvals = await asyncio.to_thread(
                    self.approvals.pending, conversation.id, conversation.user_id, result.output
                )
            events = [approval_event(row) for row in approvals]
            if events:
                asked = {
                    part.tool_call_id: i
                    for i, part in enumerate(
                        p
                        for m in result.new_messages()
                        if isinstance(m, ModelResponse)
                        for p in m.parts
                        if isinstance(p, ToolCallPart)
                    )
                }
                lines = [
                    (asked.get(row.tool_call_id, 0), pending_line(event))
                    for row, event in zip(approvals, events, strict=True)
                ]
                lines += [(asked.get(i, 0), text) for i, text in _order_outcomes(returns)]
                note = pending_note(lines)
                if "".join(answer).strip():
                    note = "\n\n" + note
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
                self.turns.in_background(
                    self._end_unanswered, conversation.id, holder, "(interrupted before an answer)"
                )
            raise
        except Exception as exc:
            await asyncio.to_thread(self.turns.release, conversation.id, holder)
            yield _storage_error(exc)
        returns = [p for p in returns if isinstance(p, ToolReturnPart)]
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
                url=c.url,
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

    def _translate(
        self, event: AgentStreamEvent, answer: list[str], resumed: set[str] = frozenset()
    ) -> list[ChatEvent]:
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
            if event.part.tool_call_id in resumed:
                return []
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
                *_fetch_steps(part.tool_call_id, result),
                ToolResult(
                    id=part.tool_call_id,
                    name=part.tool_name,
                    summary=summary,
                    ok=result is not None,
                    artifact_url=chart.url if chart else None,
                ),
            ]
        return []

    def _end_unanswered(self, conversation_id: str, holder: str, note: str) -> None:
        """The question stays stored; say why no answer followed, and give the lease back."""
        conversation = self.store.conversation(conversation_id)
        meta = {"model": self.model_name, "error": note}
        try:
            self.store.finish_turn(
                conversation_id, holder, conversation.history_json, [("assistant", note, meta)]
            )
        except Exception:
            self.turns.release(conversation_id, holder)
            raise

    async def _published(
        self, conversation_id: str, events: AsyncIterator[ChatEvent]
    ) -> AsyncIterator[ChatEvent]:
        async for event in events:
            yield event  # the asker first; watchers (maybe through Redis) right after
            await self.hub.publish(conversation_id, event)


def _fetch_steps(call_id: str, result) -> list[ChatEvent]:
    """Prices a tool fetched from the provider, each shown as a step of its own."""
    steps: list[ChatEvent] = []
    for fetch in getattr(result, "fetched", None) or []:
        step = f"{call_id}:fetch:{fetch.symbol}"
        args = {"symbol": fetch.symbol, "provider": fetch.provider}
        steps.append(ToolCall(id=step, name="fetch_prices", args=args))
        steps.append(
            ToolResult(
                id=step,
                name="fetch_prices",
                summary=f"{fetch.symbol}: {fetch.bars:,} bars from {fetch.provider}, "
                f"to {fetch.end}",
            )
        )
    return steps


def _storage_error(exc: Exception) -> ErrorEvent:
    log.error("storage failed: %s: %s", type(exc).__name__, exc)
    return ErrorEvent(
        code="storage_error",
        message=f"the conversation could not be stored ({type(exc).__name__}); please retry",
    )


async def _prepend(first: ChatEvent, rest: AsyncIterator[ChatEvent]) -> AsyncIterator[ChatEvent]:
    yield first
    async for event in rest:
        yield event


def _order_outcomes(parts: list[ToolReturnPart | RetryPromptPart]) -> list[tuple[str, str]]:
    """(tool call id, sentence) for the orders of a paused turn that were settled at once:
    refused by the checks, or not proposable at all."""
    out = []
    for part in parts:
        if part.tool_name != "place_order":
            continue
        if isinstance(part, RetryPromptPart):
            out.append(
                (part.tool_call_id, f"The order was not placed: {problem_text(part.content)}.")
            )
        elif (outcome := read_result(part)) is not None:
            out.append((part.tool_call_id, outcome.describe()))
    return out
