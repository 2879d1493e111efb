"""Hybrid encryption v1 (docs/hybrid-encryption.md): round trips and tampering."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.crypto import (
    DecryptionError,
    UnsupportedAlgorithm,
    generate,
    hkdf,
    hybrid,
    sha256,
)
from rsrp.crypto._aead import aes256gcm_open
from rsrp.crypto.xwing import XWingPrivateKey

SK = XWingPrivateKey.from_seed(sha256(b"rsrp hybrid test key")[:32])
HEADER = b"record-42|FR|key-1"


def test_round_trip_with_generic_keys() -> None:
    sk = generate("x-wing")
    sealed = hybrid.seal(sk.public_key(), b"secret", HEADER)
    assert hybrid.open(sk, sealed, HEADER) == b"secret"
    assert len(sealed) == len(b"secret") + hybrid.OVERHEAD


def test_format_is_as_documented() -> None:
    """Re-derive key and nonce by hand from the documented layout."""
    sealed = hybrid.seal(SK.public_key(), b"plaintext", HEADER)
    assert sealed[:2] == b"\x01\x01"
    kem_ct = sealed[2:1122]
    ss = SK.decapsulate(kem_ct)
    okm = hkdf(ss, length=44, info=b"rsrp-hybrid-encryption-v1\x01\x01" + kem_ct)
    aad = b"rsrp-hybrid-encryption-v1\x01\x01" + struct.pack(">I", len(HEADER)) + HEADER
    assert aes256gcm_open(okm[:32], okm[32:], sealed[1122:], aad) == b"plaintext"


def test_sealing_is_randomised() -> None:
    pk = SK.public_key()
    assert hybrid.seal(pk, b"x", HEADER) != hybrid.seal(pk, b"x", HEADER)


@pytest.mark.parametrize(
    "pos",
    [2, 600, 1121, 1122, -17, -1],
    ids=["kem-first", "kem-mid", "kem-last", "aes-first", "tag-first", "tag-last"],
)
def test_bit_flip_anywhere_fails(pos: int) -> None:
    sealed = bytearray(hybrid.seal(SK.public_key(), b"some plaintext", HEADER))
    sealed[pos] ^= 0x80
    with pytest.raises(DecryptionError):
        hybrid.open(SK, bytes(sealed), HEADER)


@pytest.mark.parametrize(
    "header",
    [b"", b"record-43|FR|key-1", HEADER + b"\x00", HEADER[:-1]],
    ids=["empty", "other", "suffix", "truncated"],
)
def test_wrong_header_fails(header: bytes) -> None:
    sealed = hybrid.seal(SK.public_key(), b"x", HEADER)
    with pytest.raises(DecryptionError, match="wrong key, wrong header or tampered"):
        hybrid.open(SK, sealed, header)


def test_wrong_key_fails() -> None:
    sealed = hybrid.seal(SK.public_key(), b"x", HEADER)
    with pytest.raises(DecryptionError):
        hybrid.open(XWingPrivateKey.generate(), sealed, HEADER)


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [(b"\x02\x01", "version 2"), (b"\x01\x02", "suite 2"), (b"\x00\x01", "version 0")],
)
def test_unknown_version_or_suite_refused(prefix: bytes, reason: str) -> None:
    sealed = hybrid.seal(SK.public_key(), b"x", HEADER)
    with pytest.raises(DecryptionError, match=reason):
        hybrid.open(SK, prefix + sealed[2:], HEADER)


@pytest.mark.parametrize("n", [0, 1, 2, 1122, hybrid.OVERHEAD - 1])
def test_truncated_refused(n: int) -> None:
    sealed = hybrid.seal(SK.public_key(), b"", HEADER)
    with pytest.raises(DecryptionError):
        hybrid.open(SK, sealed[:n], HEADER)


def test_empty_plaintext_and_trailing_garbage() -> None:
    sealed = hybrid.seal(SK.public_key(), b"", HEADER)
    assert hybrid.open(SK, sealed, HEADER) == b""
    with pytest.raises(DecryptionError):
        hybrid.open(SK, sealed + b"\x00", HEADER)


def test_signature_keys_are_refused() -> None:
    sk = generate("ed25519")
    with pytest.raises(UnsupportedAlgorithm):
        hybrid.seal(sk.public_key(), b"x", HEADER)
    with pytest.raises(UnsupportedAlgorithm):
        hybrid.open(sk, b"\x01\x01" + bytes(hybrid.OVERHEAD), HEADER)


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=2048), st.binary(max_size=64))
def test_round_trip_property(plaintext: bytes, header: bytes) -> None:
    assert hybrid.open(SK, hybrid.seal(SK.public_key(), plaintext, header), header) == plaintext


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=1300))
def test_hostile_sealed_bytes_never_decrypt(data: bytes) -> None:
    with pytest.raises(DecryptionError):
        hybrid.open(SK, data, HEADER)
