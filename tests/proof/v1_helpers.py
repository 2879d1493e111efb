"""Test helpers for V1: fixed keys from the R-SRP fixture secrets (both seed derivations)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from rsrp.proof import (
    Ed25519Signer,
    Ed25519Verifier,
    HybridV1Signer,
    KeyEntry,
    StaticKeyring,
    ed25519_from_secret,
)
from rsrp.proof._v1_keys import MLDSAPrivateKey

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
FIXTURE_SECRET = b"rsrp-proof-envelope-v1-ed25519-test-vector"
FIXTURE_KEY_ID = "fixture-ed25519-key"


def mldsa_key(level: int, seed: bytes) -> MLDSAPrivateKey:
    if level == 2:
        return mldsa.MLDSA44PrivateKey.from_seed_bytes(seed)
    if level == 3:
        return mldsa.MLDSA65PrivateKey.from_seed_bytes(seed)
    return mldsa.MLDSA87PrivateKey.from_seed_bytes(seed)


def load_vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def ed25519_signer(
    secret: bytes = FIXTURE_SECRET,
    derivation: Literal["hkdf", "sha256"] = "hkdf",
    key_id: str = FIXTURE_KEY_ID,
) -> Ed25519Signer:
    return Ed25519Signer(ed25519_from_secret(secret, derivation), key_id)


def ed25519_keyring(signer: Ed25519Signer) -> StaticKeyring:
    public = load_der_public_key(signer.public_key_der())
    assert isinstance(public, ed25519.Ed25519PublicKey)
    return StaticKeyring([KeyEntry(Ed25519Verifier(public, signer.key_id))])


def hybrid_signer(level: int, key_id: str = "hybrid-key") -> HybridV1Signer:
    """Fixed keys: Ed25519 from the HKDF derivation, ML-DSA from a fixed 32-byte seed."""
    classical = ed25519_from_secret(b"rsrp-hybrid-test-" + key_id.encode(), "hkdf")
    pq = mldsa_key(level, bytes([level]) * 32)
    return HybridV1Signer(classical, pq, key_id)


def hybrid_keyring(signer: HybridV1Signer) -> StaticKeyring:
    return StaticKeyring([KeyEntry(signer.verifier())])
