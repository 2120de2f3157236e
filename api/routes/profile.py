"""The caller's risk profile: read it with the questionnaire, answer the questionnaire,
state a level, or clear it. Any signed-in user (viewer and up) keeps their own."""

import asyncio

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict

from api.deps import State, Viewer
from assistant.profiles import ProfileView, RiskProfile
from tools.risk_profile import Answers, RiskLevel

router = APIRouter(tags=["profile"])


class AnswersBody(Answers):
    """The questionnaire's four answers, scored into a level."""

    model_config = ConfigDict(extra="forbid")


class LevelBody(BaseModel):
    """A level stated without the questionnaire."""

    model_config = ConfigDict(extra="forbid")

    level: RiskLevel


@router.get(
    "/v1/profile", response_model=ProfileView, summary="Your risk profile and the questions"
)
async def get_profile(user: Viewer, state: State) -> ProfileView:
    profiles = state.services.profiles
    return ProfileView(profile=await asyncio.to_thread(profiles.get, user.id))


@router.put("/v1/profile", response_model=RiskProfile, summary="Set your risk profile")
async def put_profile(body: AnswersBody | LevelBody, user: Viewer, state: State) -> RiskProfile:
    profiles = state.services.profiles
    if isinstance(body, LevelBody):
        return await asyncio.to_thread(profiles.state, user.id, body.level)
    answers = Answers.model_validate(body.model_dump())
    return await asyncio.to_thread(profiles.save, user.id, answers)


@router.delete(
    "/v1/profile",
    status_code=204,
    response_class=Response,
    responses={404: {"description": "No profile to clear"}},
    summary="Clear your risk profile",
)
async def delete_profile(user: Viewer, state: State) -> Response:
    if not await asyncio.to_thread(state.services.profiles.clear, user.id):
        raise HTTPException(404, "you have no risk profile to clear")
    return Response(status_code=204)
