"""Text formats of receipts: C2SP tlog-proof@v1 and the rsrp receipt around it.

c2sp.org/tlog-proof §Format::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <decimal>
    <base64 hash>*            (inclusion proof, leaf's sibling first)
    <empty line>
    <checkpoint note, verbatim>

An rsrp receipt (``.rsrp-receipt``) wraps one, so the tlog-proof part stays a
standard file any tlog-proof verifier can read given the leaf::

    rsrp-receipt@v1
    envelope <base64 canonical envelope bytes>     (the log leaf)
    [timestamp <nonce> <base64 RFC 3161 TimeStampResp>]
    <empty line>
    <tlog-proof, verbatim, to the end>
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from rsrp.errors import LedgerError
from rsrp.ledger._checkpoint import parse_decimal
from rsrp.ledger._errors import CheckpointError
from rsrp.ledger._note import (
    MAX_NOTE_SIZE,
    Note,
    b64decode_strict,
    parse_note,
    split_header_block,
)
from rsrp.ledger._timestamp import TimestampToken

__all__ = [
    "RECEIPT_HEADER",
    "TLOG_PROOF_HEADER",
    "MalformedReceiptError",
    "Receipt",
    "TlogProof",
    "parse_receipt",
    "parse_tlog_proof",
]

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
RECEIPT_HEADER = "rsrp-receipt@v1"
#: An inclusion proof in a tree of at most 2^64 leaves has at most 64 hashes.
MAX_PROOF_HASHES = 64
MAX_ENVELOPE = 256 * 1024
MAX_RECEIPT = MAX_NOTE_SIZE + 2 * MAX_ENVELOPE


class MalformedReceiptError(CheckpointError):
    """A receipt or tlog-proof is not well formed (syntax, sizes, encodings)."""


def _b64(text: str, what: str) -> bytes:
    try:
        return b64decode_strict(text, what)
    except LedgerError as e:
        raise MalformedReceiptError(str(e)) from e


def _decimal(text: str, what: str) -> int:
    try:
        return parse_decimal(text, what)
    except LedgerError as e:
        raise MalformedReceiptError(str(e)) from e


@dataclass(frozen=True, slots=True)
class TlogProof:
    """A parsed tlog-proof: entry index, inclusion path, checkpoint note, optional extra."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None

    def to_text(self) -> str:
        lines = [TLOG_PROOF_HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode("ascii"))
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode("ascii") for h in self.proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint.decode("utf-8")

    @property
    def note(self) -> Note:
        return parse_note(self.checkpoint)


def parse_tlog_proof(data: bytes) -> TlogProof:
    """Parse a tlog-proof strictly (c2sp.org/tlog-proof §Format)."""
    lines, checkpoint = split_header_block(data, "tlog-proof", MAX_RECEIPT, MalformedReceiptError)
    if lines[0] != TLOG_PROOF_HEADER:
        raise MalformedReceiptError(f"first line must be {TLOG_PROOF_HEADER!r}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest[0][len("extra ") :], "extra data")
        rest = rest[1:]
    if not rest or not rest[0].startswith("index "):
        raise MalformedReceiptError("missing 'index <n>' line")
    index = _decimal(rest[0][len("index ") :], "index")
    hashes = rest[1:]
    if len(hashes) > MAX_PROOF_HASHES:
        raise MalformedReceiptError(f"more than {MAX_PROOF_HASHES} inclusion proof hashes")
    proof = tuple(_b64(h, "inclusion proof hash") for h in hashes)
    if any(len(h) != 32 for h in proof):
        raise MalformedReceiptError("inclusion proof hashes must be 32 bytes")
    try:
        parse_note(checkpoint)
    except LedgerError as e:
        raise MalformedReceiptError(f"checkpoint: {e}") from e
    return TlogProof(index, proof, checkpoint, extra)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What an auditor holds: the envelope (log leaf), its tlog-proof, an optional stamp line."""

    envelope: bytes
    proof: TlogProof
    timestamp: str | None = None  # "<nonce> <base64 DER>", see TimestampToken.encode

    def to_bytes(self) -> bytes:
        lines = [RECEIPT_HEADER, "envelope " + base64.b64encode(self.envelope).decode("ascii")]
        if self.timestamp is not None:
            lines.append("timestamp " + self.timestamp)
        return ("\n".join(lines) + "\n\n").encode("ascii") + self.proof.to_text().encode("utf-8")


def parse_receipt(data: bytes) -> Receipt:
    """Parse an rsrp receipt strictly; the inverse of :meth:`Receipt.to_bytes`."""
    lines, tail = split_header_block(data, "receipt", MAX_RECEIPT, MalformedReceiptError)
    if lines[0] != RECEIPT_HEADER:
        raise MalformedReceiptError(f"first line must be {RECEIPT_HEADER!r}")
    if len(lines) not in (2, 3) or not lines[1].startswith("envelope "):
        raise MalformedReceiptError("expected 'envelope <base64>' and an optional timestamp line")
    envelope = _b64(lines[1][len("envelope ") :], "envelope")
    if not envelope or len(envelope) > MAX_ENVELOPE:
        raise MalformedReceiptError("envelope is empty or too large")
    timestamp = None
    if len(lines) == 3:
        if not lines[2].startswith("timestamp "):
            raise MalformedReceiptError("third line must be 'timestamp <nonce> <base64>'")
        timestamp = lines[2][len("timestamp ") :]
        try:
            TimestampToken.decode(timestamp)  # syntax only; verified against roots later
        except LedgerError as e:
            raise MalformedReceiptError(f"timestamp line: {e}") from e
    return Receipt(envelope, parse_tlog_proof(tail), timestamp)
