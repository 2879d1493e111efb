"""Supervisor approvals of APPROVAL_REQUIRED decisions, their expiry, and their recovery.

An approval is itself a decision: the service builds it (ALLOW ``APPROVAL_GRANTED``
or BLOCK ``APPROVAL_REJECTED``), hashes what was approved, by whom and why into
its input hash, seals it and appends it to the ledger before answering. Four
eyes: nobody approves their own request. An approval left pending past
``approvals.timeout_s`` is concluded the same way by the service itself: a logged
BLOCK ``APPROVAL_EXPIRED`` decided by :data:`EXPIRY_ACTOR`.

Concluding is four commits (rsrp.api._conclusions):

1. claim: PENDING → RESOLVING with one conditional UPDATE, recording the actor, the
   outcome, the concluding decision's request id and this process as owner; two
   supervisors, a supervisor and the expiry, or two replicas' sweeps cannot both win;
2. sealed: the exact envelope bytes and the ledger size before the append;
3. the ledger append (durable, fsync'd);
4. the final status with the concluding decision's row (durable too).

A crash anywhere leaves the claim row saying what the ledger can hold: nothing
(before 2; the conclusion is made afresh), or that envelope at an index at or
past the recorded size (after 2; found → recorded with that index, not found →
that same envelope is appended). :meth:`Approvals.recover` does this at start-up and
in every sweep, for claims whose owner process is dead (rsrp.api._owners: a lock the
OS or PostgreSQL frees when the process dies, never a timeout) or that this process
abandoned after a failure. A live owner is never overtaken, so a conclusion is
logged exactly once. A failed seal hands the claim back (PENDING); a failed append
does not (its outcome may be unknown): the sweep finishes it as above.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from rsrp.api._conclusions import ConclusionStore, InFlight
from rsrp.api._models import EXPIRY_ACTOR
from rsrp.api._owners import OwnerLock, OwnerLostError
from rsrp.api._pipeline import DecisionResult, Pipeline, StageUnavailableError
from rsrp.api._store import ApprovalRow, DecisionRow
from rsrp.canonical import canonical_hash
from rsrp.errors import RsrpError, ServiceError
from rsrp.policy.decision import Decision, Outcome

__all__ = [
    "CRASH_ENV",
    "EXPIRY_ACTOR",
    "ApprovalConflictError",
    "ApprovalNotFoundError",
    "Approvals",
    "SelfApprovalError",
]

log = logging.getLogger("rsrp.api.approvals")

#: TEST ONLY. Naming a crash point here (``approval-claimed``, ``approval-sealed``,
#: ``approval-logged``) makes the process ``os._exit`` there, as SIGKILL would, so the
#: crash tests can stop it between two commits. Unset (always, outside tests): inert.
CRASH_ENV = "RSRP_TEST_CRASH_AT"


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(86)


class ApprovalNotFoundError(ServiceError):
    pass


class ApprovalConflictError(ServiceError):
    """Already resolved, being resolved, or expired."""


class SelfApprovalError(ServiceError):
    """The supervisor may not resolve this request (own request, other organisation)."""


@runtime_checkable
class _EntryFinder(Protocol):
    def find(self, entry: bytes, start: int) -> int | None: ...


#: Final status → (outcome, reason code, verb of the message).
_ENDINGS = {
    "APPROVED": (Outcome.ALLOW, "APPROVAL_GRANTED", "approved"),
    "REJECTED": (Outcome.BLOCK, "APPROVAL_REJECTED", "rejected"),
    "EXPIRED": (Outcome.BLOCK, "APPROVAL_EXPIRED", "expired"),
}


@dataclass(frozen=True, slots=True)
class _Conclusion:
    """How a claimed approval ends: who, the row's final status, why; and when."""

    actor: str
    status: str
    reason: str
    at: datetime

    @property
    def outcome(self) -> Outcome:
        return _ENDINGS[self.status][0]

    @property
    def code(self) -> str:
        return _ENDINGS[self.status][1]

    def message(self, original: DecisionRow) -> str:
        return (
            f"{self.actor} {_ENDINGS[self.status][2]} request {original.request_id} "
            f"(ledger index {original.ledger_index}): {self.reason}"
        )


class Approvals:
    def __init__(self, pipeline: Pipeline, owners: OwnerLock | None = None) -> None:
        self.pipeline = pipeline
        self.conclusions = ConclusionStore(pipeline.store.db)
        self.owners = owners or OwnerLock(pipeline.store.db.url)
        #: Approvals this process's threads are concluding right now (never recovered).
        self._active: set[str] = set()
        self._active_lock = threading.Lock()

    def close(self, wait_s: float = 10.0) -> None:
        """Release the owner lock once no conclusion of this process is under way: released
        mid-append, another replica could log the same conclusion again."""
        deadline = time.monotonic() + wait_s
        while True:
            with self._active_lock:
                busy = sorted(self._active)
            if not busy:
                self.owners.close()
                return
            if time.monotonic() > deadline:  # the lock goes with the process, not before
                log.warning("approvals %s still being concluded at shutdown", busy)
                return
            time.sleep(0.05)

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

    @contextlib.contextmanager
    def _working(self, decision_id: str) -> Iterator[bool]:
        """Mark ``decision_id`` as concluded by this process; yields False if it already is."""
        with self._active_lock:
            free = decision_id not in self._active
            self._active.add(decision_id)
        try:
            yield free
        finally:
            if free:
                with self._active_lock:
                    self._active.discard(decision_id)

    def _decision(self, original: DecisionRow, how: _Conclusion) -> Decision:
        pol = self.pipeline.stages.policy
        return Decision(
            outcome=how.outcome,
            code=how.code,
            message=how.message(original),
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
            evaluated_at=how.at,
        )

    def _unavailable(
        self,
        stage: str,
        request_id: str,
        how: _Conclusion,
        original: DecisionRow,
        e: Exception,
        *,
        release: bool = True,
    ) -> StageUnavailableError:
        """Record an incident; with ``release`` (nothing can be in the ledger) hand the
        claim back so a supervisor or the next sweep concludes it afresh."""
        p = self.pipeline
        p.incident(request_id, how.actor, stage, "STAGE_UNAVAILABLE", type(e).__name__)
        if release:
            try:
                self.conclusions.release(original.request_id, self.owners.owner)
            except RsrpError as r:  # the database is down too: this process's sweep retries
                log.warning("approval %s not handed back: %s", original.request_id, r)
        return StageUnavailableError(stage, request_id)

    def _append(
        self, original: DecisionRow, how: _Conclusion, request_id: str, envelope: bytes
    ) -> int:
        """Append a sealed conclusion (already recorded as sealed) and return its index."""
        try:
            # Fence: a lost lock means another replica may be concluding it already.
            self.owners.check(self.owners.owner)
        except OwnerLostError as e:
            raise StageUnavailableError("ledger", request_id) from e
        try:
            index = self.pipeline.stages.ledger.append(envelope)
        except Exception as e:
            # Not handed back: a failed commit's outcome can be unknown (rsrp.ledger), and a
            # fresh conclusion could then be logged beside this one. The sealed row stays
            # in flight; this process's sweep looks the bytes up and finishes it.
            raise self._unavailable("ledger", request_id, how, original, e, release=False) from e
        _crash_point("approval-logged")
        return index

    def _finish(self, original: DecisionRow, how: _Conclusion, request_id: str, index: int) -> None:
        row = DecisionRow(
            request_id, index, how.actor, None, int(how.outcome), how.code,
            how.message(original), how.at, "approval", original.request_id,
        )  # fmt: skip
        self.conclusions.finish(original.request_id, self.owners.owner, row)
        self.pipeline.metrics.decisions.labels(how.outcome.name, how.code).inc()

    def _conclude(self, original: DecisionRow, how: _Conclusion, request_id: str) -> DecisionResult:
        """Seal, record as sealed, log and record the decision concluding a claimed approval."""
        p = self.pipeline
        _crash_point("approval-claimed")
        decision = self._decision(original, how)
        state_hash = canonical_hash({"supervisor": how.actor, "at": how.at})
        try:
            envelope = p.stages.proof.seal(decision, request_id=request_id, state_hash=state_hash)
            log_from = p.stages.ledger.size()
            # Committed before the append: whatever happens next, recovery knows the bytes.
            self.conclusions.sealed(original.request_id, self.owners.owner, envelope, log_from)
        except OwnerLostError:
            raise
        except Exception as e:  # nothing appended: hand the claim back
            raise self._unavailable("envelope", request_id, how, original, e) from e
        _crash_point("approval-sealed")
        index = self._append(original, how, request_id, envelope)
        self._finish(original, how, request_id, index)
        return DecisionResult(request_id, decision, index, envelope, state_hash, None, None)

    def _claim_and_conclude(
        self, original: DecisionRow, how: _Conclusion, *, expired: bool
    ) -> DecisionResult | None:
        """None if another actor or process claimed it first."""
        decision_id = original.request_id
        with self._working(decision_id) as free:
            if not free:
                return None
            request_id = self.conclusions.claim(
                decision_id,
                (how.actor, how.status, how.reason),
                how.at,
                self.owners.owner,
                expired=expired,
            )
            if request_id is None:
                return None
            try:
                return self._conclude(original, how, request_id)
            except OwnerLostError as e:  # not acknowledged; the replica taking over logs it
                raise StageUnavailableError("ledger", request_id) from e

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
        how = _Conclusion(supervisor, "APPROVED" if approve else "REJECTED", reason, now)
        result = None
        if original is not None:
            result = self._claim_and_conclude(original, how, expired=False)
        if result is None:
            current = p.store.approval(decision_id) or row
            raise ApprovalConflictError(f"approval {decision_id!r} is {current.status.lower()}")
        return result

    def expire_due(self, limit: int = 100) -> list[DecisionResult]:
        """Conclude every approval past its deadline as a logged BLOCK ``APPROVAL_EXPIRED``.

        Safe to run in every replica at once: only the claim's winner logs an expiry.
        A ledger failure hands that row back (PENDING) and is raised.
        """
        p = self.pipeline
        now = p.clock()
        timeout = int(p.approval_timeout.total_seconds())
        how = _Conclusion(EXPIRY_ACTOR, "EXPIRED", f"no supervisor decided within {timeout} s", now)
        done: list[DecisionResult] = []
        for decision_id in p.store.due_approvals(now, limit):
            original = p.store.decision(decision_id)
            if original is None:
                continue
            result = self._claim_and_conclude(original, how, expired=True)
            if result is not None:  # else another replica or a supervisor got there first
                done.append(result)
        return done

    def _find(self, envelope: bytes, start: int) -> int | None:
        ledger = self.pipeline.stages.ledger
        if isinstance(ledger, _EntryFinder):
            return ledger.find(envelope, start)
        return next((i for i in range(start, ledger.size()) if ledger.entry(i) == envelope), None)

    def _recover_one(self, f: InFlight) -> None:
        original = self.pipeline.store.decision(f.decision_id)
        if original is None:  # the claim needed it; only a manual deletion gets here
            log.error("approval %s in flight without its request's row", f.decision_id)
            return
        how = _Conclusion(f.actor, f.status, f.reason, f.at)
        if f.envelope is None or f.log_from is None:
            # Never sealed, so never appended: conclude it now under the same request id.
            self._conclude(original, how, f.resolution_id)
            return
        index = self._find(f.envelope, f.log_from)
        if index is None:  # sealed but not logged: log exactly those bytes
            index = self._append(original, how, f.resolution_id, f.envelope)
        self._finish(original, how, f.resolution_id, index)

    def recover(self, limit: int = 100) -> int:
        """Finish every conclusion left in flight by a dead process, or abandoned by this
        one after a failure; return how many were finished (logged exactly once each)."""
        me = self.owners.owner
        done = 0
        for f in self.conclusions.in_flight(limit):
            if f.owner != me and self.owners.alive(f.owner):
                continue  # its live owner is on it (or will be: it never loses track)
            with self._working(f.decision_id) as free:
                if not free or not self.conclusions.take_over(
                    f.decision_id, f.owner, me, self.pipeline.clock()
                ):
                    continue  # this process, or another replica, is already on it
                log.warning(
                    "recovering approval %s (%s by %s), left in flight by process %s",
                    f.decision_id, f.status, f.actor, f.owner,
                )  # fmt: skip
                self._recover_one(f)
                # Auditors see every conclusion a crash interrupted (GET /v1/incidents).
                self.pipeline.incident(
                    f.resolution_id, f.actor, "approval", "APPROVAL_RECOVERED",
                    f"{f.status} of {f.decision_id} finished after process {f.owner} stopped"
                    f" ({'sealed' if f.envelope is not None else 'claimed'})",
                )  # fmt: skip
                done += 1
        return done
