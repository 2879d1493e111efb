"""Supervisor approvals of APPROVAL_REQUIRED decisions.

An approval is itself a decision: the service builds it (ALLOW ``APPROVAL_GRANTED``
or BLOCK ``APPROVAL_REJECTED``), hashes what was approved, by whom and why into
its input hash, seals it and appends it to the ledger before answering. Four
eyes: nobody approves their own request. The row is claimed (PENDING →
RESOLVING) before the ledger append, so two supervisors cannot both resolve it,
and a crash leaves it unresolved rather than approved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rsrp.api._pipeline import DecisionResult, Pipeline
from rsrp.api._store import ApprovalRow, DecisionRow
from rsrp.canonical import canonical_hash
from rsrp.errors import RsrpError, ServiceError
from rsrp.policy.decision import Decision, Outcome

__all__ = ["ApprovalConflictError", "ApprovalNotFoundError", "Approvals", "SelfApprovalError"]


class ApprovalNotFoundError(ServiceError):
    pass


class ApprovalConflictError(ServiceError):
    """Already resolved, being resolved, or expired."""


class SelfApprovalError(ServiceError):
    """The supervisor may not resolve this request (own request, other organisation)."""


@dataclass(frozen=True, slots=True)
class Approvals:
    pipeline: Pipeline

    def pending(self, limit: int = 100) -> list[ApprovalRow]:
        store = self.pipeline.store
        store.expire_approvals(self.pipeline.clock())
        return store.approvals("PENDING", limit)

    def _same_organisation(self, supervisor: str, requester: str) -> None:
        """Supervisors approve only within their own organisation; both must be registered."""
        registry = self.pipeline.context.registry
        try:
            sup_org = registry.agent(supervisor).org
            req_org = registry.agent(requester).org
        except RsrpError as e:
            raise SelfApprovalError(f"approval refused: {e}") from e
        if sup_org != req_org:
            raise SelfApprovalError("a supervisor approves requests of their own organisation only")

    def resolve(
        self, supervisor: str, decision_id: str, approve: bool, reason: str
    ) -> DecisionResult:
        p = self.pipeline
        now = p.clock()
        p.store.expire_approvals(now)
        row = p.store.approval(decision_id)
        if row is None:
            raise ApprovalNotFoundError(f"no approval request {decision_id!r}")
        if row.agent_id == supervisor:
            raise SelfApprovalError("a supervisor cannot approve their own request")
        self._same_organisation(supervisor, row.agent_id)
        original = p.store.decision(decision_id)
        if original is None or not p.store.claim_approval(decision_id, supervisor, now):
            raise ApprovalConflictError(f"approval {decision_id!r} is {row.status.lower()}")
        request_id = str(uuid.uuid4())
        code = "APPROVAL_GRANTED" if approve else "APPROVAL_REJECTED"
        message = (
            f"{supervisor} {'approved' if approve else 'rejected'} request {decision_id} "
            f"(ledger index {original.ledger_index}): {reason}"
        )
        pol = p.stages.policy
        decision = Decision(
            outcome=Outcome.ALLOW if approve else Outcome.BLOCK,
            code=code,
            message=message,
            matched=(),
            explanation=(),
            decided_by=None,
            bundle_id=pol.bundle_id,
            bundle_version=pol.bundle_version,
            jurisdiction=pol.jurisdiction,
            policy_hash=pol.policy_hash,
            bytecode_hash=pol.bytecode_hash,
            input_hash=canonical_hash(
                {
                    "approval_of": decision_id,
                    "ledger_index": original.ledger_index,
                    "requester": original.agent_id,
                    "supervisor": supervisor,
                    "approve": approve,
                    "reason": reason,
                }
            ),
            evaluated_at=now,
        )
        state_hash = canonical_hash({"supervisor": supervisor, "at": now})
        envelope, index = p._seal_and_log(decision, request_id, state_hash, supervisor)
        resolution = DecisionRow(
            request_id, index, supervisor, None, int(decision.outcome), code, message, now,
            "approval", decision_id,
        )  # fmt: skip
        p.store.finish_approval(
            decision_id, "APPROVED" if approve else "REJECTED", resolution, reason
        )
        p.metrics.decisions.labels(decision.outcome.name, code).inc()
        return DecisionResult(request_id, decision, index, envelope, state_hash, None, None)
