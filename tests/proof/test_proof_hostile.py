"""Hostile input: decoders raise only ProofError; every bit flip and mutation fails closed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import generate_v2_vectors as gen
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from proof_composite_oracle import OracleVerifier
from v1_helpers import ed25519_keyring, ed25519_signer, hybrid_keyring, hybrid_signer, load_vectors

from rsrp.errors import ProofError
from rsrp.policy.decision import Outcome
from rsrp.proof import (
    KeyEntry,
    MalformedEnvelopeError,
    StaticKeyring,
    VerifiedInclusion,
    decode_envelope,
    decode_v1,
    decode_v2,
    leaf_hash,
    sign_v1,
    verify_envelope,
)

V1 = bytes.fromhex(
    load_vectors("rsrp-proof-envelope-v1-published.json")["published"]["vectors"][0][
        "canonical_bytes_hex"
    ]
)
V2_DOC = json.loads(gen.OUT.read_text(encoding="utf-8"))
V2 = bytes.fromhex(V2_DOC["vectors"][0]["envelope_hex"])
V2_BATCH = bytes.fromhex(next(v for v in V2_DOC["vectors"] if v["mode"] == "batch")["envelope_hex"])
V1_RING = ed25519_keyring(ed25519_signer(derivation="sha256"))
V2_RING = StaticKeyring(
    [KeyEntry(OracleVerifier(bytes.fromhex(V2_DOC["key"]["composite_public_key_hex"]), gen.KEY_ID))]
)


def _hybrid44() -> bytes:
    env = sign_v1(
        hybrid_signer(2),
        runtime_version=(0, 9, 1),
        policy_hash=b"\x11" * 32,
        bytecode_hash=b"\x22" * 32,
        input_hash=b"\x33" * 32,
        state_hash=b"\x44" * 32,
        decision=Outcome.BLOCK,
    )
    return env.to_bytes()


V1_HYBRID = _hybrid44()
HYBRID_RING = hybrid_keyring(hybrid_signer(2))
BATCH_INCLUSION = VerifiedInclusion(leaf_hash(V2_BATCH), 3, 4, b"\x07" * 32, "o", ("log",))

Verify = Callable[[bytes], object]
CASES: dict[str, tuple[bytes, Verify]] = {
    "v1-ed25519": (V1, lambda d: verify_envelope(d, V1_RING)),
    "v1-hybrid-ml-dsa-44": (V1_HYBRID, lambda d: verify_envelope(d, HYBRID_RING)),
    "v2-per-decision": (V2, lambda d: verify_envelope(d, V2_RING)),
    "v2-batch-with-inclusion": (
        V2_BATCH,
        lambda d: verify_envelope(d, V2_RING, inclusion=BATCH_INCLUSION),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_valid_envelopes_verify(name: str) -> None:
    data, verify = CASES[name]
    verify(data)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_every_single_bit_flip_fails(name: str) -> None:
    data, verify = CASES[name]
    for bit in range(len(data) * 8):
        mutated = bytearray(data)
        mutated[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ProofError):
            verify(bytes(mutated))


@pytest.mark.parametrize("name", list(CASES))
def test_every_truncation_fails(name: str) -> None:
    data, verify = CASES[name]
    for length in range(len(data)):
        with pytest.raises(ProofError):
            verify(data[:length])


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("garbage", [b"\x00", b"\x01\x01", b"RSRP\x02", b"\xff" * 64])
def test_prefix_and_suffix_garbage_fails(name: str, garbage: bytes) -> None:
    data, verify = CASES[name]
    with pytest.raises(MalformedEnvelopeError, match="trailing"):
        verify(data + garbage)
    with pytest.raises(ProofError):
        verify(garbage + data)


def _length_fields_v1(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of signature_meta_len and signature_len."""
    meta_len = int.from_bytes(data[135:137], "big")
    return [(135, 2), (137 + meta_len, 4)]


@pytest.mark.parametrize("data", [V1, V1_HYBRID], ids=["ed25519", "hybrid"])
@pytest.mark.parametrize("delta", [-1, 1])
def test_off_by_one_lengths_v1(data: bytes, delta: int) -> None:
    for offset, width in _length_fields_v1(data):
        value = int.from_bytes(data[offset : offset + width], "big") + delta
        mutated = data[:offset] + value.to_bytes(width, "big") + data[offset + width :]
        with pytest.raises(MalformedEnvelopeError):
            decode_v1(mutated)


@pytest.mark.parametrize("delta", [-1, 1])
def test_off_by_one_lengths_v2(delta: int) -> None:
    env = decode_v2(V2)
    # jurisdiction, bundle_id and bundle_version u8 lengths follow the 9-byte fixed head.
    offsets = [9, 10 + len(env.jurisdiction), 11 + len(env.jurisdiction) + len(env.bundle_id)]
    for offset in offsets:
        edited = bytearray(V2)
        edited[offset] = (edited[offset] + delta) % 256
        with pytest.raises(ProofError):
            verify_envelope(bytes(edited), V2_RING)
    sig_len_at = len(env.signing_bytes())
    value = int.from_bytes(V2[sig_len_at : sig_len_at + 4], "big") + delta
    mutated = V2[:sig_len_at] + value.to_bytes(4, "big") + V2[sig_len_at + 4 :]
    with pytest.raises(MalformedEnvelopeError):
        decode_v2(mutated)


def test_swapped_hashes_fail() -> None:
    for data, verify, start in (
        (V1, CASES["v1-ed25519"][1], 6),
        (V2, CASES["v2-per-decision"][1], None),
    ):
        if start is None:
            start = decode_v2(data).signing_bytes().index(decode_v2(data).policy_hash)
        a, b = data[start : start + 32], data[start + 64 : start + 96]
        swapped = data[:start] + b + data[start + 32 : start + 64] + a + data[start + 96 :]
        with pytest.raises(ProofError):
            verify(swapped)


@pytest.mark.parametrize("size", [300 * 1024, 5 * 1024 * 1024])
def test_oversized_is_refused_before_parsing(size: int) -> None:
    for head in (b"\x01\x01", b"RSRP\x02"):
        with pytest.raises(MalformedEnvelopeError, match="at most"):
            decode_envelope(head + b"\x00" * size)


def test_oversized_signature_length_v1() -> None:
    mutated = V1[:170] + (2**32 - 1).to_bytes(4, "big") + V1[174:]
    with pytest.raises(MalformedEnvelopeError, match="exceeds"):
        decode_v1(mutated)


def _only_proof_errors(decode: Callable[[bytes], object], data: bytes) -> None:
    with contextlib.suppress(ProofError):
        decode(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_proof_error(data: bytes) -> None:
    for decode in (decode_envelope, decode_v1, decode_v2):
        _only_proof_errors(decode, data)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(
        [V1[:140], V2[:200], V1_HYBRID[:210], V2_BATCH[:150], b"RSRP\x02", b"\x01\x01"]
    ),
    st.binary(max_size=400),
)
def test_valid_prefix_then_arbitrary_tail(prefix: bytes, tail: bytes) -> None:
    """Gets past the magic/version checks so the deeper parsers see hostile bytes."""
    _only_proof_errors(decode_envelope, prefix + tail)
    with contextlib.suppress(ProofError):
        verify_envelope(prefix + tail, V2_RING)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([V1, V1_HYBRID, V2, V2_BATCH]), st.data())
def test_random_byte_edits_never_escape(data: bytes, draw: st.DataObject) -> None:
    mutated = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 8))):
        index = draw.draw(st.integers(0, len(mutated) - 1))
        mutated[index] = draw.draw(st.integers(0, 255))
    if bytes(mutated) == data:
        return
    with pytest.raises(ProofError):
        verify_envelope(bytes(mutated), V2_RING if data[:4] == b"RSRP" else V1_RING, inclusion=None)
