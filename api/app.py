"""The FastAPI service: SSE chat, an OpenAI-compatible endpoint, approvals, direct tool
calls, search, ingest, health and metrics. Stateless apart from the database and the
index, so several processes can run behind a load balancer (with a Qdrant server: the
embedded index is owned by one process).
"""

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart
from sqlalchemy import text
from sse_starlette import EventSourceResponse

from api import errors
from api.auth import SESSION_COOKIE, Authenticator, credential, is_loopback
from api.docs import install_docs
from api.limits import install_middleware
from api.metrics import Metrics
from api.tool_routes import add_tool_routes
from assistant.approvals import approval_event
from assistant.auth import Role, User
from assistant.events import ErrorEvent, MessageEnd, TextDelta, ToolCall, collect
from assistant.keys import KeyStore
from assistant.logs import Throttled
from assistant.resources import chunk_settings, document_index, engine
from assistant.results import ApprovalStatus
from assistant.services import Services, build_services
from assistant.settings import Settings, get_settings, mask_url_password
from assistant.store import utcnow
from ingest.pipeline import ingest, sample_documents
from ingest.sentiment import load_sentiment
from retrieval.models import (
    DocType,
    Document,
    PublishedDay,
    SearchFilters,
    StoredText,
    Ticker,
)

log = logging.getLogger(__name__)
MODEL_ID = "market-assistant"
DECISION_WAIT = 30.0
"""How long a decision's answer waits for the resumed run before it returns without it
(the run goes on; watchers of the conversation see it)."""
STREAM_RECHECK_SECONDS = 5.0
"""How often an open stream re-checks its caller's key (a revocation takes at most this
plus the key cache's lifetime to stop it)."""
__all__ = ["create_app", "is_loopback"]


# -- request models -----------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad request",
        401: "Missing or invalid key",
        403: "Role too low",
        404: "Not found",
        408: "Request body too slow",
        409: "Conflict",
        413: "Too large",
        422: "Invalid request",
        429: "Rate limited",
        502: "Model failed",
        504: "Turn timed out",
    }.items()
}
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events; each data line is a JSON event with a type",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {"type": "string", "description": "a JSON chat event"},
                        "event": {"type": "string"},
                        "id": {"type": "string"},
                    },
                }
            }
        },
    },
}


def not_blank(text: str) -> str:
    """Spaces are not a question (the CLI, Slack and the widget refuse them too)."""
    if not text.strip():
        raise ValueError("the message is empty")
    return text


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Annotated[StoredText, AfterValidator(not_blank)] = Field(min_length=1)
    conversation_id: str | None = Field(None, max_length=100)
    as_of: date | None = Field(
        None,
        ge=date(1900, 1, 1),
        le=date(2100, 12, 31),
        description="Pin the conversation to this date: its tools see nothing later.",
    )

    @field_validator("as_of")
    @classmethod
    def _not_future(cls, day: date | None) -> date | None:
        if day is not None and day > date.today():
            raise ValueError(f"{day} is in the future: nothing is known on it yet")
        return day


class ContentPart(BaseModel):
    """One part of an OpenAI message's content list; only text parts are read."""

    type: str = Field(max_length=50)
    text: StoredText | None = None


class OpenAIMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: StoredText | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class CompletionRequest(BaseModel):
    model: str = MODEL_ID
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False


class RejectRequest(BaseModel):
    reason: StoredText = Field("rejected", max_length=500)


class DocumentIn(Document):
    """A document sent to the API: fields it does not know are refused, not dropped."""

    model_config = ConfigDict(extra="forbid")


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: StrictBool = False
    documents: list[DocumentIn] = Field(default_factory=list, max_length=500)


# -- the app ------------------------------------------------------------------------------


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    login_token: str | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    if settings.auth == "off" and not is_loopback(settings.host):
        where = repr(settings.host) if settings.host else "every interface"
        raise RuntimeError(
            f"refusing ASSISTANT_AUTH=off on non-loopback host {where}: anyone who can reach "
            "it would be an admin. Bind 127.0.0.1, or turn auth on and create keys."
        )
    services = services or build_services(settings)
    keys = KeyStore(engine(settings))
    auth = Authenticator(settings, keys)
    shared: dict[str, Any] = {}
    index_lock = threading.Lock()

    def shared_index():
        """Built on first use, in a worker thread (loading the embedder takes seconds)."""
        with index_lock:
            if "index" not in shared:
                shared["index"] = document_index(settings)
        return shared["index"]

    services.chat.index_factory = shared_index
    services.chat.index_is_shared = True

    sweep_warnings = Throttled(log)

    async def housekeeping() -> None:
        """Overdue approvals expire (and their runs resume) without anyone touching them,
        and resting paper orders fill once the stored prices reach them.

        Several processes may sweep at once: the pending→expired transition is a
        compare-and-set, so each approval expires, and is announced, exactly once.
        """
        while True:
            await asyncio.sleep(settings.approval_sweep_seconds)
            try:
                await services.decisions.expire_due(wait=0)  # updates go on in the background
                await services.decisions.catch_up()
                paper = await asyncio.to_thread(services.approvals.broker_factory)
                if hasattr(paper, "process_open_orders"):
                    await asyncio.to_thread(paper.process_open_orders)
            except Exception as exc:  # a database hiccup must not end the sweep
                sweep_warnings.warning(
                    "sweep", "housekeeping sweep failed: %s: %s", type(exc).__name__, exc
                )

    async def catch_up() -> None:
        """What a stop left behind: approvals between decision and broker, and approvals
        that expired meanwhile. In the background: serving never waits for a broker or
        for a conversation a crashed turn still holds."""
        try:
            await services.decisions.reconcile(wait=0)
            await services.decisions.expire_due(wait=0)
        except Exception as exc:
            log.error("start-up reconciliation failed: %s: %s", type(exc).__name__, exc)

    async def prepare_model() -> None:
        """The offline model's intent model is prepared once per model cache (seconds):
        at start, in a thread, rather than inside the first user's question."""
        if settings.model not in ("offline", ""):
            return
        from assistant.models.offline import prepare

        try:
            await asyncio.to_thread(prepare, settings.effective_model_cache_dir)
        except Exception as exc:  # the planner still routes on keywords
            log.warning("offline model not prepared at start: %s: %s", type(exc).__name__, exc)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        services.chat.turns.detach(catch_up())
        services.chat.turns.detach(prepare_model())
        sweeper = asyncio.create_task(housekeeping())
        yield
        sweeper.cancel()
        await services.chat.turns.drain(1.0)  # streams already had the grace period to finish
        services.chat.heavy.close()
        await services.chat.hub.aclose()
        if "index" in shared:
            shared["index"].close()

    app = FastAPI(
        title="Market Assistant",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # install_docs: the same page from local files
    )
    install_docs(app)
    app.state.services, app.state.keys, app.state.login_tokens = services, keys, set()
    if login_token:
        app.state.login_tokens.add(login_token)
    metrics = Metrics()
    app.state.metrics = metrics
    errors.install(app)
    install_middleware(app, settings, metrics)
    shutting_down = asyncio.Event()  # set by sse-starlette when the server begins to stop
    app.state.shutting_down = shutting_down
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )

    async def current_user(request: Request) -> User:
        return await auth.current_user(request)

    def role(needed: Role):
        async def check(user: Annotated[User, Depends(current_user)]) -> User:
            if not user.role.allows(needed):
                raise HTTPException(
                    403, f"{needed.value} role required (you are {user.role.value})"
                )
            return user

        return check

    Viewer = Annotated[User, Depends(role(Role.VIEWER))]
    Approver = Annotated[User, Depends(role(Role.APPROVER))]
    Admin = Annotated[User, Depends(role(Role.ADMIN))]

    def check_length(message: str) -> None:
        if len(message) > settings.max_message_chars:
            raise HTTPException(
                413,
                f"message is {len(message)} characters; the limit is {settings.max_message_chars}",
            )

    async def guarded(
        events: AsyncIterator, token: str | None, *, drain: bool = True
    ) -> AsyncIterator:
        """A stream's guard: the turn's timeout, the caller's key (revoked: the stream
        stops) and shutdown (a turn may finish within the grace period, then the stream
        ends with an error event; a watcher stops at once). Any end has an event."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        next_check = started + STREAM_RECHECK_SECONDS
        drain_until: float | None = None
        iterator = aiter(events)
        pending: asyncio.Future | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(iterator))
                done, _ = await asyncio.wait({pending}, timeout=0.5)
                if pending in done:
                    try:
                        event = pending.result()
                    except StopAsyncIteration:
                        return
                    finally:
                        pending = None
                    if isinstance(event, ToolCall):
                        metrics.tool_calls.labels(event.name).inc()
                    if isinstance(event, MessageEnd):
                        metrics.tokens.labels("input").inc(event.usage.get("input_tokens", 0))
                        metrics.tokens.labels("output").inc(event.usage.get("output_tokens", 0))
                    yield event
                now = loop.time()
                if drain and now - started > settings.turn_timeout_seconds:
                    yield ErrorEvent(
                        code="timeout",
                        message=f"the turn took longer than {settings.turn_timeout_seconds}s",
                    )
                    return
                if shutting_down.is_set():
                    grace = settings.shutdown_grace_seconds if drain else 0.0
                    drain_until = drain_until or now + grace
                    if now >= drain_until:
                        yield ErrorEvent(
                            code="shutting_down",
                            message="the server is restarting; your question is kept: ask again",
                        )
                        return
                if now >= next_check:
                    next_check = now + STREAM_RECHECK_SECONDS
                    if not await auth.still_valid(token):
                        yield ErrorEvent(
                            code="unauthorized",
                            message="your key was revoked or your session ended",
                        )
                        return
        finally:
            if pending is not None:
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
            await iterator.aclose()

    def sse(events: AsyncIterator, *, drain: bool = True) -> EventSourceResponse:
        async def frames():
            async for event in events:
                yield {"data": event.model_dump_json()}

        # sse-starlette's own shutdown handling waits a little longer than our drain, so
        # the turn's last event (or the shutdown error) is sent before it cancels
        grace = settings.shutdown_grace_seconds + 2 if drain else 0
        return EventSourceResponse(
            frames(), ping=15, shutdown_event=shutting_down, shutdown_grace_period=grace
        )

    # -- chat --------------------------------------------------------------------------

    @app.post(
        "/v1/chat",
        tags=["chat"],
        summary="Ask a question; server-sent events stream the answer",
        response_class=EventSourceResponse,
        responses=SSE_RESPONSE,
    )
    async def chat(body: ChatRequest, user: Viewer, request: Request):
        check_length(body.message)
        conversation = None
        if body.conversation_id:  # a 404 now, before the stream has started
            conversation = await asyncio.to_thread(
                services.store.conversation_for, body.conversation_id, user
            )
        turn = services.chat.stream(
            body.message, user, conversation, channel="api", as_of=body.as_of
        )
        return sse(guarded(turn, credential(request)))

    @app.post("/v1/chat/completions", tags=["openai"], summary="OpenAI-compatible chat completions")
    async def completions(body: CompletionRequest, user: Viewer, request: Request):
        users = [m for m in body.messages if m.role == "user"]
        if not users or not users[-1].text().strip():
            raise HTTPException(422, "messages must end with a user message that has text")
        question = users[-1].text()
        check_length(question)
        history: list = []
        for m in body.messages[: body.messages.index(users[-1])]:
            if m.role == "user":
                history.append(ModelRequest(parts=[UserPromptPart(m.text())]))
            elif m.role == "assistant" and m.text():
                history.append(ModelResponse(parts=[TextPart(m.text())]))
        events = guarded(
            services.chat.stream(question, user, channel="openai", history=history),
            credential(request),
        )
        created, cid = int(time.time()), f"chatcmpl-{secrets.token_hex(8)}"
        if not body.stream:
            turn = await collect(events)
            if turn.error:
                status = {"timeout": 504, "busy": 409, "unauthorized": 401}.get(turn.error.code)
                status = status or (503 if turn.error.code == "shutting_down" else 502)
                return errors.error(status, turn.error.code, turn.error.message)
            usage = next((e.usage for e in turn.events if isinstance(e, MessageEnd)), {})
            return {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": MODEL_ID,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": turn.answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": usage.get("input_tokens", 0),
                    "completion_tokens": usage.get("output_tokens", 0),
                    "total_tokens": usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
                },
                "conversation_id": turn.conversation_id,
                "approvals": [a.model_dump(mode="json") for a in turn.approvals],
            }

        async def chunks():
            base = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
            }
            yield {
                "data": json.dumps(
                    {
                        **base,
                        "choices": [
                            {"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}
                        ],
                    }
                )
            }
            async for event in events:
                if isinstance(event, TextDelta):
                    delta = {"content": event.text}
                elif isinstance(event, ErrorEvent):
                    delta = {"content": f"\n[error {event.code}: {event.message}]"}
                else:
                    continue
                yield {
                    "data": json.dumps(
                        {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    )
                }
            yield {
                "data": json.dumps(
                    {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                )
            }
            yield {"data": "[DONE]"}

        return EventSourceResponse(
            chunks(),
            shutdown_event=shutting_down,
            shutdown_grace_period=settings.shutdown_grace_seconds + 2,
        )

    @app.get("/v1/models", tags=["openai"])
    async def models(_: Viewer):
        return {
            "object": "list",
            "data": [
                {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "market-assistant"}
            ],
        }

    @app.get("/v1/conversations/{conversation_id}", tags=["chat"])
    async def conversation(conversation_id: str, user: Viewer):
        row = await asyncio.to_thread(services.store.conversation_for, conversation_id, user)
        messages = await asyncio.to_thread(services.store.messages, conversation_id)
        return {
            "id": row.id,
            "title": row.title,
            "model": row.model,
            "channel": row.channel,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "messages": [
                {
                    "role": m.role,
                    "content": m.content,
                    "created_at": m.created_at,
                    "meta": json.loads(m.meta_json),
                }
                for m in messages
            ],
        }

    @app.get(
        "/v1/conversations/{conversation_id}/events",
        tags=["chat"],
        summary="Server-sent events of every later turn, e.g. a run resumed by an approval",
        response_class=EventSourceResponse,
        responses=SSE_RESPONSE,
    )
    async def conversation_events(conversation_id: str, user: Viewer, request: Request):
        await asyncio.to_thread(services.store.conversation_for, conversation_id, user)
        watched = services.chat.hub.subscribe(conversation_id)
        return sse(guarded(watched, credential(request), drain=False), drain=False)

    # -- approvals ---------------------------------------------------------------------

    @app.get("/v1/approvals", tags=["approvals"])
    async def approvals(
        _: Approver,
        status: ApprovalStatus | Literal["all"] = Query(
            ApprovalStatus.PENDING, description="A state, or all"
        ),
    ):
        rows = await asyncio.to_thread(
            services.store.approvals, None if status == "all" else status
        )
        return [
            {
                **approval_event(r).model_dump(mode="json"),
                "status": r.status,
                "requested_by": r.requested_by,
                "decided_by": r.decided_by,
                "reason": r.reason,
            }
            for r in rows
        ]

    @app.post("/v1/approvals/{approval_id}/approve", tags=["approvals"])
    async def approve(approval_id: str, user: Approver):
        decision = await services.decisions.approve(approval_id, user, wait=DECISION_WAIT)
        metrics.approvals.labels(decision.status).inc()
        return decision

    @app.post("/v1/approvals/{approval_id}/reject", tags=["approvals"])
    async def reject(approval_id: str, user: Approver, body: RejectRequest | None = None):
        decision = await services.decisions.reject(
            approval_id, user, (body or RejectRequest()).reason, wait=DECISION_WAIT
        )
        metrics.approvals.labels(decision.status).inc()
        return decision

    # -- direct tools, search, ingest ----------------------------------------------------

    add_tool_routes(app, services.chat, Viewer, metrics)

    @app.get("/v1/search", tags=["search"])
    async def search(
        _: Viewer,
        q: Annotated[StoredText, Query(min_length=1, max_length=1000)],
        ticker: Annotated[list[Ticker], Query(max_length=20)] = [],  # noqa: B006 - FastAPI copies it
        type: DocType | None = None,
        as_of: Annotated[PublishedDay | None, Query()] = None,
        k: Annotated[int, Query(ge=1, le=50)] = 5,
    ):
        if as_of and as_of > date.today():
            raise HTTPException(422, f"as_of: {as_of} is in the future")
        filters = SearchFilters(tickers=ticker or None, doc_type=type, as_of=as_of)
        index = await asyncio.to_thread(shared_index)
        await asyncio.to_thread(index.check_tickers, filters.tickers or [])
        return await asyncio.to_thread(index.search, q, filters, k=k)

    @app.post("/v1/ingest", tags=["ingest"], summary="Add documents to the index (admin)")
    async def ingest_documents(body: IngestRequest, _: Admin):
        items = [*(sample_documents() if body.sample else []), *body.documents]
        if not items:
            raise HTTPException(422, "nothing to ingest: send documents or sample=true")
        sentiment, note = await asyncio.to_thread(load_sentiment, settings.sentiment_model)
        index = await asyncio.to_thread(shared_index)
        report = await asyncio.to_thread(
            ingest, index, items, settings=chunk_settings(settings), sentiment=sentiment
        )
        if note:
            report.notes.append(note)
        return report

    # -- health, metrics, login -------------------------------------------------------------

    @app.get("/healthz", tags=["ops"])
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz():
        """Ready when the database takes writes, the index opens and Redis (if configured)
        answers; each failing part says why."""
        checks: dict[str, str] = {}

        def database() -> None:
            with services.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            services.store.check_writable()

        def index() -> None:
            shared_index().count()

        for name, probe in (("database", database), ("index", index)):
            try:
                await asyncio.to_thread(probe)
                checks[name] = "ok"
            except Exception as exc:  # readiness reports, it does not raise
                checks[name] = f"error: {type(exc).__name__}: {exc}"[:300]
        if settings.redis_url:  # shared rate limits and cross-process conversation events
            try:
                from redis.asyncio import Redis

                async with Redis.from_url(settings.redis_url, socket_connect_timeout=1) as r:
                    await r.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                where = mask_url_password(settings.redis_url)
                checks["redis"] = f"error: {type(exc).__name__} at {where}"
        checks["model"] = services.chat.model_name
        ready = all(v == "ok" for k, v in checks.items() if k != "model")
        recent = utcnow() - timedelta(minutes=15)
        failures = {
            code: {"message": message[:300], "at": at.isoformat()}
            for code, (message, at) in services.chat.turns.failures.items()
            if at > recent
        }
        # an open breaker does not make the service unready: answers use the store
        live = services.chat.live
        provider = live.status().model_dump() if live else {"provider": "none"}
        return JSONResponse(
            {
                "ready": ready,
                "checks": checks,
                "recent_turn_failures": failures,
                "price_provider": provider,
            },
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"])
    async def prometheus():
        counts = await asyncio.to_thread(services.store.approval_counts)
        return Response(metrics.render(counts), media_type="text/plain; version=0.0.4")

    if settings.slack_bot_token and settings.slack_signing_secret:
        from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

        from api.slack import SlackDeliveries, build_slack_app, slack_request_problem

        slack = AsyncSlackRequestHandler(build_slack_app(settings, services))
        seen = SlackDeliveries(
            services.store.engine, settings.slack_signing_secret.get_secret_value()
        )

        @app.post("/slack/events", include_in_schema=False)
        async def slack_events(request: Request):
            problem = slack_request_problem(request)
            if problem:
                return errors.error(400, "bad_request", problem)
            if await seen.already_handled(request):  # a retry or a replay: acknowledged only
                return Response(status_code=200)
            return await slack.handle(request)

    static = Path(__file__).resolve().parent / "static"

    @app.get("/", include_in_schema=False)
    async def home():
        return FileResponse(static / "index.html", media_type="text/html")

    @app.get("/widget.js", include_in_schema=False)
    async def widget():
        return FileResponse(static / "widget.js", media_type="application/javascript")

    @app.get("/v1/me", tags=["auth"])
    async def me(user: Viewer):
        return {"id": user.id, "role": user.role.value}

    @app.get("/v1/artifacts/{name}", tags=["chat"], summary="A chart a tool produced")
    async def artifact(name: str, _: Viewer):
        charts = (settings.data_dir / "charts").resolve()
        try:
            path = (charts / name).resolve()
            found = path.parent == charts and path.suffix == ".png" and path.is_file()
        except (ValueError, OSError):  # a NUL or an impossible name
            found = False
        if not found:
            raise HTTPException(404, f"no artifact {name[:100]!r}")
        return FileResponse(path, media_type="image/png")

    @app.get("/login", include_in_schema=False)
    async def login(token: str = Query(..., max_length=200)):
        if token not in app.state.login_tokens:
            raise HTTPException(401, "this login link is invalid or was already used")
        app.state.login_tokens.discard(token)
        _, session = await asyncio.to_thread(
            keys.open_session, settings.login_role, settings.session_hours
        )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session,
            httponly=True,
            samesite="strict",
            max_age=int(settings.session_hours * 3600),
        )
        return response

    @app.post("/v1/logout", tags=["auth"], summary="End this browser session")
    async def logout(request: Request):
        token = request.cookies.get(SESSION_COOKIE)
        if not token or not await asyncio.to_thread(keys.close_session, token):
            raise HTTPException(
                400, "no browser session to end (API keys are revoked with `assistant keys revoke`)"
            )
        response = JSONResponse({"logged_out": True})
        response.delete_cookie(SESSION_COOKIE)
        return response

    return app
