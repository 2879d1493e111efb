"""Canonical, type-tagged binary encoding of request and context values.

One documented form (docs/canonical-hashing.md) so that two implementations
hash the same request to the same bytes. Never JSON: JSON leaves key order,
number spelling and string escapes open.

    >>> from rsrp.canonical import canonical_hash
    >>> canonical_hash({"b": 1, "a": [True, None]}) == canonical_hash({"a": [True, None], "b": 1})
    True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import struct
from collections.abc import Mapping
from decimal import Decimal

from rsrp.errors import RsrpError

__all__ = [
    "DOMAIN",
    "CanonicalError",
    "CanonicalValue",
    "canonical_bytes",
    "canonical_hash",
    "decimal_text",
]

#: Domain-separation prefix hashed before the encoding (docs/canonical-hashing.md §3).
DOMAIN = b"rsrp-canonical-v1\x00"

#: Deepest nesting accepted; hostile input cannot exhaust the stack.
MAX_DEPTH = 64

TAG_NULL = 0x00
TAG_BOOL = 0x01
TAG_INT = 0x02
TAG_DECIMAL = 0x03
TAG_STRING = 0x04
TAG_BYTES = 0x05
TAG_TIMESTAMP = 0x06
TAG_DURATION = 0x07
TAG_LIST = 0x08
TAG_SET = 0x09
TAG_MAP = 0x0A

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

CanonicalValue = (
    None
    | bool
    | int
    | float
    | Decimal
    | str
    | bytes
    | dt.datetime
    | dt.timedelta
    | list["CanonicalValue"]
    | tuple["CanonicalValue", ...]
    | set["CanonicalValue"]
    | frozenset["CanonicalValue"]
    | Mapping[str, "CanonicalValue"]
)


class CanonicalError(RsrpError):
    """A value has no canonical form (NaN, naive datetime, non-string key, too deep)."""


def decimal_text(value: Decimal) -> str:
    """Canonical text of a finite decimal: no exponent, no trailing zeros, no ``-0``.

    ``Decimal("1.50")`` → ``"1.5"``, ``Decimal("1E+2")`` → ``"100"``, ``Decimal("-0.0")`` → ``"0"``.
    """
    if not value.is_finite():
        raise CanonicalError(f"decimal {value!r} is not finite; only finite numbers are hashed")
    if value.is_zero():
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CanonicalError(f"string is not valid Unicode (lone surrogate at {e.start})") from e


def _lp(tag: int, payload: bytes) -> bytes:
    return struct.pack(">BI", tag, len(payload)) + payload


def _micros(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _encode(value: object, out: list[bytes], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CanonicalError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None:
        out.append(bytes([TAG_NULL]))
    elif isinstance(value, bool):
        out.append(bytes([TAG_BOOL, 1 if value else 0]))
    elif isinstance(value, int):
        out.append(_lp(TAG_INT, str(value).encode("ascii")))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalError(f"number {value!r} is not finite")
        # repr() is the shortest round-trip spelling, so 0.1 hashes as decimal "0.1".
        out.append(_lp(TAG_DECIMAL, decimal_text(Decimal(repr(value))).encode("ascii")))
    elif isinstance(value, Decimal):
        out.append(_lp(TAG_DECIMAL, decimal_text(value).encode("ascii")))
    elif isinstance(value, str):
        out.append(_lp(TAG_STRING, _utf8(value)))
    elif isinstance(value, bytes | bytearray | memoryview):
        out.append(_lp(TAG_BYTES, bytes(value)))
    elif isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise CanonicalError(f"timestamp {value.isoformat()} has no time zone")
        out.append(struct.pack(">Bq", TAG_TIMESTAMP, _micros(value - _EPOCH)))
    elif isinstance(value, dt.timedelta):
        out.append(struct.pack(">Bq", TAG_DURATION, _micros(value)))
    elif isinstance(value, Mapping):
        entries: list[tuple[bytes, object]] = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"map key {key!r} is not a string")
            entries.append((_utf8(key), item))
        entries.sort(key=lambda e: e[0])
        out.append(struct.pack(">BI", TAG_MAP, len(entries)))
        for key_bytes, item in entries:
            out.append(struct.pack(">I", len(key_bytes)) + key_bytes)
            _encode(item, out, depth + 1)
    elif isinstance(value, set | frozenset):
        members = sorted({_encode_one(v, depth + 1) for v in value})
        out.append(struct.pack(">BI", TAG_SET, len(members)))
        out.extend(members)
    elif isinstance(value, list | tuple):
        out.append(struct.pack(">BI", TAG_LIST, len(value)))
        for item in value:
            _encode(item, out, depth + 1)
    else:
        raise CanonicalError(f"type {type(value).__name__} has no canonical form")


def _encode_one(value: object, depth: int) -> bytes:
    out: list[bytes] = []
    _encode(value, out, depth)
    return b"".join(out)


def canonical_bytes(value: CanonicalValue) -> bytes:
    """Encode ``value`` in the canonical form of docs/canonical-hashing.md §2."""
    return _encode_one(value, 0)


def canonical_hash(value: CanonicalValue) -> bytes:
    """SHA-256(DOMAIN || canonical_bytes(value)), 32 bytes (docs/canonical-hashing.md §3)."""
    return hashlib.sha256(DOMAIN + canonical_bytes(value)).digest()
