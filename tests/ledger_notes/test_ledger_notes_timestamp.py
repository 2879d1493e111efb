"""RFC 3161 round trip against the real ``openssl ts -reply`` TSA (tests/fixtures/tsa.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import pytest
from rfc3161_client import decode_timestamp_response
from tests.fixtures.tsa import LocalTSA, make_ca_and_tsa

from rsrp.ledger import Checkpoint
from rsrp.ledger._timestamp import (
    TimestampToken,
    TimestampUnavailableError,
    TimestampVerificationError,
    request_timestamp,
    verify_timestamp,
)

TEXT = Checkpoint("rsrp.example/FR", 3, b"\x01" * 32).body_bytes()


def test_tsa_round_trip_offline(tsa: LocalTSA) -> None:
    token = request_timestamp(tsa.url, TEXT)
    when = verify_timestamp(token, TEXT, [tsa.root])
    assert abs(when - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert token.gen_time() == when
    # Stored as one line and read back.
    again = TimestampToken.decode(token.encode())
    assert again == token
    verify_timestamp(again, TEXT, [tsa.root])


def test_tsa_wrong_message_nonce_root(tsa: LocalTSA) -> None:
    token = request_timestamp(tsa.url, TEXT)
    with pytest.raises(TimestampVerificationError, match="Mismatch between messages"):
        verify_timestamp(token, TEXT + b"x", [tsa.root])
    with pytest.raises(TimestampVerificationError, match="Nonce"):
        verify_timestamp(dataclasses.replace(token, nonce=token.nonce + 1), TEXT, [tsa.root])
    with tempfile.TemporaryDirectory() as tmp:
        other_root, _ = make_ca_and_tsa(Path(tmp))
    with pytest.raises(TimestampVerificationError):
        verify_timestamp(token, TEXT, [other_root])
    with pytest.raises(TimestampVerificationError, match="no trusted"):
        verify_timestamp(token, TEXT, [])


def _facts(token: TimestampToken) -> tuple[object, ...]:
    info = decode_timestamp_response(token.response).tst_info
    return (
        info.gen_time,
        info.message_imprint.message,
        info.nonce,
        info.serial_number,
        info.policy,
    )


def test_tsa_token_mutations_fail_closed(tsa: LocalTSA) -> None:
    token = request_timestamp(tsa.url, TEXT)
    der = token.response
    original = _facts(token)
    rejected = 0
    for i in range(len(der)):
        mutated = TimestampToken(der[:i] + bytes([der[i] ^ 0x01]) + der[i + 1 :], token.nonce)
        try:
            verify_timestamp(mutated, TEXT, [tsa.root])
        except TimestampVerificationError:
            rejected += 1
            continue
        # CMS leaves a few framing fields unsigned (SignedData/SignerInfo versions, the
        # signatureAlgorithm OID): a flip there may still verify, but it must attest
        # exactly the same facts. Everything the TSA signed is covered.
        assert _facts(mutated) == original, f"byte {i} changed a verified fact"
    assert rejected > 0.95 * len(der)
    for cut in (0, 1, len(der) // 2, len(der) - 1):
        with pytest.raises(TimestampVerificationError):
            verify_timestamp(TimestampToken(der[:cut], token.nonce), TEXT, [tsa.root])
    for bad in ["", "12", "x AAAA", "+1 AAAA", "1 not-base64!", "01 AAAA"]:
        with pytest.raises(TimestampVerificationError):
            TimestampToken.decode(bad)


def test_tsa_unreachable() -> None:
    with pytest.raises(TimestampUnavailableError):
        request_timestamp("http://127.0.0.1:9/", TEXT, timeout=2)
