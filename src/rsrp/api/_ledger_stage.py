"""The ledger stage: rsrp.ledger's Log, its checkpointer, and receipts.

Appends are durable before they return (the Log's group commit). A background
thread signs a checkpoint every N entries or T ms; several replicas on one
PostgreSQL database each run one (a checkpoint another replica already stored
is simply skipped). A receipt is the C2SP tlog-proof@v1 text: index, RFC 9162
inclusion path and the signed checkpoint that covers the entry.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import psycopg

from rsrp.api._stages import CheckpointView, ReceiptView
from rsrp.context._db import sqlite_path as _sqlite_path
from rsrp.errors import LedgerError, RsrpError
from rsrp.ledger import (
    Backend,
    Checkpointer,
    CheckpointerPolicy,
    KeyStoreCosigner,
    KeyStoreNoteSigner,
    Log,
    NotCoveredError,
    NoteVerifier,
    StoredCheckpoint,
    StoredEntry,
    build_receipt,
    verifier_from_vkey,
)
from rsrp.ledger._tree import NodeId

if TYPE_CHECKING:
    from rsrp.api._keys import CheckpointKeys

__all__ = ["CheckpointLeader", "LogLedger", "SerialisedBackend"]

log = logging.getLogger("rsrp.api.ledger")


class CheckpointLeader:
    """Only one process per log signs checkpoints, so they are stored in size order.

    PostgreSQL: a session advisory lock on a connection held for the process's life;
    SQLite: an exclusive ``flock`` on ``<db>.checkpointer.lock``. Non-blocking: the
    other replicas keep serving, and one takes over when the leader's process dies.
    """

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._held: object | None = None

    def acquire(self) -> bool:
        if self._held is not None:
            return True
        try:
            if self.db_url.startswith(("postgresql://", "postgres://")):
                conn = psycopg.connect(self.db_url, autocommit=True)
                row = conn.execute("SELECT pg_try_advisory_lock(hashtext('rsrp-checkpointer'))")
                got = row.fetchone()
                if got is None or not got[0]:
                    conn.close()
                    return False
                self._held = conn
            else:
                path = _sqlite_path(self.db_url).with_suffix(".checkpointer.lock")
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    return False
                self._held = fd
        except (OSError, psycopg.Error) as e:
            log.warning("checkpointer leadership not acquired: %s", e)
            return False
        return True

    def release(self) -> None:
        held, self._held = self._held, None
        if isinstance(held, int):
            os.close(held)
        elif held is not None:
            held.close()  # type: ignore[attr-defined]


class LogLedger:
    def __init__(
        self,
        log_: Log,
        origin: str,
        note_signer: KeyStoreNoteSigner,
        cosigner: KeyStoreCosigner,
        *,
        every_entries: int,
        every_ms: int,
        leader: CheckpointLeader,
        verifiers: Sequence[NoteVerifier] = (),
    ) -> None:
        self.log = log_
        self.leader = leader
        self.origin = origin
        if cosigner.name != origin:
            raise LedgerError(f"the cosignature key is named {cosigner.name!r}, not {origin!r}")
        self._vkeys = (note_signer.vkey, cosigner.vkey)
        # Every checkpoint carries the Ed25519 note signature (type 0x01) and the log's
        # ML-DSA-44 timestamped cosignature (c2sp.org/tlog-cosignature, type 0x06).
        self.checkpointer = Checkpointer(
            origin,
            log_,
            log_,
            [note_signer, cosigner],
            # The current keys, and retired ones so a checkpoint from before a rotation
            # still opens (rsrp.api._keys.checkpoint_keys).
            verifiers or [verifier_from_vkey(note_signer.vkey), cosigner.verifier()],
            CheckpointerPolicy(every_entries=every_entries, every_ms=every_ms),
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rsrp-checkpointer", daemon=True)
        self._thread.start()

    @property
    def vkey(self) -> str:
        """The C2SP note verifier key (Ed25519, type 0x01) of this log's checkpoints."""
        return self._vkeys[0]

    @property
    def cosigner_vkey(self) -> str:
        """The vkey of the log's ML-DSA-44 cosignature line (tlog-cosignature type 0x06)."""
        return self._vkeys[1]

    @property
    def vkeys(self) -> tuple[str, str]:
        """Both checkpoint vkeys; offline verification requires a line from each."""
        return self._vkeys

    def rekey(self, keys: CheckpointKeys) -> None:
        """Sign with rotated checkpoint keys from now on (accepting the old ones' checkpoints)."""
        # Verifiers first (they accept old and new keys), then signers: a checkpoint
        # signed meanwhile, by either key set, still re-opens.
        self.checkpointer.verifiers = keys.verifiers
        self.checkpointer.signers = (keys.note, keys.cosigner)
        self._vkeys = (keys.note.vkey, keys.cosigner.vkey)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            if not self.leader.acquire():
                continue
            try:
                self.checkpointer.maybe_checkpoint()
            except RsrpError as e:
                # Another replica stored this size first, or the DB blipped, or another
                # replica rotated the key (until rsrp.api._keys follows): try again next
                # tick. An inconsistent tree raises every time and readyz reports it.
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

    def receipt(self, index: int) -> ReceiptView | None:
        try:
            r = build_receipt(self.log, index)
        except NotCoveredError:
            return None
        return ReceiptView(r.proof.to_text(), r.to_bytes().decode("utf-8"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.leader.release()
        self.log.close()


class SerialisedBackend:
    """A ledger back-end whose writes take the process's SQLite write lock.

    The Log's group commit is untouched (callers queue while the leader commits);
    only the leader's transaction and the service's own write transactions on the
    same file take turns in-process instead of spinning in SQLite's busy handler.
    """

    def __init__(self, inner: Backend, lock: threading.Lock) -> None:
        self.inner = inner
        self.url = inner.url
        self.lock = lock

    def append(self, entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> int:
        with self.lock:
            return self.inner.append(entries, leaf_hashes)

    def put_checkpoint(self, cp: StoredCheckpoint) -> None:
        with self.lock:
            self.inner.put_checkpoint(cp)

    def update_checkpoint(
        self, size: int, note: bytes | None, token: bytes | None, cosigs: bytes | None
    ) -> None:
        with self.lock:
            self.inner.update_checkpoint(size, note, token, cosigs)

    def head(self) -> tuple[int, bytes]:
        return self.inner.head()

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        return self.inner.get_nodes(ids)

    def read_entry_columns(
        self, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes], Sequence[bytes]]:
        return self.inner.read_entry_columns(start, limit)

    def read_node_columns(
        self, level: int, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes]]:
        return self.inner.read_node_columns(level, start, limit)

    def read_entries(self, start: int, limit: int) -> list[StoredEntry]:
        return self.inner.read_entries(start, limit)

    def read_nodes(self, level: int, start: int, limit: int) -> list[tuple[int, bytes]]:
        return self.inner.read_nodes(level, start, limit)

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        return self.inner.checkpoint_at(size)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        return self.inner.latest_checkpoint()

    def checkpoints(self) -> list[StoredCheckpoint]:
        return self.inner.checkpoints()

    def close(self) -> None:
        self.inner.close()
