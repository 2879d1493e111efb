"""TEST-ONLY stand-ins for the policy, proof and ledger stages, used until those
branches are merged (the service's default wiring never uses these). They are
deliberately trivial and say so in their names."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Mapping, Sequence

from rsrp.api import CheckpointView, Stages
from rsrp.canonical import canonical_bytes, canonical_hash
from rsrp.errors import LedgerError
from rsrp.policy.decision import Decision, MatchedRule, Outcome, Severity


class StandInPolicy:
    bundle_id = "standin"
    bundle_version = "0.0.1"
    jurisdiction = "FR"
    policy_hash = hashlib.sha256(b"standin-policy").digest()
    bytecode_hash = hashlib.sha256(b"standin-bytecode").digest()

    def decide(self, data: Mapping[str, object], *, now: dt.datetime) -> Decision:
        request = data["request"]
        assert isinstance(request, Mapping)
        if request.get("query_type") == "BULK_EXTRACT":
            outcome, code = Outcome.BLOCK, "QUERY_TYPE_FORBIDDEN"
        elif isinstance(request.get("limit"), int) and request["limit"] > 50:  # type: ignore[operator]
            outcome, code = Outcome.APPROVAL_REQUIRED, "APPROVAL_REQUIRED"
        else:
            outcome, code = Outcome.ALLOW, "ACCESS_GRANTED"
        rule = MatchedRule("STANDIN_" + code, "1.0.0", outcome, code, Severity.LOW)
        return Decision(
            outcome=outcome, code=code, message=code.lower(), matched=(rule,), explanation=(),
            decided_by=rule.rule_id, bundle_id=self.bundle_id, bundle_version=self.bundle_version,
            jurisdiction=self.jurisdiction, policy_hash=self.policy_hash,
            bytecode_hash=self.bytecode_hash, input_hash=canonical_hash(dict(data)),  # type: ignore[arg-type]
            evaluated_at=now,
        )  # fmt: skip


class StandInProof:
    mode = "batch"

    def seal(self, decision: Decision, *, request_id: str, state_hash: bytes) -> bytes:
        return canonical_bytes(
            {"request_id": request_id, "code": decision.code, "state": state_hash,
             "outcome": int(decision.outcome), "input": decision.input_hash}
        )  # fmt: skip

    def seal_many(self, items: Sequence[tuple[Decision, str, bytes]]) -> list[bytes]:
        return [self.seal(d, request_id=r, state_hash=s) for d, r, s in items]

    def selftest(self) -> None:
        return None


class StandInLedger:
    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.lock = threading.Lock()
        self.fail = False

    def append(self, entry: bytes) -> int:
        if self.fail:
            raise LedgerError("stand-in ledger is down")
        with self.lock:
            self.entries.append(entry)
            return len(self.entries) - 1

    def append_many(self, entries: Sequence[bytes]) -> list[int]:
        return [self.append(e) for e in entries]

    def size(self) -> int:
        return len(self.entries)

    def entry(self, index: int) -> bytes:
        return self.entries[index]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return []

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return []

    def latest_checkpoint(self) -> CheckpointView | None:
        return None

    def receipt(self, index: int) -> str | None:
        return None

    def close(self) -> None:
        return None


def standin_stages() -> Stages:
    return Stages(StandInPolicy(), StandInProof(), StandInLedger())
