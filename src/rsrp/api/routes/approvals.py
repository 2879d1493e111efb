"""Pending approvals and their resolution by a supervisor."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from rsrp.api._models import ApprovalIn, ApprovalOut, ApprovalStatus, DecisionOut
from rsrp.api.deps import ServiceDep, Supervisor, SupervisorOrAuditor
from rsrp.api.routes.decisions import decision_out

__all__ = ["router"]

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])

_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


@router.get(
    "",
    response_model=list[ApprovalOut],
    summary="Approvals by status (default PENDING); due ones are first logged as expired",
)
def listed(
    _: SupervisorOrAuditor,
    service: ServiceDep,
    limit: int = Query(100, ge=1, le=1000),
    status: Annotated[
        ApprovalStatus | Literal["ALL"],
        Query(description="PENDING, RESOLVING, APPROVED, REJECTED, EXPIRED or ALL"),
    ] = "PENDING",
) -> list[ApprovalOut]:
    return [
        ApprovalOut(
            decision_id=r.decision_id,
            agent_id=r.agent_id,
            created_at=r.created_at,
            expires_at=r.expires_at,
            status=r.status,  # type: ignore[arg-type]
            resolved_by=r.resolved_by,
            resolution_id=r.resolution_id,
        )
        for r in service.approvals.listed(None if status == "ALL" else status, limit)
    ]


@router.post(
    "/{decision_id}",
    response_model=DecisionOut,
    summary="Approve or reject (role supervisor); the resolution is a logged decision",
)
def resolve(
    body: ApprovalIn,
    caller: Supervisor,
    service: ServiceDep,
    decision_id: str = Path(pattern=_UUID),
) -> DecisionOut:
    result = service.approvals.resolve(
        caller.principal, decision_id, body.decision == "APPROVE", body.reason
    )
    return decision_out(result, service.stages.proof.mode)
