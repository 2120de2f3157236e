"""What runs beside the requests: preparing routes and the offline model, start-up
catch-up and the housekeeping sweep; and what stopping closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.state import ApiState
from assistant.logs import Throttled

log = logging.getLogger(__name__)


async def housekeeping(state: ApiState) -> None:
    """Overdue approvals expire (and their runs resume) without anyone touching them,
    and resting paper orders fill once the stored prices reach them.

    Several processes may sweep at once: the pending→expired transition is a
    compare-and-set, so each approval expires, and is announced, exactly once.
    """
    services = state.services
    warnings = Throttled(log)
    while True:
        await asyncio.sleep(state.settings.approval_sweep_seconds)
        try:
            await services.decisions.expire_due(wait=0)  # updates go on in the background
            await services.decisions.catch_up()
            paper = await asyncio.to_thread(services.approvals.broker_factory)
            if hasattr(paper, "process_open_orders"):
                await asyncio.to_thread(paper.process_open_orders)
        except Exception as exc:  # a database hiccup must not end the sweep
            warnings.warning("sweep", "housekeeping sweep failed: %s: %s", type(exc).__name__, exc)


async def background_jobs(state: ApiState) -> None:
    """The background jobs (assistant/jobs.py): the alert sweep every
    ``alert_sweep_seconds`` (sooner when new data arrived), scheduled briefings and
    scheduled ingestion. Each run is claimed by one conditional UPDATE, so any number of
    processes may tick at once and each run happens once."""
    services = state.services
    if services.jobs is None:
        return
    warnings = Throttled(log)
    tick = min(5.0, state.settings.alert_sweep_seconds)
    handlers = services.handlers()
    started = False
    while True:
        await asyncio.sleep(tick)
        try:
            if not started:
                await asyncio.to_thread(services.start_jobs)
                started = True
            await services.jobs.arun_due(handlers)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database hiccup must not end the jobs
            warnings.warning("jobs", "background jobs failed: %s: %s", type(exc).__name__, exc)


async def delivery_rounds(state: ApiState) -> None:
    """Deliveries due (new firings, briefings, retries) go out on their own loop, so a
    slow receiver never holds up the sweeps; each is claimed by one conditional UPDATE
    (assistant/deliveries.py)."""
    services = state.services
    if services.deliveries is None:
        return
    warnings = Throttled(log)
    tick = min(2.0, state.settings.alert_sweep_seconds)
    while True:
        await asyncio.sleep(tick)
        try:
            await asyncio.to_thread(services.deliveries.run)
        except Exception as exc:
            warnings.warning("deliveries", "deliveries failed: %s: %s", type(exc).__name__, exc)


async def catch_up(state: ApiState) -> None:
    """What a stop left behind: approvals between decision and broker, and approvals
    that expired meanwhile. In the background: serving never waits for a broker or for
    a conversation a crashed turn still holds."""
    try:
        await state.services.decisions.reconcile(wait=0)
        await state.services.decisions.expire_due(wait=0)
    except Exception as exc:
        log.error("start-up reconciliation failed: %s: %s", type(exc).__name__, exc)


async def prepare_model(state: ApiState) -> None:
    """The offline model's intent model is prepared once per model cache (seconds): at
    start, in a thread, rather than inside the first user's question."""
    settings = state.settings
    if settings.model not in ("offline", ""):
        return
    from assistant.models.offline import prepare

    try:
        await asyncio.to_thread(prepare, settings.effective_model_cache_dir)
    except Exception as exc:  # the planner still routes on keywords
        log.warning("offline model not prepared at start: %s: %s", type(exc).__name__, exc)


def prepare_routes(routes: list) -> None:
    """FastAPI (0.16x) builds an included router's routes (their validators and response
    models: ~0.3 s for ours) on the first request that reaches them, on the event loop, so
    the first approval stalled every other request. Built here, before serving starts.
    Walks FastAPI's included-router objects by duck type: a FastAPI without them builds
    routes up front and this does nothing."""
    for route in routes:
        if callable(candidates := getattr(route, "effective_candidates", None)):
            prepare_routes(candidates())
        if callable(low := getattr(route, "effective_low_priority_routes", None)):
            low()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: ApiState = app.state.api
    chat = state.services.chat
    prepare_routes(app.router.routes)  # the server takes no request before this returns
    chat.turns.detach(catch_up(state))
    chat.turns.detach(prepare_model(state))
    sweeper = asyncio.create_task(housekeeping(state))
    alerting = asyncio.create_task(background_jobs(state))
    delivering = asyncio.create_task(delivery_rounds(state))
    yield
    sweeper.cancel()
    alerting.cancel()
    delivering.cancel()
    await asyncio.gather(alerting, return_exceptions=True)  # its lease is given back
    await chat.turns.drain(1.0)  # streams already had the grace period to finish
    chat.heavy.close()
    await chat.hub.aclose()
    await asyncio.to_thread(state.index.close)
