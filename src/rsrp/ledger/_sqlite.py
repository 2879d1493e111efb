"""The SQLite back-end: the embedded default (WAL, ``synchronous=FULL``, busy timeout).

Every writer, in any process, starts with ``BEGIN IMMEDIATE``, which takes SQLite's single
write lock before the tree size is read: that lock is the sequencer. With WAL and
``synchronous=FULL`` a commit is on disk (fsync of the WAL) before ``append`` returns.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from rsrp.ledger._errors import StorageError
from rsrp.ledger._sqlbase import SqlBackend
from rsrp.ledger.rfc6962 import EMPTY_ROOT

__all__ = ["SQLiteBackend"]

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS tree_head (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " size INTEGER NOT NULL, root BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL,"
    " leaf_hash BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL,"
    " note BLOB NOT NULL, created_at TEXT NOT NULL, timestamp_token BLOB, cosignatures BLOB)",
]

# For audits (see ._packed): group_concat concatenates blobs byte for byte in a UTF-8
# database, in the order the rows are visited (the rowid range scan visits them in index
# order). Nothing relies on that order unchecked: the index offsets packed alongside prove it
# (a sorted subquery would also keep it, at half again the cost), the lengths prove the
# framing, and the last column flags any entry or leaf hash that is not a blob (SQLite orders
# every other type below blobs) or a leaf hash that is not 32 bytes. Decimal text is the
# cheapest encoding SQLite has for the integer columns.
_PACKED_ENTRIES = """
SELECT group_concat(idx - ?, ','),
       group_concat(length(data) + 1, ','),
       CAST(group_concat(X'00' || data, '') AS BLOB),
       CAST(group_concat(leaf_hash, '') AS BLOB),
       max(data < X'' OR leaf_hash < X'' OR length(leaf_hash) <> 32)
FROM entries WHERE idx >= ? AND idx < ?
"""
_PACKED_NODES = """
SELECT group_concat(idx - ?, ','), CAST(group_concat(hash, '') AS BLOB),
       max(hash < X'' OR length(hash) <> 32)
FROM nodes WHERE level = ? AND idx >= ? AND idx < ?
"""


class SQLiteBackend(SqlBackend):
    """A ledger in one SQLite file; safe for several threads and several processes."""

    DB_ERRORS = (sqlite3.Error,)
    PACKED_ENTRIES, PACKED_NODES = _PACKED_ENTRIES, _PACKED_NODES

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self._timeout = busy_timeout_s
        super().__init__(f"sqlite:///{self.path.resolve()}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._timeout,
            isolation_level=None,  # we issue BEGIN IMMEDIATE ourselves
            check_same_thread=False,  # access is serialised by the back-end's locks
        )
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            conn.close()
            raise StorageError(f"SQLite refused WAL mode for {self.path}: {mode}")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: batch inserts touch many pages
        # Checkpoint the WAL into the database every ~40 MiB instead of every 4 MiB: fewer,
        # larger copies on the append path. Durability is the WAL's fsync at each commit.
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
        return conn

    def _create_schema(self) -> None:
        def body(cur: Any) -> None:
            for stmt in _SCHEMA:
                cur.execute(stmt)
            cur.execute(
                "INSERT OR IGNORE INTO tree_head (id, size, root) VALUES (1, 0, ?)", (EMPTY_ROOT,)
            )

        self._transact(body)

    def _begin(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def _ts_in(self, value: dt.datetime) -> Any:
        return value.astimezone(dt.UTC).isoformat()

    def _ts_out(self, value: Any) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)
        except ValueError as e:
            raise StorageError(f"bad created_at value in checkpoints: {value!r}") from e
