"""Checkpoint bodies, c2sp.org/tlog-checkpoint v1 §Note text.

Three non-empty lines (origin, decimal tree size without leading zeroes, base64
RFC 6962 root hash) then optional non-empty extension lines, each ending in a
newline. Parsed strictly: sizes match ``^[0-9]{1,20}$`` before ``int()`` ever
sees them (``int`` accepts ``+3``, ``1_000`` and `` 3``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rsrp.ledger._note import NoteVerifier, VerifiedNote, b64decode_strict, open_note
from rsrp.ledger._note_errors import (
    EmptyTreeRootError,
    MalformedCheckpointError,
    MalformedNoteError,
    OriginMismatchError,
)

__all__ = [
    "EMPTY_ROOT",
    "MAX_TREE_SIZE",
    "Checkpoint",
    "SignedCheckpoint",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_decimal",
]

#: RFC 6962 §2.1: the hash of an empty tree is the hash of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: tree sizes are uint64 on the wire (tlog-cosignature's cosigned_message).
MAX_TREE_SIZE = 2**64 - 1

#: Same bound as a whole note (rsrp.ledger._note.MAX_NOTE_SIZE) and torchwood's checkpoints.
MAX_CHECKPOINT_SIZE = 1_000_000

_DECIMAL = re.compile(r"[0-9]{1,20}")


def parse_decimal(text: str, what: str, *, maximum: int = MAX_TREE_SIZE) -> int:
    """ASCII decimal, no sign, no separators, no leading zeroes (``0`` itself is fine)."""
    if not _DECIMAL.fullmatch(text) or (len(text) > 1 and text[0] == "0"):
        raise MalformedCheckpointError(f"{what} {text[:40]!r} is not a canonical decimal")
    value = int(text)
    if value > maximum:
        raise MalformedCheckpointError(f"{what} {value} exceeds {maximum}")
    return value


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, size and RFC 6962 root, plus opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # No length limit here: tlog-checkpoint sets none (ML-DSA cosignatures need <= 255
        # bytes and check it themselves); the note size cap bounds it.
        if not self.origin or any(ord(c) < 0x20 for c in self.origin):
            raise MalformedCheckpointError("origin must be one non-empty line")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedCheckpointError(f"tree size {self.size} out of range")
        if len(self.root_hash) != 32:
            raise MalformedCheckpointError(f"root hash is {len(self.root_hash)} bytes, not 32")
        if self.size == 0 and self.root_hash != EMPTY_ROOT:
            raise EmptyTreeRootError("a size-0 checkpoint must carry the empty-tree root")
        for ext in self.extensions:
            if not ext or "\n" in ext or any(ord(c) < 0x20 for c in ext):
                raise MalformedCheckpointError("extension lines must be non-empty single lines")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extensions, each newline-terminated."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )

    def body_bytes(self) -> bytes:
        return self.body().encode("utf-8")


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse a checkpoint note text (tlog-checkpoint §Note text); the inverse of ``body()``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedCheckpointError("checkpoint is not valid UTF-8") from e
    # torchwood's ParseCheckpoint caps at 1e6 bytes, as our notes do; the spec sets no limit.
    if len(text) > MAX_CHECKPOINT_SIZE:
        raise MalformedCheckpointError(
            f"checkpoint body is larger than {MAX_CHECKPOINT_SIZE} characters"
        )
    if not text.endswith("\n"):
        raise MalformedCheckpointError("checkpoint body must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpointError(f"checkpoint has {len(lines)} lines, at least 3 needed")
    if any(line == "" for line in lines):
        raise MalformedCheckpointError("checkpoint has an empty line")
    origin, size_line, root_line, *ext = lines
    size = parse_decimal(size_line, "tree size")
    try:
        root = b64decode_strict(root_line, "root hash")
    except MalformedNoteError as e:
        raise MalformedCheckpointError(str(e)) from e
    return Checkpoint(origin, size, root, tuple(ext))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose note verified against the log's keys."""

    checkpoint: Checkpoint
    note: VerifiedNote
    raw: bytes

    @property
    def text(self) -> str:
        return self.note.text


def open_checkpoint(
    data: bytes, origin: str | None, verifiers: Sequence[NoteVerifier]
) -> SignedCheckpoint:
    """Verify a signed checkpoint note against the log's keys, then parse and check its origin.

    ``origin=None`` accepts any origin (callers then check it themselves).
    """
    verified = open_note(data, verifiers)
    cp = parse_checkpoint(verified.text)
    if origin is not None and cp.origin != origin:
        raise OriginMismatchError(origin, cp.origin)
    return SignedCheckpoint(cp, verified, data)
