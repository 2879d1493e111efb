"""Big-endian framing shared by the V1 and V2 codecs; read errors are ``MalformedEnvelopeError``."""

from __future__ import annotations

import struct

from rsrp.proof._errors import MalformedEnvelopeError

__all__ = ["Reader", "ascii_field", "u8_prefixed", "u16_prefixed", "u32_prefixed"]


class Reader:
    """A cursor over ``data``; each read checks the remaining length first."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def position(self) -> int:
        return self._pos

    def take(self, n: int, what: str) -> bytes:
        remaining = len(self._data) - self._pos
        if n > remaining:
            raise MalformedEnvelopeError(
                f"truncated at byte {self._pos}: {what} needs {n} bytes, {remaining} left"
            )
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        value: int = struct.unpack(">H", self.take(2, what))[0]
        return value

    def u32(self, what: str) -> int:
        value: int = struct.unpack(">I", self.take(4, what))[0]
        return value

    def i64(self, what: str) -> int:
        value: int = struct.unpack(">q", self.take(8, what))[0]
        return value

    def sized(self, length: int, maximum: int, what: str) -> bytes:
        if length > maximum:
            raise MalformedEnvelopeError(f"{what} length {length} exceeds the maximum {maximum}")
        return self.take(length, what)

    def finish(self, what: str) -> None:
        """Reject trailing bytes: an envelope has exactly one encoding."""
        extra = len(self._data) - self._pos
        if extra:
            raise MalformedEnvelopeError(f"{extra} trailing bytes after the {what}")


def u8_prefixed(data: bytes) -> bytes:
    return struct.pack(">B", len(data)) + data


def u16_prefixed(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def u32_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


#: Printable ASCII without space (0x21-0x7E): what ``ascii_field`` accepts.
_PRINTABLE = bytes(range(0x21, 0x7F))


def ascii_field(raw: bytes, what: str, *, minimum: int, maximum: int) -> str:
    """Decode a printable-ASCII (0x21-0x7E) field of ``minimum..maximum`` bytes."""
    if not minimum <= len(raw) <= maximum:
        raise MalformedEnvelopeError(f"{what} is {len(raw)} bytes; allowed {minimum}..{maximum}")
    # Deleting every allowed byte leaves the disallowed ones (one C pass, not a loop).
    if raw.translate(None, _PRINTABLE):
        raise MalformedEnvelopeError(f"{what} must be printable ASCII without spaces")
    return raw.decode("ascii")
