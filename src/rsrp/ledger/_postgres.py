"""The PostgreSQL back-end (psycopg 3): several processes and hosts share one log.

The sequencer is the single tree-head row: every append transaction starts with
``SELECT size FROM tree_head WHERE id = 1 FOR UPDATE``, so appenders queue on that row lock and
each sees the size its predecessor committed. A back-end that committed the previous append
skips that read: one statement moves the head from the (size, root) it left (taking the same
row lock; no row if another writer appended since, which sends it down the locking path) and
inserts a small batch's rows, so an append is two round trips (that statement, COMMIT). A large
batch takes the same lock first, streams its entries by binary ``COPY`` in chunks and hashes
the tree while the server inserts them (two processes, two cores), then moves the head. With
the server's default ``synchronous_commit = on`` a commit is flushed before ``append`` returns.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from rsrp.ledger._errors import StorageError
from rsrp.ledger._sqlbase import SqlBackend, _HeadMovedError
from rsrp.ledger._storage import AppendPlan, plan_append
from rsrp.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE

__all__ = ["PostgresBackend"]

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS tree_head (id integer PRIMARY KEY CHECK (id = 1),"
    " size bigint NOT NULL, root bytea NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (idx bigint PRIMARY KEY, data bytea NOT NULL,"
    " leaf_hash bytea NOT NULL)",
    "CREATE TABLE IF NOT EXISTS nodes (level smallint NOT NULL, idx bigint NOT NULL,"
    " hash bytea NOT NULL, PRIMARY KEY (level, idx))",
    "CREATE TABLE IF NOT EXISTS checkpoints (size bigint PRIMARY KEY, root bytea NOT NULL,"
    " note bytea NOT NULL, created_at timestamptz NOT NULL, timestamp_token bytea,"
    " cosignatures bytea)",
]
# A small batch in one statement (one round trip before COMMIT): move the head from the
# expected (size, root), which takes the sequencer's row lock, and only if that row moved,
# insert the entries and nodes. A head that moved meanwhile returns no row and inserts nothing.
_APPEND_SMALL = """
WITH head AS (
    UPDATE tree_head SET size = %(size)s::int8, root = %(root)s::bytea
    WHERE id = 1 AND size = %(old_size)s::int8 AND root = %(old_root)s::bytea
    RETURNING pg_current_xact_id()::text AS xact
), e AS (
    INSERT INTO entries (idx, data, leaf_hash)
    SELECT %(first)s::int8 + u.o - 1, u.d, u.h
    FROM head, unnest(%(data)s::bytea[], %(hashes)s::bytea[]) WITH ORDINALITY AS u(d, h, o)
), n AS (
    INSERT INTO nodes (level, idx, hash)
    SELECT u.l, u.i, u.h
    FROM head, unnest(%(lv)s::int2[], %(ix)s::int8[], %(nh)s::bytea[]) AS u(l, i, h)
)
SELECT xact FROM head
"""
# Runs of stored nodes in one fixed statement, so the server plans it once (prepared): the
# runs (level, lo, hi) go as arrays, each read by a primary-key range scan.
_NODES_IN = """
SELECT n.level, n.idx, n.hash FROM unnest(%s::int2[], %s::int8[], %s::int8[]) AS w(l, lo, hi)
JOIN nodes AS n ON n.level = w.l AND n.idx BETWEEN w.lo AND w.hi
UNION ALL
SELECT 0::int2, e.idx, e.leaf_hash FROM unnest(%s::int8[], %s::int8[]) AS w(lo, hi)
JOIN entries AS e ON e.idx BETWEEN w.lo AND w.hi
"""
# For audits (see ._packed): all aggregates of one query see the same row stream, and the
# packed index offsets prove its order.
_PACKED_ENTRIES = """
SELECT string_agg(int4send((e.idx - %s)::int4), ''::bytea),
       string_agg(int4send(length(e.data) + 1), ''::bytea),
       string_agg(decode('00', 'hex') || e.data, ''::bytea),
       string_agg(e.leaf_hash, ''::bytea),
       count(*) FILTER (WHERE length(e.leaf_hash) <> 32)
FROM (SELECT idx, data, leaf_hash FROM entries WHERE idx >= %s AND idx < %s ORDER BY idx) AS e
"""
_PACKED_NODES = """
SELECT string_agg(int4send((n.idx - %s)::int4), ''::bytea), string_agg(n.hash, ''::bytea),
       count(*) FILTER (WHERE length(n.hash) <> 32)
FROM (SELECT idx, hash FROM nodes WHERE level = %s AND idx >= %s AND idx < %s ORDER BY idx) AS n
"""
#: Up to this many entries go in with :data:`_APPEND_SMALL`; larger batches use binary COPY.
_SMALL_BATCH = 256
# A large batch first takes the sequencer lock with this (no row if the head moved), so its
# entries can stream to the server before the new root is known; the head moves last.
_LOCK_AT = (
    "UPDATE tree_head SET size = size WHERE id = 1 AND size = %s AND root = %s"
    " RETURNING pg_current_xact_id()::text"
)
_SET_HEAD = "UPDATE tree_head SET size = %s, root = %s WHERE id = 1"
#: Rows per COPY chunk: the server inserts one chunk while the next is encoded.
_COPY_CHUNK = 2048
_COPY_ENTRIES = "COPY entries (idx, data, leaf_hash) FROM STDIN (FORMAT BINARY)"
# JIT compilation (milliseconds) pays off for long analytic queries, never for the ledger's
# short index reads and writes, whose generic plans may still cross jit_above_cost.
_NO_JIT = "-c jit=off"
# Any constant: serialises concurrent first-time schema creation from several processes.
_SCHEMA_LOCK = 0x72737270


class PostgresBackend(SqlBackend):
    """A ledger in a PostgreSQL database given by a ``postgresql://`` URL."""

    LOCK_HEAD = "SELECT size, pg_current_xact_id()::text FROM tree_head WHERE id = 1 FOR UPDATE"
    MOVE_HEAD = (
        "UPDATE tree_head SET size = ?, root = ? WHERE id = 1 AND size = ? AND root = ?"
        " RETURNING pg_current_xact_id()::text"
    )
    PLACEHOLDER = "%s"
    DB_ERRORS = (psycopg.Error,)
    PACKED_ENTRIES, PACKED_NODES = _PACKED_ENTRIES, _PACKED_NODES

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=False, connect_timeout=30, options=_NO_JIT)

    def _create_schema(self) -> None:
        def body(cur: Any) -> None:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for stmt in _SCHEMA:
                cur.execute(stmt)
            cur.execute(
                "INSERT INTO tree_head (id, size, root) VALUES (1, 0, %s) ON CONFLICT DO NOTHING",
                (EMPTY_ROOT,),
            )

        self._transact(body)  # idempotent: safe to run again after a lost connection

    def _connect_reader(self) -> psycopg.Connection[Any]:
        # The reader runs a few fixed, prepared point and range reads over and over: plan them
        # once (a generic plan) instead of re-planning each call (PostgreSQL docs §19.7.6).
        options = f"{_NO_JIT} -c plan_cache_mode=force_generic_plan"
        return psycopg.connect(self.url, autocommit=True, connect_timeout=30, options=options)

    def _read_cursor(self, conn: Any) -> Any:
        # Binary results: bytea arrives as raw bytes instead of hex text to decode (much faster
        # bulk reads for audits).
        return conn.cursor(binary=True)

    def _begin(self, cur: Any) -> None:
        pass  # psycopg opens a transaction at the first statement

    def _broken(self, conn: Any) -> bool:
        # psycopg marks a connection the server or network dropped as closed (and broken).
        return bool(conn.closed)

    def _xact_id(self, cur: Any) -> Any:
        # Asked again after a lost COMMIT reply (pg_xact_status, PostgreSQL docs §9.27.11).
        cur.execute("SELECT pg_current_xact_id()::text")
        return cur.fetchone()[0]

    def _xact_status(self, cur: Any, xact_id: Any) -> str | None:
        cur.execute("SELECT pg_xact_status(%s::xid8)", (xact_id,))
        row = cur.fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def _append_at(
        self, cur: Any, tip: AppendPlan, entries: Sequence[bytes], hashes: Sequence[bytes]
    ) -> AppendPlan:
        if len(entries) > _SMALL_BATCH:
            return self._append_large(cur, tip, entries, hashes)
        plan = plan_append(tip.size, tip.border, hashes)
        rows = plan.node_rows
        cur.execute(
            _APPEND_SMALL,
            {
                "size": plan.size,
                "root": plan.root,
                "old_size": tip.size,
                "old_root": tip.root,
                "first": plan.first,
                "data": list(entries),
                "hashes": list(hashes),
                "lv": [r[0] for r in rows],
                "ix": [r[1] for r in rows],
                "nh": [r[2] for r in rows],
            },
            prepare=True,
        )
        row = cur.fetchone()
        if row is None:
            raise _HeadMovedError
        self._body_xact = row[0]
        return plan

    def _append_large(
        self, cur: Any, tip: AppendPlan, entries: Sequence[bytes], hashes: Sequence[bytes]
    ) -> AppendPlan:
        # The server (another process) inserts the streamed entries while this process hashes
        # the tree: the batch costs about the larger of the two rather than their sum.
        cur.execute(_LOCK_AT, (tip.size, tip.root), prepare=True)
        row = cur.fetchone()
        if row is None:
            raise _HeadMovedError
        self._body_xact = row[0]
        with cur.copy(_COPY_ENTRIES) as cp:
            for chunk in _entries_copy(tip.size, entries, hashes):
                cp.write(chunk)
            plan = plan_append(tip.size, tip.border, hashes)
        if plan.node_rows:
            self._put_nodes(cur, plan.node_rows)
        cur.execute(_SET_HEAD, (plan.size, plan.root), prepare=True)
        return plan

    def _fetch_nodes(self, cur: Any, runs: list[tuple[int, int, int]]) -> list[Any]:
        nodes = [r for r in runs if r[0]]
        leaves = [r for r in runs if not r[0]]
        cur.execute(
            _NODES_IN,
            (
                [r[0] for r in nodes],
                [r[1] for r in nodes],
                [r[2] for r in nodes],
                [r[1] for r in leaves],
                [r[2] for r in leaves],
            ),
            prepare=True,
        )
        return list(cur.fetchall())

    def _put_entries(
        self, cur: Any, first: int, entries: Sequence[bytes], hashes: Sequence[bytes]
    ) -> None:
        with cur.copy(_COPY_ENTRIES) as cp:
            for chunk in _entries_copy(first, entries, hashes):
                cp.write(chunk)

    def _put_nodes(self, cur: Any, rows: list[tuple[int, int, bytes]]) -> None:
        with cur.copy("COPY nodes (level, idx, hash) FROM STDIN (FORMAT BINARY)") as cp:
            cp.write(_nodes_copy(rows))


# PostgreSQL COPY binary format (docs §COPY, "Binary Format"): a signature, flags and header
# extension length, then per row a field count and each field as int32 length + bytes, then
# an int16 -1 trailer. Encoded here with struct: psycopg's write_row() costs ~5 µs a row.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_ENTRY_HEAD = struct.Struct("!hiqi")  # 3 fields; int8 idx; data length
_NODE_HEAD = struct.Struct("!hihiqi")  # 3 fields; int2 level; int8 idx; hash length
_HASH_FIELD = struct.pack("!i", HASH_SIZE)


def _entries_copy(first: int, entries: Sequence[bytes], hashes: Sequence[bytes]) -> Iterator[bytes]:
    """The binary COPY stream in chunks of :data:`_COPY_CHUNK` rows, encoded lazily."""
    head = _ENTRY_HEAD.pack
    if len(entries) != len(hashes):
        raise StorageError("internal: entries and leaf hashes differ in number")
    if set(map(len, hashes)) - {HASH_SIZE}:  # one C-level pass; the row loop stays lean
        raise StorageError(f"every leaf hash must be {HASH_SIZE} bytes")
    parts = [_COPY_HEADER]
    n = len(entries)
    for lo in range(0, n, _COPY_CHUNK):
        hi = min(lo + _COPY_CHUNK, n)
        rows = zip(range(first + lo, first + hi), entries[lo:hi], hashes[lo:hi], strict=True)
        for i, data, leaf in rows:
            parts += (head(3, 8, i, len(data)), data, _HASH_FIELD, leaf)
        yield b"".join(parts)
        parts = []
    parts.append(_COPY_TRAILER)
    yield b"".join(parts)


def _nodes_copy(rows: Sequence[tuple[int, int, bytes]]) -> bytes:
    head = _NODE_HEAD.pack
    parts = [_COPY_HEADER]
    if {len(h) for _, _, h in rows} - {HASH_SIZE}:
        raise StorageError(f"every node hash must be {HASH_SIZE} bytes")
    for level, idx, h in rows:
        parts += (head(3, 2, level, 8, idx, HASH_SIZE), h)
    parts.append(_COPY_TRAILER)
    return b"".join(parts)
