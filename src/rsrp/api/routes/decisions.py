"""POST /v1/decisions and reading decisions and their receipts."""

from __future__ import annotations

import base64

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from rsrp.api._auth import Identity, Role
from rsrp.api._models import DecisionIn, DecisionOut, DecisionRecordOut, ReceiptOut
from rsrp.api._pipeline import DecisionRequest, DecisionResult
from rsrp.api._store import DecisionRow
from rsrp.api.deps import AgentCaller, Caller, ServiceDep
from rsrp.policy.decision import Outcome

__all__ = ["router"]

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])

_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decision_out(result: DecisionResult, signing_mode: str) -> DecisionOut:
    """The response for a logged decision (a request or an approval)."""
    d = result.decision
    return DecisionOut(
        request_id=result.request_id,
        decision=d.outcome.name,  # type: ignore[arg-type]
        code=d.code,
        message=d.message,
        matched=[m.rule_id for m in d.matched],
        ledger_index=result.ledger_index,
        envelope=_b64(result.envelope),
        state_hash=result.state_hash.hex(),
        evaluated_at=d.evaluated_at,
        mission_id=result.mission_id,
        signing_mode=signing_mode,
        approval_expires_at=result.approval_expires_at,
    )


def decision_request(body: DecisionIn, principal: str) -> DecisionRequest:
    """What the pipeline decides: the caller's request fields, the server's identity."""
    limit = body.request.get("limit")
    hint = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else 0
    return DecisionRequest(
        principal=principal,
        mission_id=body.mission_id,
        account=body.account,
        fields=dict(body.request),
        result_count_hint=hint,
    )


def decision_json(result: DecisionResult, signing_mode: str) -> bytes:
    """The 200 body: serialised once, by pydantic (the model validated it when built).

    Returning the model would make FastAPI validate it again against response_model
    and run jsonable_encoder + json.dumps. The OpenAPI schema still comes from
    response_model.
    """
    return decision_out(result, signing_mode).model_dump_json().encode()


@router.post("", response_model=DecisionOut, summary="Decide a registry request (role agent)")
async def decide(body: DecisionIn, caller: AgentCaller, service: ServiceDep) -> Response:
    # Most requests are answered by rsrp.api._fastpath with these same helpers; this
    # route answers the rest (bearer callers, refusals) and is the OpenAPI contract.
    request = decision_request(body, caller.principal)
    # Decided with whatever else is in flight: one counter transaction, one ledger
    # commit for the group; answered only once this decision is durably logged.
    result = await service.batcher.decide(request)
    payload = decision_json(result, service.stages.proof.mode)
    return Response(payload, media_type="application/json")


def _concerns(service: ServiceDep, row: DecisionRow, principal: str) -> bool:
    """The caller made the decision, or it concludes the caller's approval request."""
    if row.agent_id == principal:
        return True
    if row.kind != "approval" or row.parent is None:
        return False
    parent = service.store.decision(row.parent)
    return parent is not None and parent.agent_id == principal


def _readable(service: ServiceDep, caller: Identity, request_id: str) -> DecisionRow:
    """Auditors read every decision; an agent or supervisor reads only their own, and
    the approval, rejection or expiry concluding their own request."""
    row = service.store.decision(request_id)
    may_read = Role.AUDITOR in caller.roles or (
        caller.roles & {Role.AGENT, Role.SUPERVISOR}
        and row is not None
        and _concerns(service, row, caller.principal)
    )
    if not caller.roles & {Role.AUDITOR, Role.AGENT, Role.SUPERVISOR}:
        raise HTTPException(
            403, "this endpoint requires one of the roles: agent, auditor, supervisor"
        )
    if row is None or not may_read:
        # Same answer for "absent" and "someone else's": ids are not an oracle.
        raise HTTPException(404, "no such decision")
    return row


RequestId = Path(pattern=_UUID, description="The decision's request id")


@router.get("/{request_id}", response_model=DecisionRecordOut, summary="Read a decision")
def get_decision(
    request_id: str = RequestId, *, caller: Caller, service: ServiceDep
) -> DecisionRecordOut:
    row = _readable(service, caller, request_id)
    approval = (
        service.store.approval(row.request_id) if row.outcome == Outcome.APPROVAL_REQUIRED else None
    )
    return DecisionRecordOut(
        request_id=row.request_id,
        ledger_index=row.ledger_index,
        agent_id=row.agent_id,
        mission_id=row.mission_id,
        decision=Outcome(row.outcome).name,  # type: ignore[arg-type]
        code=row.code,
        message=row.message,
        at=row.at,
        kind=row.kind,  # type: ignore[arg-type]
        parent=row.parent,
        envelope=_b64(service.stages.ledger.entry(row.ledger_index)),
        approval_status=approval.status if approval else None,  # type: ignore[arg-type]
        resolution_id=approval.resolution_id if approval else None,
    )


@router.get(
    "/{request_id}/receipt",
    response_model=ReceiptOut,
    summary="The decision's receipt (envelope + tlog-proof); 404 until a checkpoint covers it",
)
def get_receipt(request_id: str = RequestId, *, caller: Caller, service: ServiceDep) -> ReceiptOut:
    row = _readable(service, caller, request_id)
    receipt = service.stages.ledger.receipt(row.ledger_index)
    if receipt is None:
        raise HTTPException(404, "no checkpoint covers this decision yet; retry shortly")
    return ReceiptOut(
        request_id=row.request_id,
        ledger_index=row.ledger_index,
        envelope=_b64(service.stages.ledger.entry(row.ledger_index)),
        proof=receipt.tlog_proof,
        receipt=receipt.receipt,
    )
