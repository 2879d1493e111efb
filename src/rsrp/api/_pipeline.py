"""The decision pipeline: identity → context → input → decide → envelope → ledger.

Every failure before the envelope becomes a logged BLOCK with a reason code and
an incident; a failure of the envelope or ledger stage cannot be logged, so it
raises :class:`StageUnavailableError` (HTTP 503, nothing acknowledged). A decision
is acknowledged only after the ledger's durable append.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rsrp.api._metrics import Metrics
from rsrp.api._stages import Stages
from rsrp.api._store import DecisionRow, ServiceStore, request_ids
from rsrp.canonical import canonical_hash
from rsrp.context import (
    AgentDisabledError,
    ContextBuilder,
    ContextDataError,
    ContextSnapshot,
    UnknownAgentError,
    UnknownMissionError,
    build_input,
)
from rsrp.errors import RsrpError, ServiceError
from rsrp.policy.decision import Decision, Outcome

__all__ = ["DecisionRequest", "DecisionResult", "Pipeline", "StageUnavailableError", "blocked"]

_EMPTY_STATE = canonical_hash({})


class StageUnavailableError(ServiceError):
    """The decision could not be sealed or logged; nothing was acknowledged."""

    def __init__(self, stage: str, request_id: str) -> None:
        super().__init__(f"the {stage} stage is unavailable; the request was not decided")
        self.stage = stage
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    principal: str
    mission_id: str | None
    account: str | None
    fields: Mapping[str, object]
    result_count_hint: int = 0


@dataclass(frozen=True, slots=True)
class DecisionResult:
    request_id: str
    decision: Decision
    ledger_index: int
    envelope: bytes
    state_hash: bytes
    mission_id: str | None
    approval_expires_at: dt.datetime | None


def blocked(
    stages: Stages, code: str, message: str, input_hash: bytes, now: dt.datetime
) -> Decision:
    """A fail-closed BLOCK made by the service itself (no rule matched or ran)."""
    p = stages.policy
    return Decision(
        outcome=Outcome.BLOCK,
        code=code,
        message=message,
        matched=(),
        explanation=(),
        decided_by=None,
        bundle_id=p.bundle_id,
        bundle_version=p.bundle_version,
        jurisdiction=p.jurisdiction,
        policy_hash=p.policy_hash,
        bytecode_hash=p.bytecode_hash,
        input_hash=input_hash,
        evaluated_at=now,
        error=message,
    )


def _ident_hash(req: DecisionRequest) -> bytes:
    return canonical_hash({"principal": req.principal, "mission": req.mission_id})


def _context_code(e: RsrpError) -> str:
    if isinstance(e, UnknownAgentError):
        return "UNKNOWN_AGENT"
    if isinstance(e, AgentDisabledError):
        return "AGENT_DISABLED"
    if isinstance(e, UnknownMissionError):
        return "UNKNOWN_MISSION"
    if isinstance(e, ContextDataError):
        return "INPUT_INVALID"
    return "CONTEXT_UNAVAILABLE"


class Pipeline:
    def __init__(
        self,
        stages: Stages,
        context: ContextBuilder,
        store: ServiceStore,
        metrics: Metrics,
        *,
        approval_timeout: dt.timedelta,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.stages = stages
        self.context = context
        self.store = store
        self.metrics = metrics
        self.approval_timeout = approval_timeout
        self.clock = clock

    def incident(self, request_id: str, principal: str, stage: str, code: str, detail: str) -> None:
        self.metrics.incidents.labels(stage).inc()
        # The incident table shares the database; if it is down the ledger stage
        # fails too and the request is refused with 503.
        with contextlib.suppress(RsrpError):
            self.store.add_incident(self.clock(), request_id, principal, stage, code, detail)

    def failed(
        self, req: DecisionRequest, request_id: str, stage: str, e: RsrpError, now: dt.datetime
    ) -> Decision:
        """The logged BLOCK for a failure before the policy ran (identity, context, input)."""
        code = _context_code(e)
        self.incident(request_id, req.principal, stage, code, str(e))
        return blocked(self.stages, code, str(e), _ident_hash(req), now)

    def evaluate(
        self, req: DecisionRequest, request_id: str, snap: ContextSnapshot, now: dt.datetime
    ) -> Decision:
        """Input and decide stages for one request; never raises."""
        try:
            data = build_input(snap, req.fields)
        except RsrpError as e:
            return self.failed(req, request_id, "input", e, now)
        try:
            decision = self.stages.policy.decide(data, now=now)
        except Exception as e:  # fail closed on anything the engine throws
            self.incident(
                request_id, req.principal, "decide", "POLICY_UNAVAILABLE", type(e).__name__
            )
            msg = "the policy engine failed"
            return blocked(self.stages, "POLICY_UNAVAILABLE", msg, _ident_hash(req), now)
        if decision.error is not None:
            self.incident(request_id, req.principal, "input", decision.code, decision.error[:500])
            if decision.input_hash == bytes(32):
                # The engine could not hash an input it rejected; bind the envelope to
                # who asked under which mission instead (an all-zero hash never seals).
                decision = dataclasses.replace(decision, input_hash=_ident_hash(req))
        return decision

    def _decide(
        self, req: DecisionRequest, request_id: str, now: dt.datetime
    ) -> tuple[Decision, bytes, int | None, str | None]:
        """Return (decision, state_hash, reservation id, mission id); never raises RsrpError."""
        try:
            agent, mission = self.context.resolve(req.principal, req.mission_id, now)
        except RsrpError as e:
            return self.failed(req, request_id, "identity", e, now), _EMPTY_STATE, None, None
        try:
            snap, res = self.context.snapshot(agent, mission, now, req.account)
        except RsrpError as e:
            return self.failed(req, request_id, "context", e, now), _EMPTY_STATE, None, None
        started = time.perf_counter()
        decision = self.evaluate(req, request_id, snap, now)
        self.metrics.stage_latency.labels("decide").observe(time.perf_counter() - started)
        mission_id = mission.id if mission is not None else None
        return decision, snap.state_hash(), res.event_id, mission_id

    def _seal_and_log(
        self, decision: Decision, request_id: str, state_hash: bytes, principal: str
    ) -> tuple[bytes, int]:
        stage = "envelope"
        try:
            started = time.perf_counter()
            envelope = self.stages.proof.seal(
                decision, request_id=request_id, state_hash=state_hash
            )
            stage = "ledger"
            mid = time.perf_counter()
            index = self.stages.ledger.append(envelope)
            self.metrics.stage_latency.labels("envelope").observe(mid - started)
            self.metrics.stage_latency.labels("ledger").observe(time.perf_counter() - mid)
        except Exception as e:
            self.incident(request_id, principal, stage, "STAGE_UNAVAILABLE", type(e).__name__)
            raise StageUnavailableError(stage, request_id) from e
        return envelope, index

    def decide(self, req: DecisionRequest) -> DecisionResult:
        started = time.perf_counter()
        request_id = request_ids(1)[0]
        now = self.clock()
        decision, state_hash, reservation, mission_id = self._decide(req, request_id, now)
        envelope, index = self._seal_and_log(decision, request_id, state_hash, req.principal)
        expires = None
        if decision.outcome is Outcome.APPROVAL_REQUIRED:
            expires = now + self.approval_timeout
        row = DecisionRow(
            request_id, index, req.principal, mission_id, int(decision.outcome),
            decision.code, decision.message, now, "request", None,
        )  # fmt: skip
        event = None
        if reservation is not None:
            granted = decision.outcome in (Outcome.ALLOW, Outcome.WARN)
            hint = req.result_count_hint if granted else 0
            event = (reservation, int(decision.outcome), hint)
        try:
            self.store.record(row, expires, event)
        except RsrpError as e:
            # The decision is already durable in the ledger; only the index tables lag.
            self.incident(request_id, req.principal, "record", "RECORD_FAILED", str(e))
        self.metrics.decisions.labels(decision.outcome.name, decision.code).inc()
        self.metrics.latency.observe(time.perf_counter() - started)
        return DecisionResult(
            request_id, decision, index, envelope, state_hash, mission_id, expires
        )
