"""decode(encode(x)) == x for every valid V2 envelope; V1 likewise (STYLE.md point 10)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.policy.decision import Outcome
from rsrp.proof import (
    LIMITS,
    Ed25519MetaV1,
    EnvelopeV1,
    EnvelopeV2,
    HybridMetaV1,
    SignatureAlgorithm,
    SigningMode,
    decode_envelope,
)

PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


def text(field: str) -> st.SearchStrategy[str]:
    return st.text(PRINTABLE, min_size=1, max_size=LIMITS[field])


hashes = st.binary(min_size=32, max_size=32).filter(lambda h: h != bytes(32))


@st.composite
def envelopes_v2(draw: st.DrawFn) -> EnvelopeV2:
    batch = draw(st.booleans())
    signature = b"" if batch else draw(st.binary(min_size=3317, max_size=3413))
    return EnvelopeV2(
        runtime_version=(
            draw(st.integers(0, 255)),
            draw(st.integers(0, 255)),
            draw(st.integers(0, 65535)),
        ),
        jurisdiction=draw(text("jurisdiction")),
        bundle_id=draw(text("bundle_id")),
        bundle_version=draw(text("bundle_version")),
        policy_hash=draw(hashes),
        bytecode_hash=draw(hashes),
        input_hash=draw(hashes),
        state_hash=draw(hashes),
        decision=draw(st.sampled_from(Outcome)),
        reason_code=draw(text("reason_code")),
        matched=tuple(draw(st.lists(st.tuples(text("rule_id"), text("rule_version")), max_size=5))),
        request_id=draw(text("request_id")),
        evaluated_at_us=draw(st.integers(0, 253_402_300_799_999_999)),
        key_id=draw(text("key_id")),
        mode=SigningMode.BATCH if batch else SigningMode.PER_DECISION,
        algorithm=SignatureAlgorithm.NONE
        if batch
        else SignatureAlgorithm.MLDSA65_ECDSA_P384_SHA512,
        signature=signature,
    )


@settings(max_examples=150, deadline=None)
@given(envelopes_v2())
def test_v2_roundtrip(env: EnvelopeV2) -> None:
    data = env.to_bytes()
    assert decode_envelope(data) == env
    assert decode_envelope(data).to_bytes() == data


@st.composite
def envelopes_v1(draw: st.DrawFn) -> EnvelopeV1:
    level = draw(st.sampled_from([0, 2, 3, 5]))
    meta: Ed25519MetaV1 | HybridMetaV1
    if level == 0:
        meta, signature = Ed25519MetaV1(draw(hashes)), draw(st.binary(min_size=64, max_size=64))
    else:
        size = {2: 2420, 3: 3309, 5: 4627}[level]
        meta = HybridMetaV1(draw(hashes), draw(hashes), level)
        signature = b"\x00\x40" + draw(st.binary(min_size=64 + size, max_size=64 + size))
    return EnvelopeV1(
        runtime_version=draw(st.integers(0, 2**32 - 1)),
        policy_hash=draw(hashes),
        bytecode_hash=draw(hashes),
        input_hash=draw(hashes),
        state_hash=draw(hashes),
        decision_code=draw(st.integers(1, 4)),
        meta=meta,
        signature=signature,
    )


@settings(max_examples=150, deadline=None)
@given(envelopes_v1())
def test_v1_roundtrip(env: EnvelopeV1) -> None:
    data = env.to_bytes()
    assert decode_envelope(data) == env
