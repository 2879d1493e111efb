"""A strict, minimal DER reader and writer (ITU-T X.690 §8 and §10).

Only what SubjectPublicKeyInfo, OneAsymmetricKey (RFC 5958) and ECPrivateKey
(RFC 5915) need: definite lengths in minimal form, single-byte tags, no
indefinite lengths. This is encoding, not cryptography: every primitive is still
``cryptography``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from rsrp.crypto._errors import MalformedKey

__all__ = [
    "BIT_STRING",
    "CONTEXT_0",
    "CONTEXT_1",
    "INTEGER",
    "NULL",
    "OCTET_STRING",
    "OID",
    "SEQUENCE",
    "Tlv",
    "decode_one_asymmetric_key",
    "decode_spki",
    "encode",
    "encode_oid",
    "encode_one_asymmetric_key",
    "encode_spki",
    "read_all",
    "read_one",
]

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
SEQUENCE = 0x30
CONTEXT_0 = 0xA0
CONTEXT_1 = 0xA1

#: Inputs larger than this are refused before parsing (the largest key we read,
#: an ML-DSA-87 certificate, is well under 16 KiB).
MAX_INPUT = 1 << 20


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes
    raw: bytes  # the whole element, tag and length included


def _read(data: bytes, pos: int) -> tuple[Tlv, int]:
    if len(data) > MAX_INPUT:
        raise MalformedKey(f"DER input too large: {len(data)} bytes")
    if pos + 2 > len(data):
        raise MalformedKey("DER: truncated element header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise MalformedKey("DER: multi-byte tags are not used here")
    first = data[pos + 1]
    hdr = 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4:
            raise MalformedKey("DER: indefinite or oversized length")
        if pos + 2 + n > len(data):
            raise MalformedKey("DER: truncated length")
        length = int.from_bytes(data[pos + 2 : pos + 2 + n], "big")
        # X.690 §10.1: the minimal number of length octets must be used.
        if length < 0x80 or data[pos + 2] == 0:
            raise MalformedKey("DER: non-minimal length encoding")
        hdr += n
    end = pos + hdr + length
    if end > len(data):
        raise MalformedKey(f"DER: element claims {length} bytes, {len(data) - pos - hdr} left")
    return Tlv(tag, data[pos + hdr : end], data[pos:end]), end


def read_one(data: bytes, tag: int) -> Tlv:
    """Parse exactly one element with ``tag``; trailing bytes are an error."""
    tlv, end = _read(data, 0)
    if tlv.tag != tag:
        raise MalformedKey(f"DER: expected tag 0x{tag:02x}, got 0x{tlv.tag:02x}")
    if end != len(data):
        raise MalformedKey(f"DER: {len(data) - end} trailing bytes")
    return tlv


def read_all(data: bytes) -> list[Tlv]:
    """Split the contents of a constructed element into its children."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tlv, pos = _read(data, pos)
        out.append(tlv)
    return out


def encode(tag: int, value: bytes) -> bytes:
    """Encode one element with a minimal definite length."""
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(body)]) + body + value


def encode_oid(dotted: str) -> bytes:
    """DER OBJECT IDENTIFIER (X.690 §8.19) from dotted text."""
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return encode(OID, bytes(body))


def encode_spki(alg_id: bytes, key: bytes) -> bytes:
    """SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) with ``key`` as a 0-unused-bits BIT STRING."""
    return encode(SEQUENCE, alg_id + encode(BIT_STRING, b"\x00" + key))


def decode_spki(der: bytes, alg_id: bytes, what: str) -> bytes:
    """The subjectPublicKey bytes of a SubjectPublicKeyInfo whose AlgorithmIdentifier
    must equal ``alg_id`` exactly (so parameters must be absent when it has none)."""
    fields = read_all(read_one(der, SEQUENCE).value)
    if len(fields) != 2 or fields[0].raw != alg_id or fields[1].tag != BIT_STRING:
        raise MalformedKey(f"not a {what} SubjectPublicKeyInfo")
    bits = fields[1].value
    if not bits or bits[0] != 0:
        raise MalformedKey("subjectPublicKey BIT STRING must have 0 unused bits")
    return bits[1:]


def encode_one_asymmetric_key(alg_id: bytes, private_key: bytes) -> bytes:
    """OneAsymmetricKey version 0 (RFC 5958 §2) without attributes or publicKey."""
    body = encode(INTEGER, b"\x00") + alg_id + encode(OCTET_STRING, private_key)
    return encode(SEQUENCE, body)


def decode_one_asymmetric_key(der: bytes, alg_id: bytes, what: str) -> bytes:
    """The privateKey OCTET STRING contents of a OneAsymmetricKey (version 0 or 1) with
    exactly ``alg_id``; attributes and publicKey are refused, as both drafts omit them."""
    fields = read_all(read_one(der, SEQUENCE).value)
    if (
        len(fields) != 3
        or fields[0].raw not in (encode(INTEGER, b"\x00"), encode(INTEGER, b"\x01"))
        or fields[1].raw != alg_id
        or fields[2].tag != OCTET_STRING
    ):
        raise MalformedKey(f"not a {what} OneAsymmetricKey without attributes or publicKey")
    return fields[2].value
