"""R-SRP ProofEnvelope V1: the published fixture and the code fixture, byte for byte."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from v1_helpers import FIXTURE_KEY_ID, ed25519_keyring, ed25519_signer, load_vectors

from rsrp.policy.decision import Outcome
from rsrp.proof import (
    Ed25519MetaV1,
    Expectation,
    HashMismatchError,
    SignatureInvalidError,
    UnknownKeyError,
    decode_envelope,
    decode_v1,
    pack_runtime_version,
    sign_v1,
    unpack_runtime_version,
    verify_envelope,
)

PUBLISHED = load_vectors("rsrp-proof-envelope-v1-published.json")["published"]["vectors"]
CODE = load_vectors("rsrp-proof-envelope-v1-code-fixture.json")["vectors"]


def _runtime(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in text.split("."))
    return major, minor, patch


def _sign(vector: dict[str, Any], derivation: str) -> bytes:
    signer = ed25519_signer(
        vector["signer_key_derivation_secret_utf8"].encode(),
        "sha256" if derivation == "sha256" else "hkdf",
        vector["signer_key_id"],
    )
    env = sign_v1(
        signer,
        runtime_version=_runtime(vector["runtime_version_string"]),
        policy_hash=bytes.fromhex(vector["policy_hash_hex"]),
        bytecode_hash=bytes.fromhex(vector["bytecode_hash_hex"]),
        input_hash=bytes.fromhex(vector["input_hash_hex"]),
        state_hash=bytes.fromhex(vector["state_hash_hex"]),
        decision=Outcome(vector["decision_code"]),
    )
    assert env.signing_bytes().hex() == vector["signing_bytes_hex"]
    return env.to_bytes()


@pytest.mark.parametrize("vector", PUBLISHED, ids=[v["id"] for v in PUBLISHED])
def test_published_fixture_reproduced_with_sha256_seed(vector: dict[str, Any]) -> None:
    canonical = _sign(vector, "sha256")
    assert canonical.hex() == vector["canonical_bytes_hex"]
    assert len(canonical) == vector["canonical_bytes_len"]
    assert hashlib.sha256(canonical).hexdigest() == vector["canonical_bytes_sha256_hex"]
    assert vector["runtime_version_packed_u32_be_hex"] == canonical[2:6].hex()


@pytest.mark.parametrize("vector", PUBLISHED, ids=[v["id"] for v in PUBLISHED])
def test_published_fixture_verifies_and_decodes(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["canonical_bytes_hex"])
    signer = ed25519_signer(vector["signer_key_derivation_secret_utf8"].encode(), "sha256")
    verified = verify_envelope(data, ed25519_keyring(signer))
    env = decode_v1(data)
    assert verified.key_id == FIXTURE_KEY_ID
    assert verified.algorithm == "ed25519"
    assert env.decision is Outcome.BLOCK
    assert unpack_runtime_version(env.runtime_version) == (0, 9, 1)
    assert isinstance(env.meta, Ed25519MetaV1)
    assert env.meta.key_id_hash == hashlib.sha256(FIXTURE_KEY_ID.encode()).digest()
    assert env.to_bytes() == data
    assert decode_envelope(data) == env


@pytest.mark.parametrize("vector", CODE, ids=[v["id"] for v in CODE])
def test_code_fixture_reproduced_with_hkdf_seed(vector: dict[str, Any]) -> None:
    canonical = _sign(vector, "hkdf")
    assert canonical.hex() == vector["canonical_bytes_hex"]
    signer = ed25519_signer(vector["signer_key_derivation_secret_utf8"].encode(), "hkdf")
    assert verify_envelope(canonical, ed25519_keyring(signer)).key_id == FIXTURE_KEY_ID


def test_published_fixture_fails_under_the_other_derivation() -> None:
    data = bytes.fromhex(PUBLISHED[0]["canonical_bytes_hex"])
    hkdf_signer = ed25519_signer(derivation="hkdf")
    with pytest.raises(SignatureInvalidError) as info:
        verify_envelope(data, ed25519_keyring(hkdf_signer))
    assert info.value.component == "ed25519"


def test_rsrp_roundtrip_case() -> None:
    """R-SRP test_proof_envelope_v1_canonical_decode_roundtrip, with its inputs."""
    signer = ed25519_signer(b"rsrp-proof-envelope-v1-roundtrip")
    env = sign_v1(
        signer,
        runtime_version=(0, 9, 3),
        policy_hash=b"\xaa" * 32,
        bytecode_hash=b"\xbb" * 32,
        input_hash=b"\xcc" * 32,
        state_hash=b"\xdd" * 32,
        decision=Outcome.ALLOW,
    )
    data = env.to_bytes()
    decoded = decode_v1(data)
    assert decoded.to_bytes() == data
    assert decoded.decision is Outcome.ALLOW
    verify_envelope(data, ed25519_keyring(signer))


def test_pack_runtime_version() -> None:
    """R-SRP test_pack_runtime_version_u32_includes_patch."""
    assert pack_runtime_version(1, 2, 3) == 0x01020003
    assert pack_runtime_version(0, 9, 4) != pack_runtime_version(0, 9, 99)
    with pytest.raises(ValueError, match="does not fit"):
        pack_runtime_version(256, 0, 0)


def test_unknown_key_and_expectations() -> None:
    data = bytes.fromhex(PUBLISHED[0]["canonical_bytes_hex"])
    signer = ed25519_signer(derivation="sha256", key_id="another-key")
    with pytest.raises(UnknownKeyError):
        verify_envelope(data, ed25519_keyring(signer))
    keyring = ed25519_keyring(ed25519_signer(derivation="sha256"))
    verify_envelope(data, keyring, Expectation(policy_hash=b"\x11" * 32, state_hash=b"\x44" * 32))
    with pytest.raises(HashMismatchError) as info:
        verify_envelope(data, keyring, Expectation(input_hash=b"\x34" * 32))
    assert info.value.field == "input_hash"
