"""Errors of the signed-note, checkpoint and cosignature layer (all :class:`LedgerError`).

Each names what is wrong in words an operator can act on; tests assert the type.
"""

from __future__ import annotations

from rsrp.errors import LedgerError
from rsrp.ledger._errors import CheckpointError

__all__ = [
    "AmbiguousKeyError",
    "CheckpointError",
    "EmptyTreeRootError",
    "MalformedCheckpointError",
    "MalformedKeyError",
    "MalformedNoteError",
    "NoteError",
    "OriginMismatchError",
    "SignatureInvalidError",
    "UnknownKeyError",
]


class NoteError(LedgerError):
    """A signed note (c2sp.org/signed-note) is malformed or does not verify."""


class MalformedNoteError(NoteError):
    """The bytes are not a well-formed signed note (syntax, size, encoding)."""


class MalformedKeyError(NoteError):
    """A vkey or skey string is malformed, of an unknown type, or its key ID is wrong."""


class UnknownKeyError(NoteError):
    """No signature in the note is from a key the verifier was given."""

    def __init__(self, message: str, *, names: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        #: ``name+keyid`` of every signature line found (all from unknown keys).
        self.names = names


class AmbiguousKeyError(NoteError):
    """Two configured verifier keys share the same name and key ID."""


class SignatureInvalidError(NoteError):
    """A signature from a known key (name and key ID match) fails to verify."""

    def __init__(self, name: str, key_id: int, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"invalid signature for key {name}+{key_id:08x}{detail}")
        self.name = name
        self.key_id = key_id


class MalformedCheckpointError(CheckpointError):
    """The note text is not a well-formed checkpoint body."""


class EmptyTreeRootError(MalformedCheckpointError):
    """A size-0 checkpoint whose root is not the empty-tree hash (RFC 6962 §2.1)."""


class OriginMismatchError(CheckpointError):
    """The checkpoint's origin line is not the log's configured origin."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"checkpoint origin {got!r} is not the expected origin {expected!r}")
        self.expected = expected
        self.got = got
