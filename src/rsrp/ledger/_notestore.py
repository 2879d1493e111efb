"""Glue between the log's checkpoints table and the notes layer (signed C2SP checkpoints).

:class:`NoteStore` is the ``CheckpointStore`` the :class:`rsrp.ledger.Checkpointer` writes to;
:func:`note_checker` is the ``verify_note`` hook of :func:`rsrp.ledger.audit`: it opens each
stored note with the log's keys and requires it to name the row's own size and root.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rsrp.errors import LedgerError
from rsrp.ledger._checkpoint import open_checkpoint, parse_checkpoint
from rsrp.ledger._errors import TamperError
from rsrp.ledger._log import Log
from rsrp.ledger._note import NoteVerifier, parse_note
from rsrp.ledger._storage import StoredCheckpoint

__all__ = ["NoteStore", "note_checker"]


class NoteStore:
    """The log's checkpoints as signed-note bytes (the checkpointer's storage protocol)."""

    def __init__(self, log: Log) -> None:
        self.log = log

    def latest_checkpoint(self) -> bytes | None:
        cp = self.log.latest_checkpoint()
        return None if cp is None else cp.note

    def store_checkpoint(self, size: int, note: bytes) -> None:
        body = parse_checkpoint(parse_note(note).text)
        if body.size != size:
            raise LedgerError(f"note is for tree size {body.size}, not {size}")
        self.log.store_checkpoint(size, body.root_hash, note)


def note_checker(
    verifiers: Sequence[NoteVerifier], origin: str | None = None
) -> Callable[[StoredCheckpoint], None]:
    """A ``verify_note`` hook: signature by one of ``verifiers``, and size/root match the row.

    With no verifiers only the syntax and the size/root match are checked.
    """

    def check(cp: StoredCheckpoint) -> None:
        try:
            if verifiers:
                body = open_checkpoint(cp.note, origin, verifiers).checkpoint
            else:
                body = parse_checkpoint(parse_note(cp.note).text)
        except LedgerError as e:
            raise TamperError(
                f"checkpoint at size {cp.size}: its note does not verify: {e}", cp.size
            ) from e
        if (body.size, body.root_hash) != (cp.size, cp.root):
            raise TamperError(
                f"checkpoint at size {cp.size}: its signed note is for size {body.size} with root "
                f"{body.root_hash.hex()}, not the stored size and root: checkpoint swapped or "
                "rolled back",
                min(cp.size, body.size),
            )

    return check
