"""Strict PEM (RFC 7468 §2-§3) and certificate-to-SPKI extraction."""

from __future__ import annotations

import base64
import binascii
import re

from rsrp.crypto import _der
from rsrp.crypto._errors import MalformedKey

__all__ = ["MAX_PEM", "pem_decode", "pem_encode", "spki_from_certificate"]

MAX_PEM = 1 << 20
_PEM_RE = re.compile(
    rb"\A\s*-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?"
    rb"-----END \1-----\s*\Z"
)


def pem_decode(data: bytes) -> tuple[str, bytes]:
    """Return ``(label, der)`` of a document holding exactly one PEM block.

    Explanatory text around the block and several blocks are refused (fail closed).
    """
    if len(data) > MAX_PEM:
        raise MalformedKey(f"PEM input too large: {len(data)} bytes")
    m = _PEM_RE.match(data)
    if m is None:
        raise MalformedKey("not a single well-formed PEM block")
    body = re.sub(rb"\s", b"", m.group(2))
    try:
        der = base64.b64decode(body, validate=True)
    except binascii.Error as e:
        raise MalformedKey(f"PEM body is not valid base64: {e}") from e
    return m.group(1).decode("ascii"), der


def pem_encode(label: str, der: bytes) -> bytes:
    """RFC 7468 "strict" encoding: 64-character lines, LF line ends."""
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (
        "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"
    ).encode()


def spki_from_certificate(cert_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo element of an X.509 certificate (RFC 5280 §4.1).

    Only the TBSCertificate's structure is read: version [0] (optional), serial,
    signature, issuer, validity, subject, subjectPublicKeyInfo. The certificate's
    own signature is not checked here; trust decisions belong to the caller.
    """
    cert = _der.read_all(_der.read_one(cert_der, _der.SEQUENCE).value)
    if len(cert) != 3 or cert[0].tag != _der.SEQUENCE:
        raise MalformedKey("not an X.509 certificate")
    tbs = _der.read_all(cert[0].value)
    idx = 1 if tbs and tbs[0].tag == _der.CONTEXT_0 else 0
    if len(tbs) < idx + 6 or tbs[idx + 5].tag != _der.SEQUENCE:
        raise MalformedKey("X.509 TBSCertificate has no subjectPublicKeyInfo")
    return tbs[idx + 5].raw
