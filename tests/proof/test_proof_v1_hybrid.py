"""V1 hybrid Ed25519 + ML-DSA-44/65/87, and the strict version/decision checks."""

from __future__ import annotations

import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from v1_helpers import ed25519_keyring, ed25519_signer, hybrid_keyring, hybrid_signer

from rsrp.policy.decision import Outcome
from rsrp.proof import (
    DEFAULT_BACKEND_ID,
    HYBRID_PAYLOAD_PREFIX,
    EnvelopeV1,
    HybridMetaV1,
    MalformedEnvelopeError,
    SignatureInvalidError,
    UnknownDecisionError,
    UnsupportedAlgorithmError,
    UnsupportedVersionError,
    decode_v1,
    sign_v1,
    verify_envelope,
)

SIZES = {2: 2420, 3: 3309, 5: 4627}


def _hybrid(level: int) -> tuple[bytes, EnvelopeV1]:
    signer = hybrid_signer(level)
    env = sign_v1(
        signer,
        runtime_version=(0, 9, 1),
        policy_hash=b"\x11" * 32,
        bytecode_hash=b"\x22" * 32,
        input_hash=b"\x33" * 32,
        state_hash=b"\x44" * 32,
        decision=Outcome.WARN,
    )
    return env.to_bytes(), env


@pytest.mark.parametrize("level", [2, 3, 5], ids=["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"])
def test_hybrid_layout_is_rsrp(level: int) -> None:
    data, env = _hybrid(level)
    signing = env.signing_bytes()
    # header (1+1+4+4*32+1 = 135), meta_len u16 = 66, meta = 2 || key hash || backend hash || level
    assert signing[135:137] == b"\x00\x42"
    assert signing[137] == 2
    assert signing[138:170] == hashlib.sha256(b"hybrid-key").digest()
    assert signing[170:202] == hashlib.sha256(DEFAULT_BACKEND_ID.encode()).digest()
    assert signing[202] == level
    sig = data[len(signing) + 4 :]
    assert struct.unpack(">I", data[len(signing) : len(signing) + 4])[0] == len(sig)
    assert sig[:2] == b"\x00\x40"
    assert len(sig) == 2 + 64 + SIZES[level]
    # Independent check of the payload: both components sign prefix || u32 len || signing_bytes.
    payload = HYBRID_PAYLOAD_PREFIX + struct.pack(">I", len(signing)) + signing
    ed_pub, pq_pub = _public_keys(level)
    ed_pub.verify(sig[2:66], payload)
    pq_pub.verify(sig[66:], payload)
    assert decode_v1(data) == env


def _public_keys(level: int) -> tuple[ed25519.Ed25519PublicKey, mldsa.MLDSA65PublicKey]:
    der = hybrid_signer(level).public_key_der()
    ed_pub = load_der_public_key(der[:44])
    pq_pub = load_der_public_key(der[44:])
    assert isinstance(ed_pub, ed25519.Ed25519PublicKey)
    return ed_pub, pq_pub  # type: ignore[return-value]


@pytest.mark.parametrize("level", [2, 3, 5], ids=["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"])
def test_hybrid_verifies(level: int) -> None:
    data, _ = _hybrid(level)
    verified = verify_envelope(data, hybrid_keyring(hybrid_signer(level)))
    assert verified.algorithm == f"ed25519+ml-dsa-{ {2: 44, 3: 65, 5: 87}[level] }"


@pytest.mark.parametrize(
    ("offsets", "component"),
    [((10,), "ed25519"), ((100,), "ml-dsa"), ((10, 100), "ed25519+ml-dsa")],
    ids=["classical", "pq", "both"],
)
def test_hybrid_names_the_failing_component(offsets: tuple[int, ...], component: str) -> None:
    data, env = _hybrid(3)
    mutable = bytearray(data)
    start = len(env.signing_bytes()) + 4
    for offset in offsets:
        mutable[start + offset] ^= 0x01
    with pytest.raises(SignatureInvalidError) as info:
        verify_envelope(bytes(mutable), hybrid_keyring(hybrid_signer(3)))
    assert info.value.component == component


def test_hybrid_key_of_other_level_is_refused() -> None:
    data, _ = _hybrid(2)
    with pytest.raises(SignatureInvalidError) as info:
        verify_envelope(data, hybrid_keyring(hybrid_signer(3)))
    assert info.value.component == "algorithm"


def test_mock_backend_is_refused() -> None:
    _, env = _hybrid(2)
    assert isinstance(env.meta, HybridMetaV1)
    mock = HybridMetaV1(env.meta.key_id_hash, hashlib.sha256(b"mock-crypto").digest(), 2)
    forged = EnvelopeV1(
        env.runtime_version,
        env.policy_hash,
        env.bytecode_hash,
        env.input_hash,
        env.state_hash,
        env.decision_code,
        mock,
        env.signature,
    )
    with pytest.raises(SignatureInvalidError, match="mock"):
        verify_envelope(forged.to_bytes(), hybrid_keyring(hybrid_signer(2)))


FIXTURE = bytes.fromhex(
    "0101000900011111111111111111111111111111111111111111111111111111111111111111"
    "2222222222222222222222222222222222222222222222222222222222222222"
    "3333333333333333333333333333333333333333333333333333333333333333"
    "4444444444444444444444444444444444444444444444444444444444444444"
    "02002101e7e331964026891ae93f6f0d4b20c19f95cf20d6c6ba87fd73e287b081a46201"
    "00000040e22e8f4b3ab834f4db936d865b8ded519e0aac395ca625c154840f37f7f57142"
    "9e91b91f97652e4d84495d903bce814fde0d84bd6606ce854648bc064d25f106"
)


@pytest.mark.parametrize(
    ("offset", "value", "error"),
    [
        (1, 2, UnsupportedVersionError),
        (134, 0, UnknownDecisionError),
        (134, 5, UnknownDecisionError),
        (137, 9, UnsupportedAlgorithmError),
    ],
    ids=["encoding-version-2", "decision-0", "decision-5", "algorithm-9"],
)
def test_strict_checks(offset: int, value: int, error: type[Exception]) -> None:
    mutable = bytearray(FIXTURE)
    mutable[offset] = value
    keyring = ed25519_keyring(ed25519_signer(derivation="sha256"))
    with pytest.raises(error):
        verify_envelope(bytes(mutable), keyring)


def test_version_checked_before_layout() -> None:
    """R-SRP would report truncation; we report the version first."""
    with pytest.raises(UnsupportedVersionError):
        decode_v1(b"\x02")
    with pytest.raises(UnsupportedVersionError):
        decode_v1(b"\x01\x07")
    with pytest.raises(UnknownDecisionError):
        decode_v1(FIXTURE[:134] + b"\x09")
    with pytest.raises(MalformedEnvelopeError, match="truncated"):
        decode_v1(FIXTURE[:134])
