"""The Log: durable appends with group commit, roots, proofs and checkpoint storage.

Concurrent ``append`` calls are coalesced: each caller queues its entries, and whichever caller
holds the commit lock (the leader) drains the whole queue into one transaction, then resolves
every queued caller's result. Nobody gets an index before the transaction that wrote it has
committed durably, and a failed commit fails every caller in it (fail closed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rsrp.errors import LedgerError
from rsrp.ledger._errors import CheckpointError, InvalidSizeError, StorageError
from rsrp.ledger._proofs import consistency_proof, inclusion_proof, root_at
from rsrp.ledger._storage import Backend, StoredCheckpoint, StoredEntry
from rsrp.ledger._tree import NodeId

__all__ = ["MAX_ENTRY_SIZE", "Log", "open_backend"]

#: C2SP tlog-tiles entry bundles prefix each entry with a big-endian uint16 length.
MAX_ENTRY_SIZE = 0xFFFF
_sha256 = hashlib.sha256


@dataclass(slots=True)
class _Pending:
    entries: Sequence[bytes]
    hashes: list[bytes]
    done: threading.Event = field(default_factory=threading.Event)
    first: int = -1
    error: BaseException | None = None


def open_backend(target: str | Path) -> Backend:
    """A back-end for ``postgresql://…``, ``sqlite:///path`` or a plain SQLite file path."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from rsrp.ledger._postgres import PostgresBackend

        return PostgresBackend(text)
    if text.startswith("sqlite:///"):
        text = text.removeprefix("sqlite://")
    elif text.startswith("sqlite:"):
        text = text.removeprefix("sqlite:")
    elif "://" in text:
        raise StorageError(f"unsupported ledger URL scheme: {text.split('://')[0]}://")
    from rsrp.ledger._sqlite import SQLiteBackend

    return SQLiteBackend(text)


class Log:
    """An append-only RFC 6962 log over a storage back-end.

    >>> import tempfile, os
    >>> log = Log.open(os.path.join(tempfile.mkdtemp(), "ledger.db"))
    >>> log.append(b"first"), log.append_many([b"second", b"third"])
    (0, range(1, 3))
    >>> log.size
    3
    >>> log.close()
    """

    def __init__(self, backend: Backend, *, max_batch: int = 50_000) -> None:
        self.backend = backend
        self._max_batch = max_batch
        self._queue: deque[_Pending] = deque()
        self._qlock = threading.Lock()
        self._commit_lock = threading.Lock()

    @classmethod
    def open(cls, target: str | Path) -> Log:
        return cls(open_backend(target))

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- appends -------------------------------------------------------------------------
    def append(self, entry: bytes) -> int:
        """Append one entry; return its index once it is durably committed."""
        return self._submit([entry])[0]

    def append_many(self, entries: Sequence[bytes]) -> range:
        """Append a batch in one transaction; return its (contiguous) indices once committed."""
        return self._submit(entries)

    def _submit(self, entries: Sequence[bytes]) -> range:
        # C-level scans first (batches can be a million entries); find the culprit only on error.
        if not set(map(type, entries)) <= {bytes}:
            i, e = next((i, e) for i, e in enumerate(entries) if not isinstance(e, bytes))
            raise LedgerError(f"entry {i} must be bytes, got {type(e).__name__}")
        if not entries:
            return range(0)
        if max(map(len, entries)) > MAX_ENTRY_SIZE:
            i = next(i for i, e in enumerate(entries) if len(e) > MAX_ENTRY_SIZE)
            raise LedgerError(f"entry {i} is {len(entries[i])} bytes, more than {MAX_ENTRY_SIZE}")
        # RFC 9162 §2.1.1 leaf hashes (hash_leaf, inlined), computed outside any lock.
        mine = _Pending(entries, [_sha256(b"\x00" + e).digest() for e in entries])
        with self._qlock:
            self._queue.append(mine)
        while not mine.done.is_set():
            with self._commit_lock:
                if not mine.done.is_set():
                    self._commit_queued()
        if mine.error is not None:
            raise mine.error
        return range(mine.first, mine.first + len(entries))

    def _commit_queued(self) -> None:
        """Leader: commit everything queued so far (up to ``max_batch`` entries) in one go."""
        with self._qlock:
            batch: list[_Pending] = []
            count = 0
            while self._queue and (
                not batch or count + len(self._queue[0].entries) <= self._max_batch
            ):
                p = self._queue.popleft()
                batch.append(p)
                count += len(p.entries)
        try:
            if len(batch) == 1:  # one caller (e.g. append_many): no copy
                first = self.backend.append(batch[0].entries, batch[0].hashes)
            else:
                first = self.backend.append(
                    [e for p in batch for e in p.entries], [h for p in batch for h in p.hashes]
                )
        except BaseException as e:
            # Every caller in the batch fails: none of them gets an index for a failed commit.
            err: BaseException = e
            if isinstance(e, Exception) and not isinstance(e, LedgerError):
                err = StorageError(f"append failed: {e}")
                err.__cause__ = e
            for p in batch:
                p.error = err
                p.done.set()
            if not isinstance(e, Exception):
                raise  # KeyboardInterrupt and friends still stop the leader
            return
        for p in batch:
            p.first = first
            first += len(p.entries)
            p.done.set()

    # -- reads ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.backend.head()[0]

    def head(self) -> tuple[int, bytes]:
        """The committed (size, root) as stored in the tree head row."""
        return self.backend.head()

    def get_nodes(self, ids: Sequence[NodeId], /) -> Sequence[bytes]:
        return self.backend.get_nodes(ids)

    def _size(self, size: int | None) -> int:
        current = self.size
        if size is None:
            return current
        if not 0 <= size <= current:
            raise InvalidSizeError(f"tree size {size} is beyond the log's size {current}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """RFC 9162 §2.1.1 root of the first ``size`` entries (default: all), O(log n) reads."""
        return root_at(self.backend, self._size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 proof for entry ``index`` in the tree of ``size`` (default: all)."""
        return inclusion_proof(self.backend, index, self._size(size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof that tree ``size2`` (default: all) extends tree ``size1``."""
        return consistency_proof(self.backend, size1, self._size(size2))

    def entry(self, index: int) -> StoredEntry:
        found = self.backend.read_entries(index, 1)
        if not found or found[0].index != index or index >= self.size:
            raise InvalidSizeError(f"no entry {index} in a log of size {self.size}")
        return found[0]

    # -- checkpoints ---------------------------------------------------------------------
    def store_checkpoint(
        self,
        size: int,
        root: bytes,
        note: bytes,
        *,
        timestamp_token: bytes | None = None,
        cosignatures: bytes | None = None,
        created_at: dt.datetime | None = None,
    ) -> StoredCheckpoint:
        """Store the signed ``note`` for tree ``(size, root)``; refuse a root not the log's."""
        actual = self.root(size)
        if root != actual:
            raise CheckpointError(
                f"checkpoint root for size {size} is {root.hex()}, the log's is {actual.hex()}"
            )
        existing = self.backend.checkpoint_at(size)
        if existing is not None:
            raise CheckpointError(f"a checkpoint at size {size} is already stored")
        cp = StoredCheckpoint(
            size,
            root,
            bytes(note),
            created_at or dt.datetime.now(dt.UTC),
            timestamp_token,
            cosignatures,
        )
        self.backend.put_checkpoint(cp)
        return cp

    def update_checkpoint(
        self,
        size: int,
        *,
        note: bytes | None = None,
        timestamp_token: bytes | None = None,
        cosignatures: bytes | None = None,
    ) -> StoredCheckpoint:
        """Attach what arrives after signing (more signatures, a timestamp token, cosignatures)."""
        self.backend.update_checkpoint(size, note, timestamp_token, cosignatures)
        cp = self.backend.checkpoint_at(size)
        if cp is None:
            raise CheckpointError(f"no checkpoint at size {size}")
        return cp

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        return self.backend.latest_checkpoint()

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        return self.backend.checkpoint_at(size)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """All stored checkpoints, smallest tree first."""
        return self.backend.checkpoints()
