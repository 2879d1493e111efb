"""Shared builders for the ledger-notes tests: real V1 envelopes, keys, witnesses."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from rsrp.canonical import canonical_hash
from rsrp.keys.signer import Signer
from rsrp.ledger import generate_key, signer_from_skey, verifier_from_vkey
from rsrp.ledger._witness import Witness
from rsrp.ledger._witness_policy import WitnessKey
from rsrp.ledger._witness_state import WitnessState
from rsrp.policy.decision import Decision, Outcome
from rsrp.proof import (
    Ed25519Signer,
    Ed25519Verifier,
    KeyEntry,
    StaticKeyring,
    ed25519_from_secret,
    sign_decision,
    sign_v1,
)

ORIGIN = "rsrp.example/FR"
ENVELOPE_KEY_ID = "fr-decisions"


def envelopes(n: int, secret: bytes = b"receipt-test") -> tuple[list[bytes], StaticKeyring]:
    """``n`` real R-SRP V1 Ed25519 envelopes and the keyring that verifies them."""
    key = ed25519_from_secret(secret, "hkdf")
    signer = Ed25519Signer(key, ENVELOPE_KEY_ID)
    out = [
        sign_v1(
            signer,
            runtime_version=(0, 1, 0),
            policy_hash=bytes([i % 256]) * 32,
            bytecode_hash=b"\x22" * 32,
            input_hash=b"\x33" * 32,
            state_hash=b"\x44" * 32,
            decision=Outcome.ALLOW if i % 2 else Outcome.BLOCK,
        ).to_bytes()
        for i in range(n)
    ]
    return out, StaticKeyring([KeyEntry(Ed25519Verifier(key.public_key(), ENVELOPE_KEY_ID))])


def write_keyring_dir(directory: Path, secret: bytes = b"receipt-test") -> Path:
    """``<key id>.pem`` for StaticKeyring.from_dir (what `rsrp receipt verify --keyring` reads)."""
    key = ed25519_from_secret(secret, "hkdf")
    directory.mkdir(parents=True, exist_ok=True)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (directory / f"{ENVELOPE_KEY_ID}.pem").write_bytes(pem)
    return directory


def make_witness(
    tmp_path: Path, name: str, log_vkey: str, key_type: str = "cosignature-mldsa44"
) -> tuple[Witness, WitnessKey, str, str]:
    """A witness following ``log_vkey`` with state in ``tmp_path``; also its skey and vkey."""
    skey, vkey = generate_key(name, key_type)
    state = WitnessState(tmp_path / f"{name.replace('/', '_')}.db")
    w = Witness(state, [signer_from_skey(skey)], {ORIGIN: [verifier_from_vkey(log_vkey)]})
    return w, WitnessKey(name, (verifier_from_vkey(vkey),)), skey, vkey


def batch_envelopes(n: int, signer: Signer) -> list[bytes]:
    """``n`` unsigned batch-mode V2 envelopes (the ledger checkpoint is their signature)."""
    out = []
    for i in range(n):
        decision = Decision(
            outcome=Outcome.BLOCK,
            code="QUOTA",
            message="",
            matched=(),
            explanation=(),
            decided_by=None,
            bundle_id="bank-registry",
            bundle_version="1.0.0",
            jurisdiction="FR",
            policy_hash=hashlib.sha256(b"policy").digest(),
            bytecode_hash=hashlib.sha256(b"bytecode").digest(),
            input_hash=canonical_hash({"i": i}),
            evaluated_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        )
        env = sign_decision(
            decision,
            signer,
            request_id=f"req-{i}",
            state_hash=canonical_hash({}),
            mode="batch",
        )
        out.append(env.to_bytes())
    return out
