"""The storage protocol every back-end implements, and the append algorithm they share.

A back-end stores four things: the entries (index, bytes, leaf hash), the tree's complete
internal nodes (level >= 1; level 0 is the entries' leaf hashes), a one-row tree head (size,
root) that doubles as the sequencer lock, and checkpoints. Sequencing happens inside the
database transaction: lock the head row, read the size, write, commit. No in-process counter,
so any number of processes can append to one database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rsrp.ledger._errors import StorageError
from rsrp.ledger._tree import STRATUM, NodeId, border_ids, extend, fold_right

__all__ = ["AuditSource", "Backend", "StoredCheckpoint", "StoredEntry", "Txn", "append_in_txn"]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A stored checkpoint: the signed note for tree ``(size, root)`` and what was added later.

    ``note`` is the C2SP signed-note bytes as the notes layer produced them; ``timestamp_token``
    an RFC 3161 token over it; ``cosignatures`` the witnesses' C2SP tlog-cosignature lines.
    """

    size: int
    root: bytes
    note: bytes
    created_at: dt.datetime
    timestamp_token: bytes | None = None
    cosignatures: bytes | None = None


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One row of the entries table, as stored (an audit must not trust ``leaf_hash``)."""

    index: int
    data: bytes
    leaf_hash: bytes


class Txn(Protocol):
    """What :func:`append_in_txn` needs inside one write transaction holding the head lock."""

    def locked_size(self) -> int: ...
    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]: ...
    def put_entries(
        self, first: int, entries: Sequence[bytes], hashes: Sequence[bytes]
    ) -> None: ...
    def put_nodes(self, rows: list[tuple[int, int, bytes]]) -> None: ...
    def set_head(self, size: int, root: bytes) -> None: ...


def _pick(
    node: NodeId,
    size: int,
    border: Sequence[bytes],
    leaves: Sequence[bytes],
    runs: dict[int, tuple[int, list[bytes]]],
) -> bytes:
    """A node of the new tree's border: freshly computed, or unchanged from the old border."""
    level, index = node
    if level == 0 and index >= size:
        return leaves[index - size]
    if level in runs and index >= runs[level][0]:
        return runs[level][1][index - runs[level][0]]
    old = dict(zip(border_ids(size), border, strict=True))
    if node not in old:  # impossible unless extend() is wrong: fail closed
        raise StorageError(f"internal: node {node} missing after append at size {size}")
    return old[node]


def append_in_txn(tx: Txn, entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> int:
    """Sequence and store a batch in the caller's transaction; return the first index."""
    size = tx.locked_size()
    border = tx.get_nodes(border_ids(size))
    runs = extend(size, border, leaf_hashes)
    tx.put_entries(size, entries, leaf_hashes)
    rows = [
        (level, first + i, h)
        for level, first, hashes in runs
        if level % STRATUM == 0
        for i, h in enumerate(hashes)
    ]
    tx.put_nodes(rows)
    new_size = size + len(entries)
    by_level = {lv: (f, hs) for lv, f, hs in runs}
    root = fold_right([_pick(n, size, border, leaf_hashes, by_level) for n in border_ids(new_size)])
    tx.set_head(new_size, root)
    return size


class AuditSource(Protocol):
    """What an audit reads: a storage back-end or an exported tiles directory.

    Column reads return strictly increasing indices (ORDER BY the primary key).
    """

    def head(self) -> tuple[int, bytes]: ...
    def read_entry_columns(
        self, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes], Sequence[bytes]]: ...
    def read_node_columns(
        self, level: int, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes]]: ...
    def checkpoints(self) -> list[StoredCheckpoint]: ...


class Backend(AuditSource, Protocol):
    """A storage back-end: SQLite (:mod:`._sqlite`) or PostgreSQL (:mod:`._postgres`).

    ``append`` must return only after a durable commit. Reads see committed data only.
    """

    url: str

    def append(self, entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> int: ...
    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]: ...
    def read_entries(self, start: int, limit: int) -> list[StoredEntry]: ...
    def read_nodes(self, level: int, start: int, limit: int) -> list[tuple[int, bytes]]: ...
    def put_checkpoint(self, cp: StoredCheckpoint) -> None: ...
    def update_checkpoint(
        self, size: int, note: bytes | None, token: bytes | None, cosigs: bytes | None
    ) -> None: ...
    def checkpoint_at(self, size: int) -> StoredCheckpoint | None: ...
    def latest_checkpoint(self) -> StoredCheckpoint | None: ...
    def close(self) -> None: ...
