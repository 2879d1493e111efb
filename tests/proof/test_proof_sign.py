"""sign_decision / write_envelopes / SigningPool: safe defaults and refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path

import generate_v2_vectors as gen
import pytest
from proof_composite_oracle import OracleSigner
from v1_helpers import ed25519_signer

from rsrp import RUNTIME_VERSION
from rsrp.canonical import canonical_hash
from rsrp.policy.decision import Outcome
from rsrp.proof import (
    KeyEntry,
    MalformedEnvelopeError,
    SignatureAlgorithm,
    SigningFailedError,
    SigningMode,
    SigningPool,
    StaticKeyring,
    decode_envelope,
    sign_decision,
    sign_decision_v1,
    verify_envelope,
    write_envelopes,
)

DECISION = gen.CASES[1][3]
STATE = canonical_hash({})
SIGNER = OracleSigner(b"\x42" * 32, "fr-sign-test", "FR")
RING = StaticKeyring([KeyEntry(SIGNER.verifier())])


def make_signer() -> OracleSigner:
    return OracleSigner(b"\x42" * 32, "fr-sign-test", "FR")


def test_defaults_write_version_and_algorithm_markers() -> None:
    env = sign_decision(DECISION, SIGNER, request_id="r-1", state_hash=STATE)
    data = env.to_bytes()
    assert data[:5] == b"RSRP\x02"
    assert env.runtime_version == RUNTIME_VERSION
    assert env.mode is SigningMode.PER_DECISION
    assert env.algorithm is SignatureAlgorithm.MLDSA65_ECDSA_P384_SHA512
    assert env.matched == (("quota-hour", "1.0.0"),)
    assert env.evaluated_at == DECISION.evaluated_at
    assert verify_envelope(data, RING).envelope == env


def test_batch_mode_has_no_signature() -> None:
    env = sign_decision(DECISION, SIGNER, request_id="r-2", state_hash=STATE, mode="batch")
    assert env.signature == b""
    assert env.algorithm is SignatureAlgorithm.NONE


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"jurisdiction": "DE"}, SigningFailedError, "belongs to"),
        ({"evaluated_at": dt.datetime(2026, 1, 1)}, MalformedEnvelopeError, "time zone"),
        ({"policy_hash": bytes(32)}, MalformedEnvelopeError, "all zeros"),
        ({"code": "BAD CODE"}, MalformedEnvelopeError, "printable ASCII"),
        ({"bundle_id": "é"}, MalformedEnvelopeError, "printable ASCII"),
        ({"bundle_version": "1" * 65}, MalformedEnvelopeError, "allowed 1..64"),
    ],
    ids=["other-jurisdiction", "naive-time", "zero-hash", "space", "non-ascii", "too-long"],
)
def test_refusals(change: dict[str, object], error: type[Exception], match: str) -> None:
    decision = dataclasses.replace(DECISION, **change)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        sign_decision(decision, SIGNER, request_id="r", state_hash=STATE)


def test_zero_state_hash_and_wrong_algorithm_refused() -> None:
    with pytest.raises(MalformedEnvelopeError, match="state_hash is all zeros"):
        sign_decision(DECISION, SIGNER, request_id="r", state_hash=bytes(32))
    ed = ed25519_signer()
    with pytest.raises(SigningFailedError):
        sign_decision(
            dataclasses.replace(DECISION, jurisdiction=""), ed, request_id="r", state_hash=STATE
        )


def test_signer_failure_is_signing_failed() -> None:
    class Broken(OracleSigner):
        def sign(
            self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
        ) -> bytes:
            raise OSError("token removed")

    with pytest.raises(SigningFailedError, match="token removed"):
        sign_decision(DECISION, Broken(b"\x01" * 32, "k", "FR"), request_id="r", state_hash=STATE)


def test_v1_from_decision() -> None:
    env = sign_decision_v1(DECISION, ed25519_signer(), state_hash=STATE)
    assert env.decision is Outcome.BLOCK
    assert decode_envelope(env.to_bytes()) == env


def test_write_envelopes(tmp_path: Path) -> None:
    items = [(DECISION, "req-1", STATE), (gen.CASES[0][3], "req-2", STATE)]
    paths = write_envelopes(items, SIGNER, tmp_path / "out")
    assert [p.name for p in paths] == ["req-1.rsrp", "req-2.rsrp"]
    for path in paths:
        verify_envelope(path.read_bytes(), RING)
    with pytest.raises(SigningFailedError, match="refusing to overwrite"):
        write_envelopes(items[:1], SIGNER, tmp_path / "out")
    with pytest.raises(MalformedEnvelopeError, match="request id"):
        write_envelopes([(DECISION, "../escape", STATE)], SIGNER, tmp_path / "out")


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_signing_pool(kind: str) -> None:
    items = [(DECISION, f"req-{i}", STATE) for i in range(6)]
    with SigningPool(functools.partial(make_signer), workers=2, kind=kind) as pool:  # type: ignore[arg-type]
        envelopes = pool.sign_all(items)
        batch = pool.submit(DECISION, request_id="b", state_hash=STATE, mode="batch").result()
    assert [e.request_id for e in envelopes] == [f"req-{i}" for i in range(6)]
    for env in envelopes:
        verify_envelope(env.to_bytes(), RING)
    assert batch.mode is SigningMode.BATCH
