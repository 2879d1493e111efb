"""Supervisor approvals of APPROVAL_REQUIRED decisions, and their expiry.

An approval is itself a decision: the service builds it (ALLOW ``APPROVAL_GRANTED``
or BLOCK ``APPROVAL_REJECTED``), hashes what was approved, by whom and why into
its input hash, seals it and appends it to the ledger before answering. Four
eyes: nobody approves their own request. An approval left pending past
``approvals.timeout_s`` is concluded the same way by the service itself: a logged
BLOCK ``APPROVAL_EXPIRED`` decided by :data:`EXPIRY_ACTOR`.

The row is claimed (PENDING → RESOLVING, one conditional UPDATE) before the ledger
append, so two supervisors, or a supervisor and the expiry, or the expiry sweeps of
two replicas on one database, cannot both conclude it: each conclusion is logged at
most once. A ledger outage hands the claim back (PENDING again); a crash between
claim and append leaves the row RESOLVING and unlogged rather than logged twice
(``GET /v1/approvals?status=RESOLVING`` lists such rows).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from rsrp.api._models import EXPIRY_ACTOR
from rsrp.api._pipeline import DecisionResult, Pipeline, StageUnavailableError
from rsrp.api._store import ApprovalRow, DecisionRow
from rsrp.canonical import canonical_hash
from rsrp.errors import RsrpError, ServiceError
from rsrp.policy.decision import Decision, Outcome

__all__ = [
    "EXPIRY_ACTOR",
    "ApprovalConflictError",
    "ApprovalNotFoundError",
    "Approvals",
    "SelfApprovalError",
]

log = logging.getLogger("rsrp.api.approvals")


class ApprovalNotFoundError(ServiceError):
    pass


class ApprovalConflictError(ServiceError):
    """Already resolved, being resolved, or expired."""


class SelfApprovalError(ServiceError):
    """The supervisor may not resolve this request (own request, other organisation)."""


@dataclass(frozen=True, slots=True)
class _Conclusion:
    """How a claimed approval ends: who, which outcome and code, the row's final status."""

    actor: str
    outcome: Outcome
    code: str
    status: str
    verb: str
    reason: str


@dataclass(frozen=True, slots=True)
class Approvals:
    pipeline: Pipeline

    def pending(self, limit: int = 100) -> list[ApprovalRow]:
        return self.listed("PENDING", limit)

    def listed(self, status: str | None, limit: int = 100) -> list[ApprovalRow]:
        """Approvals in ``status`` (None: all); due ones are concluded as expired first."""
        try:
            self.expire_due()
        except RsrpError as e:  # reads still answer; the rows stay PENDING for the next try
            log.warning("approval expiry failed: %s", e)
        return self.pipeline.store.approvals(status, limit)

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

    def _conclude(self, original: DecisionRow, how: _Conclusion, now: datetime) -> DecisionResult:
        """Seal, log and record the decision concluding a claimed approval."""
        p = self.pipeline
        request_id = str(uuid.uuid4())
        message = (
            f"{how.actor} {how.verb} request {original.request_id} "
            f"(ledger index {original.ledger_index}): {how.reason}"
        )
        pol = p.stages.policy
        decision = Decision(
            outcome=how.outcome,
            code=how.code,
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
                    "approval_of": original.request_id,
                    "ledger_index": original.ledger_index,
                    "requester": original.agent_id,
                    "supervisor": how.actor,
                    "conclusion": how.code,
                    "reason": how.reason,
                }
            ),
            evaluated_at=now,
        )
        state_hash = canonical_hash({"supervisor": how.actor, "at": now})
        try:
            envelope, index = p._seal_and_log(decision, request_id, state_hash, how.actor)
        except StageUnavailableError:
            # Not logged (the Log raises only when the entry was not committed): hand the
            # claim back so a supervisor or the next sweep can conclude it.
            p.store.release_approval(original.request_id, how.actor)
            raise
        resolution = DecisionRow(
            request_id, index, how.actor, None, int(decision.outcome), how.code, message, now,
            "approval", original.request_id,
        )  # fmt: skip
        p.store.finish_approval(original.request_id, how.status, resolution, how.reason)
        p.metrics.decisions.labels(decision.outcome.name, how.code).inc()
        return DecisionResult(request_id, decision, index, envelope, state_hash, None, None)

    def resolve(
        self, supervisor: str, decision_id: str, approve: bool, reason: str
    ) -> DecisionResult:
        p = self.pipeline
        self.expire_due()
        now = p.clock()
        row = p.store.approval(decision_id)
        if row is None:
            raise ApprovalNotFoundError(f"no approval request {decision_id!r}")
        if row.agent_id == supervisor:
            raise SelfApprovalError("a supervisor cannot approve their own request")
        self._same_organisation(supervisor, row.agent_id)
        original = p.store.decision(decision_id)
        if original is None or not p.store.claim_approval(decision_id, supervisor, now):
            current = p.store.approval(decision_id) or row
            raise ApprovalConflictError(f"approval {decision_id!r} is {current.status.lower()}")
        how = _Conclusion(
            supervisor,
            Outcome.ALLOW if approve else Outcome.BLOCK,
            "APPROVAL_GRANTED" if approve else "APPROVAL_REJECTED",
            "APPROVED" if approve else "REJECTED",
            "approved" if approve else "rejected",
            reason,
        )
        return self._conclude(original, how, now)

    def expire_due(self, limit: int = 100) -> list[DecisionResult]:
        """Conclude every approval past its deadline as a logged BLOCK ``APPROVAL_EXPIRED``.

        Safe to run in every replica at once: only the claim's winner logs an expiry.
        A ledger failure leaves that row RESOLVING (never logged twice) and is raised.
        """
        p = self.pipeline
        now = p.clock()
        done: list[DecisionResult] = []
        for decision_id in p.store.due_approvals(now, limit):
            original = p.store.decision(decision_id)
            if original is None or not p.store.claim_approval(
                decision_id, EXPIRY_ACTOR, now, expired=True
            ):
                continue  # another replica or a supervisor got there first
            timeout = int(p.approval_timeout.total_seconds())
            how = _Conclusion(
                EXPIRY_ACTOR,
                Outcome.BLOCK,
                "APPROVAL_EXPIRED",
                "EXPIRED",
                "expired",
                f"no supervisor decided within {timeout} s",
            )
            done.append(self._conclude(original, how, now))
        return done
