"""``POST /slack/events`` for the Slack app (only when its token and signing secret are
set): requests are checked, retries and replays acknowledged once, the rest handed to Bolt."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import errors
from api.slack import SlackDeliveries, build_slack_app, slack_request_problem
from assistant.services import Services
from assistant.settings import Settings


def slack_router(settings: Settings, services: Services) -> APIRouter:
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

    assert settings.slack_signing_secret is not None
    handler = AsyncSlackRequestHandler(build_slack_app(settings, services))
    seen = SlackDeliveries(services.store.engine, settings.slack_signing_secret.get_secret_value())
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        problem = slack_request_problem(request)
        if problem:
            return errors.error(400, "bad_request", problem)
        if await seen.already_handled(request):  # a retry or a replay: acknowledged only
            return Response(status_code=200)
        return await handler.handle(request)

    return router
