"""Recipes that turn a ``Decision`` into a signed envelope with safe defaults (STYLE.md 7)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import rsrp
from rsrp.errors import RsrpError
from rsrp.keys.signer import Signer
from rsrp.policy.decision import Decision, MatchedRule, Outcome
from rsrp.proof._errors import MalformedEnvelopeError, SigningFailedError
from rsrp.proof._v1 import (
    MLDSA_LEVELS,
    Ed25519MetaV1,
    EnvelopeV1,
    HybridMetaV1,
    key_id_hash,
    pack_runtime_version,
)
from rsrp.proof._v2 import V2_CONTEXT, BatchEncoder, EnvelopeV2, SignatureAlgorithm, SigningMode
from rsrp.proof._verify import COMPOSITE_ALGORITHM

__all__ = [
    "DEFAULT_BACKEND_ID",
    "seal_batch",
    "sign_decision",
    "sign_decision_v1",
    "sign_v1",
    "write_envelopes",
]

#: V1 hybrid ``backend_id``: names the ML-DSA implementation (R-SRP writes "oqs").
DEFAULT_BACKEND_ID = "pyca-cryptography"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_FILE_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
Mode = Literal["per-decision", "batch"]


def _micros(when: dt.datetime) -> int:
    if when.tzinfo is None or when.utcoffset() is None:
        raise MalformedEnvelopeError(f"evaluation time {when.isoformat()} has no time zone")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _sign(signer: Signer, message: bytes, context: bytes, jurisdiction: str | None) -> bytes:
    try:
        return signer.sign(message, context=context, jurisdiction=jurisdiction)
    except RsrpError as e:
        raise SigningFailedError(f"signer {signer.key_id!r} refused: {e}") from e
    except Exception as e:  # a failing HSM/backend must surface as one error type
        raise SigningFailedError(f"signer {signer.key_id!r} failed: {type(e).__name__}: {e}") from e


def _check_jurisdiction(signer: Signer, decision: Decision) -> None:
    if signer.jurisdiction != decision.jurisdiction:
        raise SigningFailedError(
            f"key {signer.key_id!r} belongs to {signer.jurisdiction!r}, "
            f"the decision to {decision.jurisdiction!r}"
        )


def sign_decision(
    decision: Decision,
    signer: Signer,
    *,
    request_id: str | uuid.UUID,
    state_hash: bytes,
    mode: Mode = "per-decision",
    runtime_version: tuple[int, int, int] = rsrp.RUNTIME_VERSION,
) -> EnvelopeV2:
    """Build the V2 envelope of ``decision`` (docs/proof-envelope-v2.md) and sign it.

    ``per-decision`` signs with the composite ML-DSA-65 + ECDSA P-384 key (ctx
    ``rsrp-envelope-v2``); ``batch`` writes no signature: the ledger checkpoint covers
    it. The signer's jurisdiction must be the decision's. ``state_hash`` is the
    canonical hash of the context snapshot (``canonical_hash({})`` when there is none).
    """
    if mode not in ("per-decision", "batch"):
        raise SigningFailedError(f"unknown signing mode {mode!r}; use per-decision or batch")
    signing_mode = SigningMode.PER_DECISION if mode == "per-decision" else SigningMode.BATCH
    _check_jurisdiction(signer, decision)
    batch = signing_mode is SigningMode.BATCH
    if not batch and signer.algorithm != COMPOSITE_ALGORITHM:
        raise SigningFailedError(
            f"V2 needs a {COMPOSITE_ALGORITHM} key, {signer.key_id!r} is {signer.algorithm}"
        )
    unsigned = EnvelopeV2(
        runtime_version=runtime_version,
        jurisdiction=decision.jurisdiction,
        bundle_id=decision.bundle_id,
        bundle_version=decision.bundle_version,
        policy_hash=decision.policy_hash,
        bytecode_hash=decision.bytecode_hash,
        input_hash=decision.input_hash,
        state_hash=state_hash,
        decision=decision.outcome,
        reason_code=decision.code,
        matched=tuple((m.rule_id, m.version) for m in decision.matched),
        request_id=str(request_id),
        evaluated_at_us=_micros(decision.evaluated_at),
        key_id=signer.key_id,
        mode=signing_mode,
        algorithm=SignatureAlgorithm.NONE
        if batch
        else SignatureAlgorithm.MLDSA65_ECDSA_P384_SHA512,
    )
    if batch:
        return unsigned
    signature = _sign(signer, unsigned.signing_bytes(), V2_CONTEXT, decision.jurisdiction)
    return dataclasses.replace(unsigned, signature=signature)


def seal_batch(
    items: Sequence[tuple[Decision, str, bytes]],
    signer: Signer,
    *,
    runtime_version: tuple[int, int, int] = rsrp.RUNTIME_VERSION,
) -> list[bytes]:
    """The batch-mode envelope bytes of each ``(decision, request_id, state_hash)``.

    Byte for byte ``sign_decision(..., mode="batch").to_bytes()``, with the same
    checks and errors, at a fraction of the cost per decision: what the decisions
    of a batch share is checked and encoded once (:class:`BatchEncoder`).
    """
    encoder = BatchEncoder(runtime_version, signer.key_id)
    jurisdiction = signer.jurisdiction
    # Matched-rule lists are shared by every decision with the same verdict; keyed by
    # identity, each entry holding its list so the id cannot be reused meanwhile.
    pairs: dict[int, tuple[tuple[MatchedRule, ...], tuple[tuple[str, str], ...]]] = {}
    out: list[bytes] = []
    at, at_us = None, 0  # a batch is decided at one time: convert it once
    for d, request_id, state_hash in items:
        if d.jurisdiction != jurisdiction:
            _check_jurisdiction(signer, d)
        matched = pairs.get(id(d.matched))
        if matched is None:
            matched = pairs[id(d.matched)] = (
                d.matched,
                tuple((m.rule_id, m.version) for m in d.matched),
            )
        if d.evaluated_at is not at:
            at, at_us = d.evaluated_at, _micros(d.evaluated_at)
        bundle = (d.jurisdiction, d.bundle_id, d.bundle_version, d.policy_hash, d.bytecode_hash)
        out.append(
            encoder.encode(
                bundle,
                d.input_hash,
                state_hash,
                d.outcome,
                d.code,
                matched[1],
                str(request_id),
                at_us,
            )
        )
    return out


def sign_v1(
    signer: Signer,
    *,
    runtime_version: tuple[int, int, int],
    policy_hash: bytes,
    bytecode_hash: bytes,
    input_hash: bytes,
    state_hash: bytes,
    decision: Outcome,
    backend_id: str = DEFAULT_BACKEND_ID,
) -> EnvelopeV1:
    """R-SRP ``ProofEnvelopeV1::sign_ed25519`` / ``sign_hybrid`` (spec §5, §7)."""
    for name, value in (
        ("policy_hash", policy_hash),
        ("bytecode_hash", bytecode_hash),
        ("input_hash", input_hash),
        ("state_hash", state_hash),
    ):
        if len(value) != 32:
            raise MalformedEnvelopeError(f"{name} is {len(value)} bytes; V1 needs 32")
    meta: Ed25519MetaV1 | HybridMetaV1
    if signer.algorithm == "ed25519":
        meta = Ed25519MetaV1(key_id_hash(signer.key_id))
    else:
        levels = {f"ed25519+{name}": code for code, (name, _) in MLDSA_LEVELS.items()}
        if signer.algorithm not in levels:
            raise SigningFailedError(
                f"V1 signs with ed25519 or ed25519+ml-dsa-*, not {signer.algorithm}"
            )
        backend = hashlib.sha256(backend_id.encode("utf-8")).digest()
        meta = HybridMetaV1(key_id_hash(signer.key_id), backend, levels[signer.algorithm])
    try:
        packed = pack_runtime_version(*runtime_version)
    except ValueError as e:
        raise MalformedEnvelopeError(str(e)) from e
    unsigned = EnvelopeV1(
        packed, policy_hash, bytecode_hash, input_hash, state_hash, int(decision), meta, b""
    )
    signature = _sign(signer, unsigned.signing_bytes(), b"", None)
    return EnvelopeV1(
        packed, policy_hash, bytecode_hash, input_hash, state_hash, int(decision), meta, signature
    )


def sign_decision_v1(
    decision: Decision,
    signer: Signer,
    *,
    state_hash: bytes,
    runtime_version: tuple[int, int, int] = rsrp.RUNTIME_VERSION,
) -> EnvelopeV1:
    """The R-SRP V1 envelope of ``decision`` (drops what V1 cannot carry)."""
    return sign_v1(
        signer,
        runtime_version=runtime_version,
        policy_hash=decision.policy_hash,
        bytecode_hash=decision.bytecode_hash,
        input_hash=decision.input_hash,
        state_hash=state_hash,
        decision=decision.outcome,
    )


def write_envelopes(
    items: Iterable[tuple[Decision, str, bytes]],
    signer: Signer,
    out_dir: Path,
    *,
    mode: Mode = "per-decision",
) -> list[Path]:
    """Sign each ``(decision, request_id, state_hash)`` and write ``OUT/<request_id>.rsrp``.

    Files are written to a temporary name, fsynced and renamed; an existing file is
    never overwritten (SigningFailedError), so no earlier proof is lost.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for decision, request_id, state_hash in items:
        if not _FILE_SAFE.fullmatch(request_id):
            raise MalformedEnvelopeError(
                f"request id {request_id!r} is not [A-Za-z0-9][A-Za-z0-9._:-]{{0,127}}"
            )
        env = sign_decision(
            decision, signer, request_id=request_id, state_hash=state_hash, mode=mode
        )
        path = out_dir / f"{request_id}.rsrp"
        if path.exists():
            raise SigningFailedError(f"{path} exists; refusing to overwrite a proof")
        tmp = path.with_suffix(".rsrp.tmp")
        with tmp.open("wb") as f:
            f.write(env.to_bytes())
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(path)
        written.append(path)
    return written
