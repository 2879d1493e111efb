"""Checkpoints and Merkle proofs (RFC 9162 §2.1.3-2.1.4); readable by every role."""

from __future__ import annotations

import base64
import datetime as dt

from fastapi import APIRouter, HTTPException, Query

from rsrp.api._models import CheckpointOut, ConsistencyOut, InclusionOut
from rsrp.api.deps import AnyCaller, ServiceDep
from rsrp.errors import LedgerError

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["ledger"])

_MAX = 2**62


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in items]


@router.get("/checkpoints/latest", response_model=CheckpointOut)
def latest_checkpoint(_: AnyCaller, service: ServiceDep) -> CheckpointOut:
    cp = service.stages.ledger.latest_checkpoint()
    if cp is None:
        raise HTTPException(404, "no checkpoint has been signed yet")
    age = (dt.datetime.now(dt.UTC) - cp.signed_at).total_seconds()
    return CheckpointOut(
        size=cp.size,
        root=base64.b64encode(cp.root).decode("ascii"),
        note=cp.note,
        signed_at=cp.signed_at,
        age_seconds=age,
    )


@router.get("/proofs/inclusion", response_model=InclusionOut)
def inclusion(
    _: AnyCaller,
    service: ServiceDep,
    index: int = Query(ge=0, lt=_MAX),
    size: int = Query(ge=1, lt=_MAX),
) -> InclusionOut:
    if index >= size:
        raise HTTPException(422, f"index {index} must be below size {size}")
    if size > service.stages.ledger.size():
        raise HTTPException(404, f"the log has fewer than {size} entries")
    try:
        hashes = service.stages.ledger.inclusion_proof(index, size)
    except LedgerError as e:
        raise HTTPException(422, str(e)) from e
    return InclusionOut(index=index, size=size, hashes=_b64(hashes))


@router.get("/proofs/consistency", response_model=ConsistencyOut)
def consistency(
    _: AnyCaller,
    service: ServiceDep,
    old_size: int = Query(ge=1, lt=_MAX),
    new_size: int = Query(ge=1, lt=_MAX),
) -> ConsistencyOut:
    if old_size > new_size:
        raise HTTPException(422, f"old_size {old_size} must not exceed new_size {new_size}")
    if new_size > service.stages.ledger.size():
        raise HTTPException(404, f"the log has fewer than {new_size} entries")
    try:
        hashes = service.stages.ledger.consistency_proof(old_size, new_size)
    except LedgerError as e:
        raise HTTPException(422, str(e)) from e
    return ConsistencyOut(old_size=old_size, new_size=new_size, hashes=_b64(hashes))
