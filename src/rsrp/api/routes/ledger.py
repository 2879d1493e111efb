"""Checkpoints and Merkle proofs (RFC 9162 §2.1.3-2.1.4); readable by every role."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Query

from rsrp.api._models import CheckpointOut, ConsistencyOut, InclusionOut
from rsrp.api.deps import AnyCaller, ServiceDep
from rsrp.errors import LedgerError

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["ledger"])

_MAX = 2**62


def _proof_hashes(service: ServiceDep, size: int, make: Callable[[], list[bytes]]) -> list[str]:
    """Base64 proof hashes from ``make``: 404 past the log's size, 422 on a LedgerError."""
    if size > service.stages.ledger.size():
        raise HTTPException(404, f"the log has fewer than {size} entries")
    try:
        hashes = make()
    except LedgerError as e:
        raise HTTPException(422, str(e)) from e
    return [base64.b64encode(h).decode("ascii") for h in hashes]


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
    hashes = _proof_hashes(
        service, size, lambda: service.stages.ledger.inclusion_proof(index, size)
    )
    return InclusionOut(index=index, size=size, hashes=hashes)


@router.get("/proofs/consistency", response_model=ConsistencyOut)
def consistency(
    _: AnyCaller,
    service: ServiceDep,
    old_size: int = Query(ge=1, lt=_MAX),
    new_size: int = Query(ge=1, lt=_MAX),
) -> ConsistencyOut:
    if old_size > new_size:
        raise HTTPException(422, f"old_size {old_size} must not exceed new_size {new_size}")
    hashes = _proof_hashes(
        service, new_size, lambda: service.stages.ledger.consistency_proof(old_size, new_size)
    )
    return ConsistencyOut(old_size=old_size, new_size=new_size, hashes=hashes)
