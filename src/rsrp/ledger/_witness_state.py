"""A witness's durable state in SQLite: the latest cosigned checkpoint per origin, and incidents.

c2sp.org/tlog-witness §add-checkpoint: checking the old size and persisting the new
checkpoint "must be performed atomically". :meth:`WitnessState.advance` does both
inside one ``BEGIN IMMEDIATE`` transaction (a write lock across processes), with
``synchronous=FULL`` so a returned cosignature is never forgotten after a crash.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rsrp.ledger._errors import StorageError

__all__ = ["Incident", "WitnessRecord", "WitnessState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_logs (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_unix INTEGER NOT NULL,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    request BLOB NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class WitnessRecord:
    """The latest checkpoint this witness cosigned for one origin (note with its cosignatures)."""

    origin: str
    size: int
    root: bytes
    note: bytes


@dataclass(frozen=True, slots=True)
class Incident:
    """Evidence of log misbehaviour: a validly signed but inconsistent checkpoint."""

    at_unix: int
    origin: str
    kind: str
    detail: str
    request: bytes


class WitnessState:
    """SQLite-backed state; safe across threads (one lock) and processes (SQLite locks)."""

    def __init__(self, path: Path | str, clock: Callable[[], int] | None = None) -> None:
        self.path = str(path)
        self._clock = clock or (lambda: int(time.time()))
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise StorageError(f"cannot open witness state {self.path}: {e}") from e

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                raise StorageError(f"witness state {self.path}: {e}") from e

    def get(self, origin: str) -> WitnessRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, root, note FROM witness_logs WHERE origin = ?", (origin,)
            ).fetchone()
        return (
            None
            if row is None
            else WitnessRecord(origin, int(row[0]), bytes(row[1]), bytes(row[2]))
        )

    @contextmanager
    def advance(self, origin: str) -> Iterator[tuple[WitnessRecord | None, list[WitnessRecord]]]:
        """Hold the write lock; yield the current record and a list to put the new one in.

        The caller checks the request against the current record and, to accept it,
        appends the new record; it is written when the block exits without error.
        """
        with self._tx() as db:
            row = db.execute(
                "SELECT size, root, note FROM witness_logs WHERE origin = ?", (origin,)
            ).fetchone()
            current = (
                None
                if row is None
                else WitnessRecord(origin, int(row[0]), bytes(row[1]), bytes(row[2]))
            )
            out: list[WitnessRecord] = []
            yield current, out
            for rec in out[-1:]:
                db.execute(
                    "INSERT INTO witness_logs (origin, size, root, note) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(origin) DO UPDATE SET size=excluded.size, root=excluded.root, "
                    "note=excluded.note",
                    (rec.origin, rec.size, rec.root, rec.note),
                )

    def record_incident(self, origin: str, kind: str, detail: str, request: bytes) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO witness_incidents (at_unix, origin, kind, detail, request) "
                "VALUES (?, ?, ?, ?, ?)",
                (self._clock(), origin, kind, detail, request),
            )

    def incidents(self, origin: str | None = None) -> list[Incident]:
        q = "SELECT at_unix, origin, kind, detail, request FROM witness_incidents"
        args: tuple[str, ...] = ()
        if origin is not None:
            q, args = q + " WHERE origin = ?", (origin,)
        with self._lock:
            rows = self._db.execute(q + " ORDER BY id", args).fetchall()
        return [Incident(int(r[0]), r[1], r[2], r[3], bytes(r[4])) for r in rows]
