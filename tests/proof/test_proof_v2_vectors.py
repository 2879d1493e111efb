"""rsrp envelope V2: checked-in vectors regenerate, verify, and match a naive encoder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import struct
from typing import Any

import generate_v2_vectors as gen
import pytest
from proof_composite_oracle import OracleVerifier

from rsrp.proof import (
    EnvelopeV2,
    Expectation,
    FieldMismatchError,
    HashMismatchError,
    KeyEntry,
    KeyNotValidAtEvaluationTimeError,
    NeedsInclusionProofError,
    SignatureInvalidError,
    SigningMode,
    StaticKeyring,
    UnknownKeyError,
    VerifiedInclusion,
    decode_v2,
    leaf_hash,
    verify_envelope,
)

STORED = json.loads(gen.OUT.read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = STORED["vectors"]
PUBLIC = bytes.fromhex(STORED["key"]["composite_public_key_hex"])
IDS = [v["id"] for v in VECTORS]


def keyring(**window: dt.datetime) -> StaticKeyring:
    return StaticKeyring([KeyEntry(OracleVerifier(PUBLIC, gen.KEY_ID), **window)])


def naive_signing_bytes(v: dict[str, Any]) -> bytes:
    """docs/proof-envelope-v2.md §2, field by field, written independently of rsrp.proof."""

    def text(s: str) -> bytes:
        return bytes([len(s)]) + s.encode("ascii")

    major, minor, patch = (int(p) for p in v["runtime_version"].split("."))
    out = b"RSRP" + bytes([2]) + struct.pack(">I", major << 24 | minor << 16 | patch)
    out += text(v["jurisdiction"]) + text(v["bundle_id"]) + text(v["bundle_version"])
    for name in ("policy", "bytecode", "input", "state"):
        out += bytes.fromhex(v[f"{name}_hash_hex"])
    codes = {"ALLOW": 1, "BLOCK": 2, "WARN": 3, "APPROVAL_REQUIRED": 4}
    out += bytes([codes[v["decision"]]]) + text(v["reason_code"])
    out += struct.pack(">H", len(v["matched"]))
    for rule_id, version in v["matched"]:
        out += text(rule_id) + text(version)
    out += text(v["request_id"]) + struct.pack(">q", v["evaluated_at_us"]) + text(v["key_id"])
    batch = v["mode"] == "batch"
    return out + bytes([2 if batch else 1, 0 if batch else 1])


def test_vectors_regenerate_exactly() -> None:
    """Everything but the hedged ML-DSA component is recomputed; that one must still verify."""
    assert gen.render(gen.build(STORED)) == gen.OUT.read_text(encoding="utf-8")


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_naive_encoder_agrees(v: dict[str, Any]) -> None:
    signing = naive_signing_bytes(v)
    assert signing.hex() == v["signing_bytes_hex"]
    signature = bytes.fromhex(v["mldsa_component_hex"] + v["ecdsa_component_hex"])
    data = signing + struct.pack(">I", len(signature)) + signature
    assert data.hex() == v["envelope_hex"]
    assert hashlib.sha256(data).hexdigest() == v["envelope_sha256_hex"]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_vector_verifies(v: dict[str, Any]) -> None:
    data = bytes.fromhex(v["envelope_hex"])
    env = decode_v2(data)
    assert env.to_bytes() == data
    expect = Expectation(
        policy_hash=bytes.fromhex(v["policy_hash_hex"]),
        input_hash=bytes.fromhex(v["input_hash_hex"]),
        state_hash=bytes.fromhex(v["state_hash_hex"]),
        jurisdiction="FR",
        request_id=v["request_id"],
    )
    if v["mode"] == "batch":
        with pytest.raises(NeedsInclusionProofError):
            verify_envelope(data, keyring(), expect)
        inclusion = VerifiedInclusion(
            leaf_hash(data), 7, 8, b"\x01" * 32, "rsrp.example/FR", ("log",)
        )
        verified = verify_envelope(data, keyring(), expect, inclusion=inclusion)
        assert verified.evidence == "inclusion"
    else:
        verified = verify_envelope(data, keyring(), expect)
        assert verified.evidence == "signature"
        assert verified.algorithm == "mldsa65-ecdsa-p384-sha512"
    assert verified.envelope == env
    assert verified.format_version == 2


def _first_signed() -> bytes:
    return bytes.fromhex(next(v for v in VECTORS if v["mode"] != "batch")["envelope_hex"])


@pytest.mark.parametrize(
    ("offset", "component"), [(100, "ml-dsa"), (-5, "ecdsa")], ids=["mldsa", "ecdsa"]
)
def test_component_is_named(offset: int, component: str) -> None:
    data = bytearray(_first_signed())
    sig_start = len(decode_v2(bytes(data)).signing_bytes()) + 4
    data[sig_start + offset if offset >= 0 else offset] ^= 0x40
    with pytest.raises(SignatureInvalidError) as info:
        verify_envelope(bytes(data), keyring())
    assert info.value.component == component


def test_key_window_and_unknown_key() -> None:
    data = _first_signed()
    with pytest.raises(KeyNotValidAtEvaluationTimeError):
        verify_envelope(data, keyring(not_before=gen.WHEN + dt.timedelta(seconds=1)))
    with pytest.raises(KeyNotValidAtEvaluationTimeError):
        verify_envelope(data, keyring(not_after=gen.WHEN))
    verify_envelope(data, keyring(not_before=gen.WHEN, not_after=gen.WHEN + dt.timedelta(days=1)))
    with pytest.raises(UnknownKeyError):
        verify_envelope(data, StaticKeyring())


def test_expectations() -> None:
    data = _first_signed()
    with pytest.raises(HashMismatchError) as info:
        verify_envelope(data, keyring(), Expectation(bytecode_hash=b"\x09" * 32))
    assert info.value.field == "bytecode_hash"
    with pytest.raises(FieldMismatchError):
        verify_envelope(data, keyring(), Expectation(jurisdiction="DE"))


def test_inclusion_must_be_about_these_bytes() -> None:
    batch = next(v for v in VECTORS if v["mode"] == "batch")
    data = bytes.fromhex(batch["envelope_hex"])
    wrong = VerifiedInclusion(leaf_hash(data + b"x"), 0, 1, b"\x01" * 32, "o", ("log",))
    with pytest.raises(HashMismatchError):
        verify_envelope(data, keyring(), inclusion=wrong)


def test_batch_envelope_never_carries_a_signature() -> None:
    batch = decode_v2(
        bytes.fromhex(next(v for v in VECTORS if v["mode"] == "batch")["envelope_hex"])
    )
    assert batch.mode is SigningMode.BATCH
    assert batch.signature == b""
    with pytest.raises(Exception, match="no signature"):
        dataclasses.replace(batch, signature=b"\x00" * 10)
    assert isinstance(batch, EnvelopeV2)
