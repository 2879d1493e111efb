"""Generate tests/vectors/rsrp-proof-envelope-v2-vectors.json (fixed keys, fixed times).

    python tests/proof/generate_v2_vectors.py          # rewrite the file
    python tests/proof/generate_v2_vectors.py --check  # regenerate and diff, exit 1 on change

Everything is regenerated exactly except the ML-DSA-65 component, which
``cryptography`` signs hedged (randomised): a stored ML-DSA component is reused
when it still verifies over the regenerated M', otherwise a fresh one is made
(and the diff shows it). The ECDSA component is RFC 6979 deterministic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
from proof_composite_oracle import (
    LABEL,
    MLDSA65_PK,
    MLDSA65_SIG,
    OracleSigner,
    message_representative,
)

from rsrp.canonical import canonical_hash
from rsrp.policy.decision import Decision, MatchedRule, Outcome, Severity
from rsrp.proof import V2_CONTEXT, sign_decision

OUT = Path(__file__).resolve().parent.parent / "vectors" / "rsrp-proof-envelope-v2-vectors.json"
SEED = bytes(range(32))
KEY_ID = "fr-proof-2026-01"
JURISDICTION = "FR"
WHEN = dt.datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=dt.UTC)


class ReplaySigner(OracleSigner):
    """Reuses a stored ML-DSA component when it verifies, so vectors regenerate stably."""

    def __init__(self, stored: dict[str, str]) -> None:
        super().__init__(SEED, KEY_ID, JURISDICTION)
        self._stored = [bytes.fromhex(h) for h in stored.values()]
        self._pq_public = mldsa.MLDSA65PublicKey.from_public_bytes(
            self.public_key_der()[:MLDSA65_PK]
        )

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        fresh = super().sign(message, context=context, jurisdiction=jurisdiction)
        m_prime = message_representative(message, context)
        for candidate in self._stored:
            try:
                self._pq_public.verify(candidate, m_prime, LABEL)
            except InvalidSignature:
                continue
            return candidate + fresh[MLDSA65_SIG:]
        return fresh


def _rule(rule_id: str, outcome: Outcome, code: str) -> MatchedRule:
    return MatchedRule(rule_id, "1.0.0", outcome, code, Severity.HIGH)


def _decision(
    outcome: Outcome, code: str, matched: tuple[MatchedRule, ...], req: dict[str, Any]
) -> Decision:
    return Decision(
        outcome=outcome,
        code=code,
        message="",
        matched=matched,
        explanation=(),
        decided_by=matched[0].rule_id if matched else None,
        bundle_id="bank-registry",
        bundle_version="1.2.0",
        jurisdiction=JURISDICTION,
        policy_hash=hashlib.sha256(b"rsrp-test policy bank-registry 1.2.0").digest(),
        bytecode_hash=hashlib.sha256(b"rsrp-test bytecode bank-registry 1.2.0").digest(),
        input_hash=canonical_hash(req),
        evaluated_at=WHEN,
    )


CASES: list[tuple[str, str, str, Decision]] = [
    (
        "allow-per-decision",
        "ALLOW after two rules matched, signed per decision",
        "per-decision",
        _decision(
            Outcome.ALLOW,
            "MISSION_OK",
            (
                _rule("mission-active", Outcome.ALLOW, "MISSION_OK"),
                _rule("hours", Outcome.ALLOW, "IN_HOURS"),
            ),
            {"agent": "A-17", "query": "iban-lookup", "results": 1},
        ),
    ),
    (
        "block-per-decision",
        "BLOCK by a volume quota rule",
        "per-decision",
        _decision(
            Outcome.BLOCK,
            "VOLUME_QUOTA_EXCEEDED",
            (_rule("quota-hour", Outcome.BLOCK, "VOLUME_QUOTA_EXCEEDED"),),
            {"agent": "A-17", "query": "bulk", "results": 5000},
        ),
    ),
    (
        "approval-default-per-decision",
        "APPROVAL_REQUIRED from the bundle default, no rule matched",
        "per-decision",
        _decision(Outcome.APPROVAL_REQUIRED, "DEFAULT", (), {"agent": "B-2", "query": "export"}),
    ),
    (
        "warn-batch",
        "WARN in batch mode: no signature, covered by the ledger checkpoint",
        "batch",
        _decision(
            Outcome.WARN,
            "JUSTIFICATION_SHORT",
            (_rule("justification", Outcome.WARN, "JUSTIFICATION_SHORT"),),
            {"agent": "C-9", "justification": "x"},
        ),
    ),
]


def build(stored: dict[str, Any] | None = None) -> dict[str, Any]:
    stored_pq = {
        v["id"]: v["mldsa_component_hex"]
        for v in (stored or {}).get("vectors", [])
        if v["mldsa_component_hex"]
    }
    signer = ReplaySigner(stored_pq)
    public = signer.public_key_der()
    vectors = []
    for index, (case_id, description, mode, decision) in enumerate(CASES):
        state_hash = canonical_hash(
            {"counters": {"requests_last_hour": index}, "mission": "M-2026-001"}
        )
        env = sign_decision(
            decision,
            signer,
            request_id=f"req-{index:04d}",
            state_hash=state_hash,
            mode="batch" if mode == "batch" else "per-decision",
        )
        signing = env.signing_bytes()
        data = env.to_bytes()
        vectors.append(
            {
                "id": case_id,
                "description": description,
                "mode": mode,
                "runtime_version": ".".join(map(str, env.runtime_version)),
                "jurisdiction": env.jurisdiction,
                "bundle_id": env.bundle_id,
                "bundle_version": env.bundle_version,
                "policy_hash_hex": env.policy_hash.hex(),
                "bytecode_hash_hex": env.bytecode_hash.hex(),
                "input_hash_hex": env.input_hash.hex(),
                "state_hash_hex": env.state_hash.hex(),
                "decision": env.decision.name,
                "reason_code": env.reason_code,
                "matched": [list(m) for m in env.matched],
                "request_id": env.request_id,
                "evaluated_at": env.evaluated_at.isoformat().replace("+00:00", "Z"),
                "evaluated_at_us": env.evaluated_at_us,
                "key_id": env.key_id,
                "signing_bytes_hex": signing.hex(),
                "m_prime_hex": message_representative(signing, V2_CONTEXT).hex()
                if env.signature
                else "",
                "mldsa_component_hex": env.signature[:MLDSA65_SIG].hex(),
                "ecdsa_component_hex": env.signature[MLDSA65_SIG:].hex(),
                "envelope_hex": data.hex(),
                "envelope_sha256_hex": hashlib.sha256(data).hexdigest(),
            }
        )
    return {
        "schema": "rsrp.proof-envelope-v2.test-vectors",
        "generator": "tests/proof/generate_v2_vectors.py",
        "composite": "id-MLDSA65-ECDSA-P384-SHA512 (draft-ietf-lamps-pq-composite-sigs)",
        "context_utf8": V2_CONTEXT.decode(),
        "key": {
            "key_id": KEY_ID,
            "jurisdiction": JURISDICTION,
            "seed_hex": SEED.hex(),
            "derivation": (
                "ML-DSA-65 from_seed_bytes(seed); "
                "P-384 scalar = SHA-384('p384|' || seed) mod (n-1) + 1"
            ),
            "composite_public_key_hex": public.hex(),
        },
        "vectors": vectors,
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def main(argv: list[str]) -> int:
    stored = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else None
    text = render(build(stored))
    if "--check" in argv:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("vectors up to date" if same else f"{OUT} differs from the regenerated vectors")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
