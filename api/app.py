"""The FastAPI service: SSE chat, an OpenAI-compatible endpoint, approvals, direct tool
calls, search, ingest, health and metrics, one router per resource (``api/routes``).
Stateless apart from the database and the index, so several processes can run behind a
load balancer (with a Qdrant server; the embedded index has one writer at a time).
"""

from datetime import date

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.auth import Authenticator, is_loopback
from api.docs import install_docs
from api.lifecycle import lifespan
from api.limits import install_middleware
from api.metrics import Metrics
from api.routes import (
    alerts,
    approvals,
    briefings,
    chat,
    conversations,
    notifications,
    ops,
    profile,
    search,
    tools,
    watchlists,
    widget,
)
from api.routes import openai as openai_routes
from api.schemas import ERROR_RESPONSES
from api.state import ApiState, SharedIndex
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.services import Services, build_services
from assistant.settings import Settings, get_settings

__all__ = ["create_app", "is_loopback"]
ROUTERS = (
    chat.router,
    openai_routes.router,
    conversations.router,
    approvals.router,
    profile.router,
    watchlists.router,
    alerts.router,
    briefings.router,
    notifications.router,
    tools.router,
    search.router,
    ops.router,
    widget.router,
)


def renew_schema_daily(app: FastAPI) -> None:
    """FastAPI builds ``/openapi.json`` once; its as-of dates end today, so it is built
    again on the first request of each day."""
    build = app.openapi
    built_on: list[date] = []

    def openapi() -> dict:
        if built_on != [date.today()]:
            app.openapi_schema = None
            built_on[:] = [date.today()]
        return build()

    app.openapi = openapi  # type: ignore[method-assign]


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
    state = ApiState(
        settings=settings,
        services=services,
        keys=keys,
        auth=Authenticator(settings, keys),
        metrics=Metrics(),
        index=SharedIndex(settings),
    )
    if login_token:
        state.login_tokens.add(login_token)
    services.chat.index_factory = state.index
    services.chat.index_is_shared = True

    app = FastAPI(
        title="Market Assistant",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # install_docs: the same page from local files
    )
    app.state.api = state
    app.state.services = services  # what tests and `assistant serve` reach for
    install_docs(app)
    errors.install(app)
    install_middleware(app, settings, state.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    for router in ROUTERS:
        app.include_router(router)
    renew_schema_daily(app)
    if settings.slack_bot_token and settings.slack_signing_secret:
        from api.routes.slack import slack_router

        app.include_router(slack_router(settings, services))
    return app
