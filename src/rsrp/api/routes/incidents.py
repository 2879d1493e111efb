"""Incidents: every pipeline failure, for auditors and operators."""

from __future__ import annotations

from fastapi import APIRouter, Query

from rsrp.api._models import IncidentOut
from rsrp.api.deps import AuditorOrAdmin, ServiceDep

__all__ = ["router"]

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


@router.get("", response_model=list[IncidentOut])
def incidents(
    _: AuditorOrAdmin,
    service: ServiceDep,
    since_id: int = Query(0, ge=0, lt=2**62),
    limit: int = Query(100, ge=1, le=1000),
) -> list[IncidentOut]:
    return [
        IncidentOut(
            id=r.id,
            at=r.at,
            request_id=r.request_id,
            principal=r.principal,
            stage=r.stage,
            code=r.code,
            detail=r.detail,
        )
        for r in service.store.incidents(since_id, limit)
    ]
