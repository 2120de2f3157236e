"""Briefings on the caller's watchlists: one written now (viewer: it only reads), the
ones written before, and schedules that write and deliver them daily or weekly (trader,
as for alerts: a schedule sends to channels)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import State, Trader, Viewer
from assistant.briefings import WEEKDAYS, Briefing, BriefingSchedule, Cadence, NewSchedule
from assistant.channels import Channel
from tools.alert_rules import Window

router = APIRouter(tags=["briefings"])
ListName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
Weekday = Annotated[str, Field(pattern="^(" + "|".join(WEEKDAYS) + ")$")]


class BriefingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    watchlist: ListName = "default"
    days: Window = Field(1, ge=1, le=31, description="1 for a daily briefing, 7 for a weekly.")


class ScheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    watchlist: ListName = "default"
    cadence: Cadence = Cadence.DAILY
    hour: Window = Field(7, ge=0, le=23, description="Hour of the day, UTC.")
    weekday: Weekday | None = Field(None, description="Weekly: the day (monday by default).")
    channels: Annotated[list[Channel], Field(max_length=5)] = []


@router.post(
    "/v1/briefings",
    status_code=201,
    response_model=Briefing,
    responses={404: {"description": "No such watchlist"}},
    summary="Write a briefing on one of your watchlists now",
)
async def make_briefing(body: BriefingRequest, user: Viewer, state: State) -> Briefing:
    return await state.services.briefings.make(user, body.watchlist, body.days)


@router.get("/v1/briefings", response_model=list[Briefing], summary="Your latest briefings")
async def list_briefings(user: Viewer, state: State) -> list[Briefing]:
    return await asyncio.to_thread(state.services.briefings.mine, user.id)


@router.post(
    "/v1/briefings/schedules",
    status_code=201,
    response_model=NewSchedule,
    responses={404: {"description": "No such watchlist"}},
    summary="Schedule a daily or weekly briefing",
)
async def schedule_briefing(body: ScheduleRequest, user: Trader, state: State) -> NewSchedule:
    weekday = WEEKDAYS.index(body.weekday) if body.weekday else None
    return await asyncio.to_thread(
        state.services.briefings.schedule,
        user.id,
        body.watchlist,
        body.cadence,
        body.hour,
        weekday,
        list(body.channels),
    )


@router.get(
    "/v1/briefings/schedules",
    response_model=list[BriefingSchedule],
    summary="Your briefing schedules",
)
async def list_schedules(user: Viewer, state: State) -> list[BriefingSchedule]:
    return await asyncio.to_thread(state.services.briefings.schedules, user.id)


@router.delete(
    "/v1/briefings/schedules/{schedule_id}",
    status_code=204,
    response_class=Response,
    responses={404: {"description": "No such schedule of yours"}},
    summary="Stop a briefing schedule",
)
async def delete_schedule(schedule_id: str, user: Viewer, state: State) -> Response:
    await asyncio.to_thread(state.services.briefings.unschedule, user.id, schedule_id)
    return Response(status_code=204)
