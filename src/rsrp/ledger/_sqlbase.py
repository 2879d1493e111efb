"""The SQL shared by the SQLite and PostgreSQL back-ends (written with ``?`` placeholders).

Both back-ends see the same tables; subclasses supply connections (:mod:`._sqlconn`), the
head-row lock and a faster bulk insert where the driver has one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import suppress
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from rsrp.ledger._errors import StorageError
from rsrp.ledger._packed import PackedEntries, packed_row, unpack_entries, unpack_nodes
from rsrp.ledger._sqlconn import SqlConnections
from rsrp.ledger._storage import (
    AppendPlan,
    StoredCheckpoint,
    StoredEntry,
    append_in_txn,
    plan_append,
)
from rsrp.ledger._tree import STRATUM, NodeId, expand, index_runs, perfect_root

__all__ = ["SqlBackend"]

_CP_COLS = "size, root, note, created_at, timestamp_token, cosignatures"
# Only "?" placeholders are ever formatted into these; values always go as parameters.
_NODES_IN = "SELECT level, idx, hash FROM nodes WHERE level = ? AND idx BETWEEN ? AND ?"
_LEAVES_IN = "SELECT ?, idx, leaf_hash FROM entries WHERE idx BETWEEN ? AND ?"

#: Entries per multi-row INSERT (3 parameters each; SQLite allows 32,766 since 3.32).
_ROWS_PER_INSERT = 256


@lru_cache(maxsize=64)
def _insert_entries(rows: int) -> str:
    # Only "?" placeholders are formatted in; values always go as parameters.
    marks = ", ".join(["(?, ?, ?)"] * rows)
    return f"INSERT INTO entries (idx, data, leaf_hash) VALUES {marks}"  # noqa: S608


#: Complete nodes kept in memory per back-end (~150 bytes each): the upper levels every proof
#: shares stay cached, and a full cache is simply emptied.
_NODE_CACHE_MAX = 1 << 16
#: Wanted indices this close together on one level are read as one range.
_RUN_GAP = 2**STRATUM


def _column(rows: Sequence[Sequence[Any]], k: int) -> list[Any]:
    # Not zip(*rows): that makes a tuple iterator per row, and on 65,536-row chunks the
    # garbage collector passes they trigger tripled the audit's read time.
    return list(map(itemgetter(k), rows))


class _HeadMovedError(Exception):
    """Another writer appended since this back-end's last commit: take the locking path."""


class SqlBackend(SqlConnections):
    """Common implementation of :class:`rsrp.ledger._storage.Backend` over a DB-API driver."""

    #: Reads the size (and the transaction id, or NULL) while taking the sequencer lock.
    LOCK_HEAD = "SELECT size, NULL FROM tree_head WHERE id = 1"
    #: Moves the head from an expected (size, root), taking the sequencer lock; no row if moved.
    MOVE_HEAD = (
        "UPDATE tree_head SET size = ?, root = ? WHERE id = 1 AND size = ? AND root = ?"
        " RETURNING NULL"
    )
    PLACEHOLDER = "?"
    #: Aggregates over entries [start, start + limit) for :func:`unpack_entries`, parameters
    #: (start, start, start + limit); over nodes for :func:`unpack_nodes`, parameters
    #: (start, level, start, start + limit).
    PACKED_ENTRIES = PACKED_NODES = ""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        # The tree this back-end last committed (size, root, border): the next append starts
        # from it without reading, and the head row's (size, root) check catches a stale one.
        self._tip: AppendPlan | None = None
        self._node_cache: dict[NodeId, bytes] = {}
        try:
            self._writer = self._connect()
            self._create_schema()
            self._reader = self._connect_reader()
        except self.DB_ERRORS as e:
            self.close()
            raise StorageError(f"cannot open ledger database {url}: {e}") from e

    # -- hooks ---------------------------------------------------------------------------
    def _create_schema(self) -> None:
        raise NotImplementedError

    def _ts_in(self, value: dt.datetime) -> Any:
        return value

    def _ts_out(self, value: Any) -> dt.datetime:
        if not isinstance(value, dt.datetime):
            raise StorageError(f"bad created_at value in checkpoints: {value!r}")
        return value.astimezone(dt.UTC)

    def _put_entries(
        self, cur: Any, first: int, entries: Sequence[bytes], hashes: Sequence[bytes]
    ) -> None:
        # Multi-row INSERTs: one statement execution per 256 rows instead of one per row
        # (SQLite inserts a 10k batch ~1.7x faster).
        rows = zip(range(first, first + len(entries)), entries, hashes, strict=True)
        flat = list(chain.from_iterable(rows))
        per = 3 * _ROWS_PER_INSERT
        whole = len(flat) - len(flat) % per
        if whole:
            sql = self._q(_insert_entries(_ROWS_PER_INSERT))
            cur.executemany(sql, [flat[i : i + per] for i in range(0, whole, per)])
        if whole < len(flat):
            cur.execute(self._q(_insert_entries((len(flat) - whole) // 3)), flat[whole:])

    def _put_nodes(self, cur: Any, rows: list[tuple[int, int, bytes]]) -> None:
        cur.executemany(self._q("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)"), rows)

    # -- plumbing ------------------------------------------------------------------------
    def _q(self, sql: str) -> str:
        return sql if self.PLACEHOLDER == "?" else sql.replace("?", self.PLACEHOLDER)

    # -- Backend -------------------------------------------------------------------------
    def _append_at(
        self, cur: Any, tip: AppendPlan, entries: Sequence[bytes], hashes: Sequence[bytes]
    ) -> AppendPlan:
        """Append on top of ``tip``; :class:`_HeadMovedError` if the log has moved on."""
        plan = plan_append(tip.size, tip.border, hashes)
        cur.execute(self._q(self.MOVE_HEAD), (plan.size, plan.root, tip.size, tip.root))
        row = cur.fetchone()
        if row is None:
            raise _HeadMovedError
        self._body_xact = row[0]
        self._put_entries(cur, plan.first, entries, hashes)
        if plan.node_rows:
            self._put_nodes(cur, plan.node_rows)
        return plan

    def append(self, entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> int:
        def landed(plan: AppendPlan) -> bool:
            # Our rows, at the indices our transaction took: the batch is in, exactly once.
            first = plan.first
            stored = self.read_entries(first, len(entries))
            return self.head()[0] >= first + len(entries) and [
                (e.index, e.data, e.leaf_hash) for e in stored
            ] == list(zip(range(first, first + len(entries)), entries, leaf_hashes, strict=True))

        tip, self._tip = self._tip, None  # only a committed append sets it again
        plan = None
        if tip is not None:
            # Optimistic: one statement checks and moves the head; no read of size or border.
            with suppress(_HeadMovedError):
                plan = self._transact(
                    lambda cur: self._append_at(cur, tip, entries, leaf_hashes),
                    landed,
                    xact_in_body=True,
                )
        if plan is None:
            plan = self._transact(
                lambda cur: append_in_txn(_Tx(self, cur), entries, leaf_hashes),
                landed,
                xact_in_body=True,
            )
        self._tip = plan
        return plan.first

    def head(self) -> tuple[int, bytes]:
        def op(cur: Any) -> Any:
            cur.execute("SELECT size, root FROM tree_head WHERE id = 1")
            return cur.fetchone()

        row = self._reading(op)
        if row is None:
            raise StorageError("ledger database has no tree head row")
        return int(row[0]), bytes(row[1])

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        """Hashes of complete nodes; those read before come from an in-process cache.

        A complete node covers a perfect subtree of committed entries, so its hash never
        changes: caching it is exact (the tree head is still read from the database by every
        caller that checks a size). Only committed data (the reader) fills the cache.
        """
        cache = self._node_cache
        # A snapshot of the hits: another thread may empty the cache meanwhile.
        got = {i: h for i in ids if (h := cache.get(i)) is not None}
        missing = [i for i in dict.fromkeys(ids) if i not in got]
        if missing:
            fetched = self._reading(lambda cur: self._nodes(cur, missing))
            got.update(zip(missing, fetched, strict=True))
            if len(cache) + len(missing) > _NODE_CACHE_MAX:
                cache.clear()
            cache.update(zip(missing, fetched, strict=True))
        return [got[i] for i in ids]

    def _nodes(self, cur: Any, ids: Sequence[NodeId]) -> list[bytes]:
        """Hashes of any complete nodes, computed from the stored strata below them."""
        spans = [expand(lv, i) for lv, i in ids]
        by_level: dict[int, set[int]] = {}
        for base, first, count in spans:
            by_level.setdefault(base, set()).update(range(first, first + count))
        # A proof's nodes cluster: the siblings below a stored level all lie in one block of
        # 2**STRATUM stored nodes. So read runs of indices (a range scan of a few adjacent rows
        # each) rather than one index lookup per node.
        runs = index_runs(by_level, _RUN_GAP)
        found: dict[NodeId, bytes] = {}
        if runs:
            # Both drivers return int and bytes for these columns: no per-row conversion.
            found.update(((lv, i), h) for lv, i, h in self._fetch_nodes(cur, runs))
        out = []
        for (lv, i), (base, first, count) in zip(ids, spans, strict=True):
            try:
                if count == 1:
                    out.append(found[(base, first)])
                else:
                    out.append(
                        perfect_root([found[(base, j)] for j in range(first, first + count)])
                    )
            except KeyError as e:
                raise StorageError(
                    f"ledger storage is missing tree node {e} for node {(lv, i)}"
                ) from e
        return out

    def _fetch_nodes(self, cur: Any, runs: list[tuple[int, int, int]]) -> list[Any]:
        """Rows (level, index, hash) in the runs (level, lo, hi); level 0 from the entries."""
        parts = [_LEAVES_IN if lv == 0 else _NODES_IN for lv, _, _ in runs]
        cur.execute(self._q(" UNION ALL ".join(parts)), [v for run in runs for v in run])
        return list(cur.fetchall())

    def read_entries(self, start: int, limit: int) -> list[StoredEntry]:
        def op(cur: Any) -> list[StoredEntry]:
            cur.execute(
                self._q(
                    "SELECT idx, data, leaf_hash FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?"
                ),
                (start, limit),
            )
            return [StoredEntry(int(i), bytes(d), bytes(h)) for i, d, h in cur.fetchall()]

        return self._reading(op)

    def read_entry_columns(
        self, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes], Sequence[bytes]]:
        """Entries in ``[start, start + limit)`` as columns (index, data, leaf hash), for audits.

        A full chunk of an integer key range has every index, so the index column is only
        read back for a short chunk (the log's end, or a gap): a third fewer values to build.
        """

        def op(cur: Any) -> tuple[list[Any], list[Any]]:
            cur.execute(
                self._q(
                    "SELECT data, leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx"
                ),
                (start, start + limit),
            )
            rows = cur.fetchall()
            if len(rows) == limit:
                return rows, []
            cur.execute(
                self._q(
                    "SELECT idx, data, leaf_hash FROM entries WHERE idx >= ? AND idx < ?"
                    " ORDER BY idx"
                ),
                (start, start + limit),
            )
            return [], cur.fetchall()

        rows, full = self._reading(op)
        if rows:
            data, hashes = _column(rows, 0), _column(rows, 1)
            return range(start, start + limit), data, hashes
        if not full:
            return [], [], []
        idx, data, hashes = _column(full, 0), _column(full, 1), _column(full, 2)
        return idx, data, hashes

    def read_entry_packed(self, start: int, limit: int) -> PackedEntries | None:
        """Entries in ``[start, start + limit)`` as one packed chunk (:mod:`._packed`), for
        audits; ``None`` if that is not exactly a run from ``start``: read the rows then."""
        row = packed_row(self._reading, self.PACKED_ENTRIES, (start, start, start + limit))
        return unpack_entries(start, row)

    def read_node_packed(self, level: int, start: int, limit: int) -> bytes | None:
        """Stored hashes of nodes ``[start, start + limit)`` of ``level``, packed, for audits;
        ``None`` if that is not exactly a run from ``start``: read the rows then."""
        row = packed_row(self._reading, self.PACKED_NODES, (start, level, start, start + limit))
        return unpack_nodes(row)

    def read_node_columns(
        self, level: int, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes]]:
        """Stored nodes of ``level`` from ``start`` as two columns (index, hash)."""
        rows = self._node_rows(level, start, limit)
        if not rows:
            return [], []
        idx, hashes = _column(rows, 0), _column(rows, 1)
        return idx, hashes

    def _node_rows(self, level: int, start: int, limit: int) -> list[Any]:
        def op(cur: Any) -> list[Any]:
            cur.execute(
                self._q(
                    "SELECT idx, hash FROM nodes WHERE level = ? AND idx >= ? ORDER BY idx LIMIT ?"
                ),
                (level, start, limit),
            )
            return list(cur.fetchall())

        return self._reading(op)

    def read_nodes(self, level: int, start: int, limit: int) -> list[tuple[int, bytes]]:
        return [(int(i), bytes(h)) for i, h in self._node_rows(level, start, limit)]

    def put_checkpoint(self, cp: StoredCheckpoint) -> None:
        def body(cur: Any) -> None:
            cur.execute(
                self._q(f"INSERT INTO checkpoints ({_CP_COLS}) VALUES (?, ?, ?, ?, ?, ?)"),  # noqa: S608
                (
                    cp.size,
                    cp.root,
                    cp.note,
                    self._ts_in(cp.created_at),
                    cp.timestamp_token,
                    cp.cosignatures,
                ),
            )

        self._transact(body, lambda _: self.checkpoint_at(cp.size) == cp)

    def update_checkpoint(
        self, size: int, note: bytes | None, token: bytes | None, cosigs: bytes | None
    ) -> None:
        def body(cur: Any) -> None:
            cur.execute(
                self._q(
                    "UPDATE checkpoints SET note = COALESCE(?, note), "
                    "timestamp_token = COALESCE(?, timestamp_token), "
                    "cosignatures = COALESCE(?, cosignatures) WHERE size = ?"
                ),
                (note, token, cosigs, size),
            )
            if cur.rowcount != 1:
                raise StorageError(f"no checkpoint at size {size} to update")

        self._transact(body)

    def _checkpoints(self, where: str, args: tuple[int, ...]) -> list[StoredCheckpoint]:
        def op(cur: Any) -> list[Any]:
            cur.execute(self._q(f"SELECT {_CP_COLS} FROM checkpoints {where}"), args)  # noqa: S608
            return list(cur.fetchall())

        rows = self._reading(op)
        return [
            StoredCheckpoint(
                int(s),
                bytes(r),
                bytes(n),
                self._ts_out(c),
                None if t is None else bytes(t),
                None if g is None else bytes(g),
            )
            for s, r, n, c, t, g in rows
        ]

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        found = self._checkpoints("WHERE size = ?", (size,))
        return found[0] if found else None

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        found = self._checkpoints("ORDER BY size DESC LIMIT 1", ())
        return found[0] if found else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        return self._checkpoints("ORDER BY size", ())


class _Tx:
    """Adapter giving :func:`append_in_txn` the statements of one open write transaction."""

    __slots__ = ("_b", "_cur")

    def __init__(self, backend: SqlBackend, cur: Any) -> None:
        self._b, self._cur = backend, cur

    def locked_size(self) -> int:
        self._cur.execute(self._b.LOCK_HEAD)
        row = self._cur.fetchone()
        if row is None:
            raise StorageError("ledger database has no tree head row")
        self._b._body_xact = row[1]
        return int(row[0])

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        return self._b._nodes(self._cur, ids)

    def put_entries(self, first: int, entries: Sequence[bytes], hashes: Sequence[bytes]) -> None:
        self._b._put_entries(self._cur, first, entries, hashes)

    def put_nodes(self, rows: list[tuple[int, int, bytes]]) -> None:
        if rows:
            self._b._put_nodes(self._cur, rows)

    def set_head(self, size: int, root: bytes) -> None:
        self._cur.execute(
            self._b._q("UPDATE tree_head SET size = ?, root = ? WHERE id = 1"), (size, root)
        )
