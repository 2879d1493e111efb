"""RFC 3161 time-stamps of checkpoints, requested over HTTP and verified offline.

What is stamped is the checkpoint *note text* (origin, size, root, extensions),
not the signature lines: cosignatures are added after the stamp, and the text is
what the log and the witnesses sign. The message imprint is SHA-256(text)
(RFC 3161 §2.4.1). A token is the TSA's whole ``TimeStampResp`` DER (what
rfc3161-client verifies) plus the nonce we sent.

Offline verification (:func:`verify_timestamp`) checks, via rfc3161-client:
status granted, the CMS signature and the TSA chain to a configured root, the
TSA certificate's EKU (id-kp-timeStamping, critical, RFC 3161 §2.3), the nonce,
and the imprint.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client.tsp import PKIStatus, TimeStampResponse

from rsrp.errors import LedgerError
from rsrp.ledger._note import b64decode_strict

__all__ = [
    "TimestampError",
    "TimestampToken",
    "TimestampUnavailableError",
    "TimestampVerificationError",
    "request_timestamp",
    "verify_timestamp",
]

_MAX_RESPONSE = 64 * 1024
#: RFC 3161 §2.4.1 lets the requester pick the imprint hash; we request SHA-256, and accept
#: the SHA-2 imprints real TSAs return for other clients' requests (SHA-1 and the rest are
#: refused). rfc3161-client recomputes the imprint with the token's own algorithm.
_MAX_NONCE = 2**160
_NONCE = re.compile(r"0|[1-9][0-9]{0,48}")
_SHA2_IMPRINTS = frozenset(x509.ObjectIdentifier(f"2.16.840.1.101.3.4.2.{n}") for n in (1, 2, 3))


class TimestampError(LedgerError):
    """A time-stamp could not be obtained or does not verify."""


class TimestampUnavailableError(TimestampError):
    """The TSA could not be reached or answered outside RFC 3161."""


class TimestampVerificationError(TimestampError):
    """The token is malformed, not granted, or fails a check (chain, EKU, nonce, imprint)."""


@dataclass(frozen=True, slots=True)
class TimestampToken:
    """A TSA response (DER) and the nonce of the request that produced it."""

    response: bytes
    nonce: int

    def gen_time(self) -> dt.datetime:
        """genTime as the TSA states it (checked only by :func:`verify_timestamp`)."""
        try:
            return _decode(self.response).tst_info.gen_time
        except ValueError as e:
            raise TimestampVerificationError(f"malformed RFC 3161 response: {e}") from e

    def encode(self) -> str:
        """``<nonce decimal> <base64 DER>``, the one-line form used in receipts."""
        return f"{self.nonce} {base64.b64encode(self.response).decode('ascii')}"

    @classmethod
    def decode(cls, line: str) -> TimestampToken:
        nonce, sep, b64 = line.partition(" ")
        if not sep:
            raise TimestampVerificationError("timestamp line must be '<nonce> <base64>'")
        try:
            der = b64decode_strict(b64, "timestamp token")
        except LedgerError as e:
            raise TimestampVerificationError(str(e)) from e
        # RFC 3161 §2.4.1: the nonce is an INTEGER; real TSAs' clients use up to 160 bits
        # (49 decimal digits), beyond the 20 digits of a tree size, so it has its own check.
        if not _NONCE.fullmatch(nonce) or int(nonce) > _MAX_NONCE:
            raise TimestampVerificationError(f"nonce {nonce[:60]!r} is not a canonical decimal")
        value = int(nonce)
        if len(der) > _MAX_RESPONSE:
            raise TimestampVerificationError("timestamp token is too large")
        return cls(der, value)


def _decode(der: bytes) -> TimeStampResponse:
    try:
        return decode_timestamp_response(der)
    except Exception as e:  # ValueError, or the Rust decoder's own exception types
        raise TimestampVerificationError(f"malformed RFC 3161 response: {e}") from e


def request_timestamp(
    url: str, text: bytes, *, client: httpx.Client | None = None, timeout: float = 10.0
) -> TimestampToken:
    """Ask the TSA at ``url`` to stamp SHA-256(``text``) (RFC 3161 §3.4, HTTP transport).

    The request carries a random nonce and asks for the TSA certificate; the
    response must be granted, echo the nonce and the imprint. The chain is not
    checked here (that is :func:`verify_timestamp`, with the configured root).
    """
    req = (
        TimestampRequestBuilder()
        .data(text)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    own = client or httpx.Client(timeout=timeout)
    try:
        r = own.post(
            url,
            content=req.as_bytes(),
            headers={"Content-Type": "application/timestamp-query"},
        )
    except httpx.HTTPError as e:
        raise TimestampUnavailableError(f"TSA {url}: {e}") from e
    finally:
        if client is None:
            own.close()
    if r.status_code != 200 or not r.headers.get("content-type", "").startswith(
        "application/timestamp-reply"
    ):
        raise TimestampUnavailableError(f"TSA {url} answered {r.status_code}")
    if len(r.content) > _MAX_RESPONSE:
        raise TimestampUnavailableError(f"TSA {url} response is larger than {_MAX_RESPONSE}")
    resp = _decode(r.content)
    if PKIStatus(resp.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampVerificationError(f"TSA refused: status {resp.status}")
    nonce = req.nonce
    if nonce is None or resp.tst_info.nonce != nonce:
        raise TimestampVerificationError("TSA response does not echo the request nonce")
    if resp.tst_info.message_imprint.message != req.message_imprint.message:
        raise TimestampVerificationError("TSA response stamps a different message imprint")
    return TimestampToken(r.content, nonce)


def verify_timestamp(
    token: TimestampToken,
    text: bytes,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    *,
    tsa_certificate: x509.Certificate | None = None,
) -> dt.datetime:
    """Verify ``token`` over ``text`` offline against trusted ``roots``; return genTime.

    ``tsa_certificate``: the TSA's own certificate, for responses that do not embed it
    (RFC 3161 §2.4.1: certReq false means the TSA MUST NOT include it); it must still
    chain to ``roots``. Raises :class:`TimestampVerificationError` naming the failed check.
    """
    if not roots:
        raise TimestampVerificationError("no trusted TSA root configured")
    resp = _decode(token.response)
    builder = VerifierBuilder(
        roots=list(roots),
        intermediates=list(intermediates),
        nonce=token.nonce,
        tsa_certificate=tsa_certificate,
    )
    try:
        builder.build().verify_message(resp, text)
        algorithm = resp.tst_info.message_imprint.hash_algorithm
    except VerificationError as e:
        raise TimestampVerificationError(f"time-stamp does not verify: {e}") from e
    except Exception as e:
        # The response is parsed lazily: hostile DER surfaces here as ValueError or as
        # the Rust decoder's own exception types. Any of them means "does not verify".
        raise TimestampVerificationError(f"malformed RFC 3161 response: {e}") from e
    if algorithm not in _SHA2_IMPRINTS:
        raise TimestampVerificationError(
            f"time-stamp imprint algorithm {algorithm.dotted_string} is not SHA-256/384/512"
        )
    return resp.tst_info.gen_time
