"""One small database handle shared by the context tables (SQLite or PostgreSQL).

The URL is the ledger's: ``sqlite:///path/to.db`` (or a bare path) or
``postgresql://...``.  SQL is written with ``?`` placeholders and translated for
psycopg.  Connections are per thread; every unit of work is one transaction.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

import psycopg

from rsrp.context._errors import ContextStoreError

__all__ = ["Database", "Tx", "sqlite_path"]

Param = str | int | bytes | None


#: Rows per multi-row INSERT (10 columns: 640 parameters, under every SQLite's limit).
_CHUNK = 64


@functools.cache
def _multi(head: str, values: str, size: int) -> str:
    return f"{head} VALUES {', '.join([values] * size)}"


class Tx:
    """A transaction: ``execute`` returns all rows (our queries return few)."""

    def __init__(self, cursor: Any, dialect: Literal["sqlite", "postgresql"]) -> None:
        self._cur = cursor
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Param] = ()) -> list[tuple[Any, ...]]:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self._cur.execute(sql, tuple(params))
        if self._cur.description is None:
            return []
        return list(self._cur.fetchall())

    def executemany(self, sql: str, rows: Sequence[Sequence[Param]]) -> None:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        if rows:
            self._cur.executemany(sql, [tuple(r) for r in rows])

    def insert_rows(self, head: str, values: str, rows: Sequence[Sequence[Param]]) -> None:
        """``head VALUES values, values, ...`` for every row: ``executemany`` with one
        statement per row costs about twice as much per row (SQLite and psycopg alike).

        Statements hold a power of two of rows, at most :data:`_CHUNK`: a few fixed
        shapes the connection's statement cache keeps, and few parameters each.
        """
        k = 0
        while k < len(rows):
            size = min(_CHUNK, 1 << ((len(rows) - k).bit_length() - 1))
            sql = _multi(head, values, size)
            self.execute(sql, [p for row in rows[k : k + size] for p in row])
            k += size

    def lastrowid(self) -> int:
        return int(self._cur.lastrowid)


class Database:
    """Thread-local connections to one SQLite file or PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect: Literal["sqlite", "postgresql"] = "postgresql"
            self.path: Path | None = None
        else:
            self.dialect = "sqlite"
            self.path = sqlite_path(url)
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        #: SQLite has one writer per file: every writer of this process (the ledger's
        #: commits included, see rsrp.api) takes this lock, so threads queue here instead
        #: of in SQLite's busy handler, whose sleeps (1 to 100 ms) ruin tail latency.
        self.write_lock = threading.Lock()

    def _connect(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            if self.dialect == "sqlite":
                assert self.path is not None
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=30.0
                )
                conn.execute("PRAGMA journal_mode=WAL")
                # Counters tolerate losing the last moments on an OS crash (never an
                # application crash): WAL + NORMAL. The ledger keeps its own FULL connection.
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=30000")
            else:
                conn = psycopg.connect(self.url, autocommit=True)
        except (sqlite3.Error, psycopg.Error, OSError) as e:
            raise ContextStoreError(f"cannot open the context database: {type(e).__name__}") from e
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, write: bool = False, durable: bool = False) -> Iterator[Tx]:
        """One transaction; ``write`` takes SQLite's write lock up front (no upgrade deadlock).

        ``durable``: on SQLite this commit fsyncs the WAL (``synchronous=FULL``, as the
        ledger's do) before returning; PostgreSQL commits are flushed anyway.
        """
        conn = self._connect()
        sync = ("FULL", "NORMAL") if durable else None
        try:
            if self.dialect == "sqlite":
                with self.write_lock if write else contextlib.nullcontext():
                    cur = conn.cursor()
                    if sync:  # per connection, outside a transaction; NORMAL again below
                        cur.execute(f"PRAGMA synchronous={sync[0]}")
                    cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                    try:
                        yield Tx(cur, "sqlite")
                    except BaseException:
                        cur.execute("ROLLBACK")
                        if sync:
                            cur.execute(f"PRAGMA synchronous={sync[1]}")
                        raise
                    cur.execute("COMMIT")
                    if sync:
                        cur.execute(f"PRAGMA synchronous={sync[1]}")
            else:
                with conn.transaction(), conn.cursor() as cur:
                    yield Tx(cur, "postgresql")
        except (sqlite3.Error, psycopg.Error) as e:
            self._local.conn = None
            raise ContextStoreError(f"context database error: {type(e).__name__}: {e}") from e

    def ping(self) -> None:
        """Raise ContextStoreError unless a trivial query succeeds."""
        with self.transaction() as tx:
            tx.execute("SELECT 1")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(sqlite3.Error, psycopg.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()


def sqlite_path(url: str) -> Path:
    # The ledger's spelling (rsrp.ledger.open_backend): sqlite:///abs/path, sqlite:rel/path,
    # or a bare path; the same URL therefore names the same file for both.
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite://"))
    if url.startswith("sqlite:"):
        return Path(url.removeprefix("sqlite:"))
    return Path(url)
