"""The ledger stage: rsrp.ledger's Log, its checkpointer, and receipts.

Appends are durable before they return (the Log's group commit). A background
thread signs a checkpoint every N entries or T ms; several replicas on one
PostgreSQL database each run one (a checkpoint another replica already stored
is simply skipped). A receipt is the C2SP tlog-proof@v1 text: index, RFC 9162
inclusion path and the signed checkpoint that covers the entry.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Sequence

from rsrp.api._stages import CheckpointView
from rsrp.errors import LedgerError
from rsrp.keys.signer import Signer
from rsrp.ledger import Checkpointer, CheckpointerPolicy, Ed25519NoteVerifier, Log

__all__ = ["KeyStoreNoteSigner", "LogLedger", "tlog_proof"]

log = logging.getLogger("rsrp.api.ledger")


class KeyStoreNoteSigner:
    """A signed-note signer (Ed25519, type 0x01) whose key stays in the key store."""

    def __init__(self, name: str, signer: Signer, public_raw: bytes) -> None:
        if signer.algorithm != "ed25519":
            raise LedgerError(f"checkpoint key {signer.key_id!r} must be ed25519")
        self.name = name
        self.public_raw = public_raw
        self.key_id = self.verifier().key_id
        self._signer = signer

    def sign(self, text: bytes) -> bytes:
        return self._signer.sign(text)

    def verifier(self) -> Ed25519NoteVerifier:
        return Ed25519NoteVerifier(self.name, self.public_raw)


def tlog_proof(index: int, hashes: Sequence[bytes], checkpoint_note: bytes) -> str:
    """c2sp.org/tlog-proof@v1: header, ``index N``, one base64 hash per line, blank line, note."""
    lines = ["c2sp.org/tlog-proof@v1", f"index {index}"]
    lines += [base64.b64encode(h).decode("ascii") for h in hashes]
    return "\n".join(lines) + "\n\n" + checkpoint_note.decode("utf-8")


class LogLedger:
    def __init__(
        self,
        log_: Log,
        origin: str,
        note_signer: KeyStoreNoteSigner,
        *,
        every_entries: int,
        every_ms: int,
    ) -> None:
        self.log = log_
        self.origin = origin
        self._verifier = note_signer.verifier()
        self.checkpointer = Checkpointer(
            origin,
            log_,
            log_,
            [note_signer],
            [note_signer.verifier()],
            CheckpointerPolicy(every_entries=every_entries, every_ms=every_ms),
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rsrp-checkpointer", daemon=True)
        self._thread.start()

    @property
    def vkey(self) -> str:
        """The C2SP note verifier key of this log's checkpoints (public)."""
        return self._verifier.vkey

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.checkpointer.maybe_checkpoint()
            except LedgerError as e:
                # Another replica stored this size first, or the DB blipped: try again
                # next tick. An inconsistent tree raises every time and readyz reports it.
                log.warning("checkpoint not signed: %s", e)

    def append(self, entry: bytes) -> int:
        return self.log.append(entry)

    def append_many(self, entries: Sequence[bytes]) -> list[int]:
        return list(self.log.append_many(entries))

    def size(self) -> int:
        return self.log.size

    def entry(self, index: int) -> bytes:
        return self.log.entry(index).data

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self.log.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self.log.consistency_proof(old_size, new_size)

    def latest_checkpoint(self) -> CheckpointView | None:
        cp = self.log.latest_checkpoint()
        if cp is None:
            return None
        return CheckpointView(cp.size, cp.root, cp.note.decode("utf-8"), cp.created_at)

    def checkpoint_now(self) -> CheckpointView | None:
        """Sign a checkpoint of the current tree now (tests, shutdown)."""
        self.checkpointer.checkpoint()
        return self.latest_checkpoint()

    def receipt(self, index: int) -> str | None:
        cp = self.log.latest_checkpoint()
        if cp is None or cp.size <= index:
            return None
        return tlog_proof(index, self.log.inclusion_proof(index, cp.size), cp.note)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.log.close()
