"""The storage protocol every back-end implements, and the append algorithm they share.

A back-end stores four things: the entries (index, bytes, leaf hash), the tree's complete
internal nodes (level >= 1; level 0 is the entries' leaf hashes), a one-row tree head (size,
root) that doubles as the sequencer lock, and checkpoints. Sequencing happens inside the
database transaction: lock the head row, read the size, write, commit. No in-process counter,
so any number of processes can append to one database. (A back-end may skip the reads by
moving the head from the (size, root) it last committed, which takes the same row lock and
fails if anyone else appended since; :func:`plan_append` is the computation both paths share.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rsrp.ledger._errors import StorageError
from rsrp.ledger._tree import STRATUM, NodeId, border_ids, extend, fold_right

__all__ = [
    "AppendPlan",
    "AuditSource",
    "Backend",
    "StoredCheckpoint",
    "StoredEntry",
    "Txn",
    "append_in_txn",
    "plan_append",
]


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


@dataclass(frozen=True, slots=True)
class AppendPlan:
    """What appending a batch at tree size ``first`` writes, and the tree it leaves.

    ``node_rows`` are the new stored nodes (level, index, hash); ``border`` the hashes of
    ``border_ids(size)`` of the new tree, so that the next append can start from it.
    """

    first: int
    size: int
    root: bytes
    node_rows: list[tuple[int, int, bytes]]
    border: tuple[bytes, ...]


def plan_append(size: int, border: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> AppendPlan:
    """The nodes, root and border of the tree ``size`` + ``leaf_hashes`` (pure computation).

    ``border`` holds the hashes of ``border_ids(size)`` (the old tree's compact range).
    """
    runs = extend(size, border, leaf_hashes)
    rows = [
        (level, first + i, h)
        for level, first, hashes in runs
        if level % STRATUM == 0
        for i, h in enumerate(hashes)
    ]
    new_size = size + len(leaf_hashes)
    old = dict(zip(border_ids(size), border, strict=True))
    by_level = {lv: (f, hs) for lv, f, hs in runs}
    picked = []
    # Each node of the new border is freshly computed, or unchanged from the old border.
    for node in border_ids(new_size):
        level, index = node
        if level == 0 and index >= size:
            picked.append(leaf_hashes[index - size])
        elif level in by_level and index >= by_level[level][0]:
            picked.append(by_level[level][1][index - by_level[level][0]])
        elif node in old:
            picked.append(old[node])
        else:  # impossible unless extend() is wrong: fail closed
            raise StorageError(f"internal: node {node} missing after append at size {size}")
    return AppendPlan(size, new_size, fold_right(picked), rows, tuple(picked))


def append_in_txn(tx: Txn, entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> AppendPlan:
    """Sequence and store a batch in the caller's transaction (which holds the head lock)."""
    size = tx.locked_size()
    plan = plan_append(size, tx.get_nodes(border_ids(size)), leaf_hashes)
    tx.put_entries(size, entries, leaf_hashes)
    tx.put_nodes(plan.node_rows)
    tx.set_head(plan.size, plan.root)
    return plan


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
