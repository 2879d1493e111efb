"""RFC 3161 time-stamp responses from real TSAs, verified by rsrp.ledger.verify_timestamp.

tests/vectors/rfc3161-client-tsa-fixtures.json (rfc3161-client's own test fixtures): responses
of sigstore's timestamp.sigstage.dev over b"hello" (SHA-256 and SHA-384 imprints, with and
without the embedded TSA certificate, and one with a corrupted signature) and of IdenTrust's
commercial TSA (SHA-512 imprint, leaf certificate not first in the embedded set).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from rfc3161_client import decode_timestamp_response

from rsrp.ledger import TimestampToken, TimestampVerificationError, verify_timestamp

_VEC = json.loads(
    (Path(__file__).parents[1] / "vectors/rfc3161-client-tsa-fixtures.json").read_text()
)
FILES = {k: base64.b64decode(v) for k, v in _VEC["files"].items()}
MESSAGE = _VEC["message"].encode()
SIGSTAGE = x509.load_pem_x509_certificates(FILES["sigstage/ts_chain.pem"])  # leaf .. root
IDENTRUST_ROOT = x509.load_der_x509_certificate(FILES["identrust/ts_chain.pem"])


def _token(name: str) -> TimestampToken:
    # Our token keeps the nonce we sent; for a foreign response, the one the TSA echoed.
    nonce = decode_timestamp_response(FILES[name]).tst_info.nonce
    assert nonce is not None
    return TimestampToken(FILES[name], nonce)


@pytest.mark.parametrize("name", ["sigstage/response-sha256.tsr", "sigstage/response-sha384.tsr"])
def test_sigstage_response_verifies(name: str) -> None:
    when = verify_timestamp(_token(name), MESSAGE, [SIGSTAGE[-1]], SIGSTAGE[1:-1])
    assert when == dt.datetime(2025, 5, 9, 11, 58, 55, tzinfo=dt.UTC)
    with pytest.raises(TimestampVerificationError, match="does not verify"):
        verify_timestamp(_token(name), MESSAGE + b"!", [SIGSTAGE[-1]], SIGSTAGE[1:-1])


def test_token_line_round_trip_keeps_the_real_response() -> None:
    tok = _token("sigstage/response-sha256.tsr")
    again = TimestampToken.decode(tok.encode())
    assert again == tok
    assert verify_timestamp(again, MESSAGE, [SIGSTAGE[-1]]) == tok.gen_time()


def test_response_without_embedded_certificate_needs_the_tsa_certificate() -> None:
    # RFC 3161 §2.4.1: with certReq false the TSA leaves its certificate out; the verifier
    # must be given it, and it must still chain to the root.
    tok = _token("sigstage/response-no-embedded-cert.tsr")
    with pytest.raises(TimestampVerificationError, match="does not verify"):
        verify_timestamp(tok, MESSAGE, [SIGSTAGE[-1]])
    when = verify_timestamp(tok, MESSAGE, [SIGSTAGE[-1]], tsa_certificate=SIGSTAGE[0])
    assert when.year == 2025
    with pytest.raises(TimestampVerificationError, match="does not verify"):
        verify_timestamp(tok, MESSAGE, [IDENTRUST_ROOT], tsa_certificate=SIGSTAGE[0])


def test_corrupted_signature_is_refused() -> None:
    with pytest.raises(TimestampVerificationError, match="does not verify"):
        verify_timestamp(_token("sigstage/response-invalid-signature.tsr"), MESSAGE, [SIGSTAGE[-1]])


def test_identrust_response_with_unordered_chain_verifies() -> None:
    tok = _token("identrust/issue-104.tsr")
    when = verify_timestamp(tok, MESSAGE, [IDENTRUST_ROOT])
    assert when == dt.datetime(2025, 3, 11, 8, 52, 8, tzinfo=dt.UTC)
    with pytest.raises(TimestampVerificationError, match="does not verify"):
        verify_timestamp(tok, MESSAGE, [SIGSTAGE[-1]])  # wrong trust anchor


def test_wrong_nonce_is_refused() -> None:
    tok = _token("sigstage/response-sha256.tsr")
    with pytest.raises(TimestampVerificationError):
        verify_timestamp(TimestampToken(tok.response, tok.nonce + 1), MESSAGE, [SIGSTAGE[-1]])
