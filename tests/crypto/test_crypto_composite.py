"""Composite signature behaviour beyond the vectors: mutation families, limits, encodings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.crypto import CryptoError, InvalidSignature, MalformedKey
from rsrp.crypto.composite import (
    ECDSA_MAX_SIG_LEN,
    LABEL,
    MLDSA_SIG_LEN,
    PREFIX,
    PUBLIC_KEY_LEN,
    CompositePrivateKey,
    CompositePublicKey,
    combine_signatures,
    message_representative,
    split_signature,
)

SK = CompositePrivateKey.generate()
PK = SK.public_key()
MSG = b"decision envelope"
SIG = SK.sign(MSG, b"ctx")


def test_constants_are_the_drafts() -> None:
    assert (
        PREFIX.hex().upper() == "436F6D706F73697465416C676F726974686D5369676E61747572657332303235"
    )
    assert LABEL == b"COMPSIG-MLDSA65-ECDSA-P384-SHA512"
    assert PUBLIC_KEY_LEN == 1952 + 97


def test_message_representative_layout() -> None:
    m = message_representative(b"\x00\x01\x02", b"ab")
    assert m.startswith(PREFIX + LABEL + b"\x02ab")
    assert len(m) == len(PREFIX) + len(LABEL) + 1 + 2 + 64
    assert (
        message_representative(b"x")
        == PREFIX + LABEL + b"\x00" + message_representative(b"x")[-64:]
    )
    with pytest.raises(CryptoError, match="at most 255"):
        message_representative(b"x", bytes(256))


def test_split_and_combine_round_trip() -> None:
    pq, ec = split_signature(SIG)
    assert len(pq) == MLDSA_SIG_LEN and ec[0] == 0x30
    assert combine_signatures(pq, ec) == SIG
    with pytest.raises(CryptoError):
        combine_signatures(pq[:-1], ec)


@pytest.mark.parametrize(
    ("where", "component"),
    [(0, "ml-dsa"), (MLDSA_SIG_LEN - 1, "ml-dsa"), (MLDSA_SIG_LEN + 8, "ecdsa"), (-1, "ecdsa")],
    ids=["mldsa-first", "mldsa-last", "ecdsa-r", "ecdsa-s-last"],
)
def test_bit_flip_names_the_component(where: int, component: str) -> None:
    bad = bytearray(SIG)
    bad[where] ^= 0x04
    with pytest.raises(InvalidSignature) as e:
        PK.verify(MSG, bytes(bad), b"ctx")
    assert e.value.component == component


@pytest.mark.parametrize(
    "sig",
    [b"", SIG[:MLDSA_SIG_LEN], SIG[: MLDSA_SIG_LEN + 7], SIG + bytes(ECDSA_MAX_SIG_LEN)],
    ids=["empty", "mldsa-only", "ecdsa-too-short", "too-long"],
)
def test_bad_lengths_are_encoding_errors(sig: bytes) -> None:
    with pytest.raises(InvalidSignature) as e:
        PK.verify(MSG, sig, b"ctx")
    assert e.value.component == "encoding"


def test_swapped_halves_from_another_key_fail() -> None:
    other = CompositePrivateKey.generate().sign(MSG, b"ctx")
    pq, _ = split_signature(SIG)
    _, ec_other = split_signature(other)
    with pytest.raises(InvalidSignature) as e:
        PK.verify(MSG, pq + ec_other, b"ctx")
    assert e.value.component == "ecdsa"


def test_ecdsa_ber_encoding_rejected() -> None:
    """A long-form SEQUENCE length is BER, not DER (RFC 3279 §2.2.3 via Wycheproof tc8)."""
    pq, ec = split_signature(SIG)
    ber = b"\x30\x81" + ec[1:]
    with pytest.raises(InvalidSignature):
        PK.verify(MSG, pq + ber, b"ctx")


def test_public_key_parsing_limits() -> None:
    raw = PK.public_bytes()
    with pytest.raises(MalformedKey):
        CompositePublicKey.from_bytes(raw[:-1])
    compressed = raw[:1952] + bytes([0x02 + (raw[-1] & 1)]) + raw[1953 : 1953 + 48]
    with pytest.raises(MalformedKey):
        CompositePublicKey.from_bytes(compressed + bytes(48))
    off_curve = raw[:-1] + bytes([raw[-1] ^ 1])
    with pytest.raises(MalformedKey):
        CompositePublicKey.from_bytes(off_curve)


def test_private_key_parsing_limits() -> None:
    raw = SK.private_bytes()
    assert CompositePrivateKey.from_bytes(raw).public_key().public_bytes() == PK.public_bytes()
    for bad in (raw[:32], raw[:-1], raw + b"\x00", raw[:32] + raw[33:], bytes(32) + raw[32:40]):
        with pytest.raises(MalformedKey):
            CompositePrivateKey.from_bytes(bad)
    zero_scalar = raw[:32] + raw[32:39] + bytes(48) + raw[39 + 48 :]
    with pytest.raises(MalformedKey):
        CompositePrivateKey.from_bytes(zero_scalar)


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.binary(max_size=255))
def test_sign_verify_property(message: bytes, ctx: bytes) -> None:
    sig = SK.sign(message, ctx)
    PK.verify(message, sig, ctx)
    with pytest.raises(InvalidSignature):
        PK.verify(message + b"!", sig, ctx)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3500))
def test_arbitrary_signatures_never_verify(sig: bytes) -> None:
    with pytest.raises(InvalidSignature):
        PK.verify(MSG, sig, b"ctx")
