"""Liveness, readiness and Prometheus metrics, for process managers and load balancers."""

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from api.deps import State
from api.schemas import Health, Readiness, TurnFailure
from assistant.settings import mask_url_password
from assistant.store import utcnow

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: checks say why"}},
)
async def readyz(state: State):
    """Ready when the database takes writes, the index opens and Redis (if configured)
    answers; each failing part says why. An open price-provider breaker does not make
    the service unready: answers use the store."""
    services, settings = state.services, state.settings
    checks: dict[str, str] = {}

    def database() -> None:
        with services.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        services.store.check_writable()

    def index() -> None:
        state.index().count()

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
            checks["redis"] = (
                f"error: {type(exc).__name__} at {mask_url_password(settings.redis_url)}"
            )
    checks["model"] = services.chat.model_name
    ready = all(v == "ok" for k, v in checks.items() if k != "model")
    recent = utcnow() - timedelta(minutes=15)
    live = services.chat.live
    body = Readiness(
        ready=ready,
        checks=checks,
        recent_turn_failures={
            code: TurnFailure(message=message[:300], at=at)
            for code, (message, at) in services.chat.turns.failures.items()
            if at > recent
        },
        price_provider=live.status() if live else {"provider": "none"},
        jobs=await asyncio.to_thread(services.jobs.states) if services.jobs else [],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics (text exposition format)",
)
async def prometheus(state: State) -> PlainTextResponse:
    counts = await asyncio.to_thread(state.services.store.approval_counts)
    return PlainTextResponse(state.metrics.render(counts), media_type="text/plain; version=0.0.4")
