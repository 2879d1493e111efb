"""The PostgreSQL back-end (psycopg 3): several processes and hosts share one log.

The sequencer is the single tree-head row: every append transaction starts with
``SELECT size FROM tree_head WHERE id = 1 FOR UPDATE``, so appenders queue on that row lock and
each sees the size its predecessor committed. Bulk rows go in with binary ``COPY``. With the
server's default ``synchronous_commit = on`` a commit is flushed before ``append`` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from rsrp.ledger._sqlbase import SqlBackend
from rsrp.ledger.rfc6962 import EMPTY_ROOT

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
# Any constant: serialises concurrent first-time schema creation from several processes.
_SCHEMA_LOCK = 0x72737270


class PostgresBackend(SqlBackend):
    """A ledger in a PostgreSQL database given by a ``postgresql://`` URL."""

    LOCK_HEAD = "SELECT size FROM tree_head WHERE id = 1 FOR UPDATE"
    PLACEHOLDER = "%s"
    DB_ERRORS = (psycopg.Error,)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=False, connect_timeout=30)

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
        return psycopg.connect(self.url, autocommit=True, connect_timeout=30)

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

    def _put_entries(
        self, cur: Any, first: int, entries: Sequence[bytes], hashes: Sequence[bytes]
    ) -> None:
        with cur.copy("COPY entries (idx, data, leaf_hash) FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "bytea", "bytea"])
            for row in zip(range(first, first + len(entries)), entries, hashes, strict=True):
                cp.write_row(row)

    def _put_nodes(self, cur: Any, rows: list[tuple[int, int, bytes]]) -> None:
        with cur.copy("COPY nodes (level, idx, hash) FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["int2", "int8", "bytea"])
            for row in rows:
                cp.write_row(row)
