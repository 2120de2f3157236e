"""Orders waiting for a person: list them, approve or reject one (approver role)."""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import Approver, State
from api.schemas import Approval, RejectRequest
from assistant.approval_text import approval_event
from assistant.decisions import Decision
from assistant.results import ApprovalStatus

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])
DECISION_WAIT = 30.0
"""How long a decision's answer waits for the resumed run before it returns without it
(the run goes on; watchers of the conversation see it)."""


@router.get("", response_model=list[Approval])
async def approvals(
    _: Approver,
    state: State,
    status: Annotated[
        ApprovalStatus | Literal["all"], Query(description="A state, or all")
    ] = ApprovalStatus.PENDING,
) -> list[Approval]:
    rows = await asyncio.to_thread(
        state.services.store.approvals, None if status == "all" else status
    )
    return [
        Approval(
            **approval_event(r).model_dump(),
            status=r.status,
            requested_by=r.requested_by,
            decided_by=r.decided_by,
            reason=r.reason,
        )
        for r in rows
    ]


@router.post("/{approval_id}/approve", response_model=Decision)
async def approve(approval_id: str, user: Approver, state: State) -> Decision:
    decision = await state.services.decisions.approve(approval_id, user, wait=DECISION_WAIT)
    state.metrics.approvals.labels(decision.status).inc()
    return decision


@router.post("/{approval_id}/reject", response_model=Decision)
async def reject(
    approval_id: str, user: Approver, state: State, body: RejectRequest | None = None
) -> Decision:
    decision = await state.services.decisions.reject(
        approval_id, user, (body or RejectRequest()).reason, wait=DECISION_WAIT
    )
    state.metrics.approvals.labels(decision.status).inc()
    return decision
