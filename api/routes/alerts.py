"""The caller's alerts: create (trader), list, delete, and each one's history of
firings with their deliveries."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import State, Trader, Viewer
from assistant.alert_rows import Alert, AlertEvent, NewAlert
from assistant.channels import Channel
from tools.alert_rules import Condition
from tools.orders import Symbol

router = APIRouter(tags=["alerts"])


class AlertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: Symbol
    condition: Condition
    channels: Annotated[list[Channel], Field(max_length=5)] = []


@router.post("/v1/alerts", status_code=201, response_model=NewAlert, summary="Create an alert")
async def create_alert(body: AlertRequest, user: Trader, state: State) -> NewAlert:
    alerts = state.services.alerts
    return await asyncio.to_thread(
        alerts.create, user.id, body.symbol, body.condition, list(body.channels)
    )


@router.get("/v1/alerts", response_model=list[Alert], summary="Your alerts")
async def list_alerts(user: Viewer, state: State) -> list[Alert]:
    return await asyncio.to_thread(state.services.alerts.mine, user.id)


@router.delete(
    "/v1/alerts/{alert_id}",
    status_code=204,
    response_class=Response,
    responses={404: {"description": "No such alert of yours"}},
    summary="Delete an alert and its history",
)
async def delete_alert(alert_id: str, user: Viewer, state: State) -> Response:
    await asyncio.to_thread(state.services.alerts.delete, user.id, alert_id)
    return Response(status_code=204)


@router.get(
    "/v1/alerts/{alert_id}/events",
    response_model=list[AlertEvent],
    responses={404: {"description": "No such alert of yours"}},
    summary="An alert's firings and the state of each delivery",
)
async def alert_events(alert_id: str, user: Viewer, state: State) -> list[AlertEvent]:
    return await asyncio.to_thread(state.services.alerts.events, user.id, alert_id)
