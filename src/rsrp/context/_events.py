"""Server-side sliding-window counters over the decisions already recorded.

Each decision first *reserves* a row in ``decision_events`` in the same
transaction that counts the agent's earlier rows, so concurrent requests (threads
or processes, SQLite or PostgreSQL) each see every request reserved before them:
a burst cannot slip under a quota. The row is completed with the outcome once the
decision is in the ledger; a request that crashed half-way still counts as a
request (fail closed) but never as an account touched.

On SQLite (one writer at a time, across processes) the counts come from an
in-memory mirror of the table (rsrp.context._window), loaded from the database
at start-up and changed only inside this EventLog's own write transactions,
under one lock (a failed one drops it: it never counts an uncommitted row).
A one-row sequence (``decision_events_seq``) is bumped by triggers on every row
written to the table, by anyone (another process, a manual fix in the sqlite3
shell): a process that finds it moved by someone else between two of its own
transactions counts in SQL from then on. A dropped mirror is reloaded from the
database by the next transaction. On PostgreSQL (several replicas writing at
once) the counts are always SQL queries under a per-agent lock. The per-agent
index only SQL counting reads exists only while someone counts in SQL (see
``_AGENT_INDEX``): a mirroring SQLite process does not maintain it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rsrp.context._db import Database, Tx
from rsrp.context._model import Counters
from rsrp.context._window import DAY_US, GRANTED, HOUR_US, Windows

__all__ = ["EventLog", "Reservation"]

log = logging.getLogger("rsrp.context")

_HOUR_US, _DAY_US, _GRANTED = HOUR_US, DAY_US, GRANTED

_SCHEMA = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS decision_events ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL, at BIGINT NOT NULL,"
        " outcome SMALLINT, account TEXT, result_count INTEGER NOT NULL DEFAULT 0)",
    ),
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS decision_events ("
        " id BIGSERIAL PRIMARY KEY, agent_id TEXT NOT NULL, at BIGINT NOT NULL,"
        " outcome SMALLINT, account TEXT, result_count INTEGER NOT NULL DEFAULT 0)",
    ),
}
_SEQ = (
    "CREATE TABLE IF NOT EXISTS decision_events_seq"
    " (k INTEGER PRIMARY KEY CHECK (k = 1), seq BIGINT NOT NULL)",
    "INSERT INTO decision_events_seq (k, seq) VALUES (1, 0) ON CONFLICT (k) DO NOTHING",
    *(
        f"CREATE TRIGGER IF NOT EXISTS decision_events_seq_{op.lower()} AFTER {op}"  # noqa: S608 - fixed names
        " ON decision_events BEGIN"
        " UPDATE decision_events_seq SET seq = seq + 1 WHERE k = 1; END"
        for op in ("INSERT", "UPDATE", "DELETE")
    ),
)
_READ_SEQ = "SELECT seq FROM decision_events_seq WHERE k = 1"
#: The index the counting queries read an agent's last 24 hours through (the last
#: granted result sorts those few rows by id). Only SQL counting needs it, and it costs
#: one page per agent written by every batch; so a SQLite process counting from its
#: mirror drops it at start-up, and SQL counting (re)creates it first, in its own write
#: transaction (a one-off build when another writer shows up). PostgreSQL always has it.
_AGENT_INDEX = (
    "CREATE INDEX IF NOT EXISTS decision_events_agent_at ON decision_events (agent_id, at)"
)
_DROP_AGENT_INDEX = (
    "DROP INDEX IF EXISTS decision_events_agent_at",
    "DROP INDEX IF EXISTS decision_events_agent_id",  # an (agent_id, id) index once held here
)


def _micros(at: dt.datetime) -> int:
    return int((at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(microseconds=1))


def account_digest(account: str | None) -> str | None:
    """Accounts are stored as SHA-256 hex: the service never keeps registry identifiers."""
    if account is None:
        return None
    return hashlib.sha256(b"rsrp-account-v1\x00" + account.encode("utf-8")).hexdigest()


def _runs(
    rows: list[tuple[int, int, int]],
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int, int]]]:
    """Completions as single-row updates ``(outcome, count, id)`` and updates of runs
    ``(outcome, count, first id, last id)``: consecutive ids with the same values.

    A batch reserves consecutive ids and many of its decisions end alike (a flood of
    blocked requests), and one statement per run costs half as much per row as one per
    row. A run holds only ids listed here, so it touches exactly the rows named.
    """
    ordered = sorted(rows)
    if len({r[0] for r in ordered}) != len(ordered):  # the same id twice: keep the order
        return [(o, n, i) for i, o, n in rows], []
    singles: list[tuple[int, int, int]] = []
    runs: list[tuple[int, int, int, int]] = []
    k = 0
    while k < len(ordered):
        first, outcome, count = ordered[k]
        j = k + 1
        while j < len(ordered) and ordered[j] == (first + j - k, outcome, count):
            j += 1
        if j - k == 1:
            singles.append((outcome, count, first))
        else:
            runs.append((outcome, count, first, first + j - k - 1))
        k = j
    return singles, runs


@dataclass(frozen=True, slots=True)
class Reservation:
    event_id: int
    counters: Counters


class EventLog:
    """The ``decision_events`` table: reserve → counters, then complete."""

    def __init__(self, db: Database, *, mirror: bool = True) -> None:
        """``mirror=False`` always counts in SQL (the mirror is SQLite-only anyway)."""
        self.db = db
        self._lock = threading.Lock()
        self._windows: Windows | None = None
        #: The sequence value after this EventLog's last write (None: mirror to reload).
        self._seq: int | None = None
        #: SQLite: triggers make every row written bump decision_events_seq, so that a
        #: mirroring process sees any other writer.
        self._sequenced = db.dialect == "sqlite"
        self._mirrored = mirror and self._sequenced
        index = _DROP_AGENT_INDEX if self._mirrored else (_AGENT_INDEX, _DROP_AGENT_INDEX[1])
        with db.transaction(write=True) as tx:
            for stmt in (*_SCHEMA[db.dialect], *index, *(_SEQ if self._sequenced else ())):
                tx.execute(stmt)

    @property
    def mirrored(self) -> bool:
        """True while counts come from the in-memory mirror (SQLite, sole writer)."""
        return self._mirrored

    @contextmanager
    def _writing(self, *, durable: bool = False) -> Iterator[tuple[Tx, Windows | None]]:
        """A write transaction on decision_events, with the mirror if it is current
        (``durable``: see :meth:`Database.transaction`).

        The mirror is changed inside the block, under the lock; if the block or the
        commit fails it is dropped (reloaded from the committed rows next time), so no
        count ever includes a row that is not in the database.
        """
        if not self._sequenced:
            with self.db.transaction(write=True, durable=durable) as tx:
                yield tx, None
            return
        with self._lock:
            try:
                with self.db.transaction(write=True, durable=durable) as tx:
                    seq = int(tx.execute(_READ_SEQ)[0][0])
                    if self._mirrored and self._seq is not None and seq != self._seq:
                        log.warning(
                            "decision_events has another writer: counting in SQL from now on"
                        )
                        self._mirrored = False
                        self._windows = None
                    elif self._mirrored and (self._windows is None or self._seq is None):
                        self._windows = self._load(tx)
                    yield tx, self._windows if self._mirrored else None
                    seq = int(tx.execute(_READ_SEQ)[0][0])  # our own rows' bumps
                self._seq = seq
            except BaseException:
                self._windows, self._seq = None, None
                raise

    @staticmethod
    def _load(tx: Tx) -> Windows:
        windows = Windows()
        newest = tx.execute("SELECT MAX(at) FROM decision_events")[0][0]
        if newest is None:
            return windows
        rows = tx.execute(
            "SELECT id, agent_id, at, outcome, account, result_count FROM decision_events"
            " WHERE at > ? ORDER BY id",
            (int(newest) - _DAY_US - _HOUR_US,),
        )
        windows.high_water = int(newest)
        for event_id, agent_id, at, outcome, account, result_count in rows:
            windows.add(
                int(event_id),
                agent_id,
                int(at),
                account,
                None if outcome is None else int(outcome),
                int(result_count),
            )
        return windows

    def _insert(self, tx: Tx, agent_id: str, at_us: int, account: str | None) -> int:
        if tx.dialect == "postgresql":
            # Serialise one agent's reservations across replicas; other agents go in parallel.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (agent_id,))
            rows = tx.execute(
                "INSERT INTO decision_events (agent_id, at, account) VALUES (?, ?, ?) RETURNING id",
                (agent_id, at_us, account),
            )
            return int(rows[0][0])
        tx.execute(
            "INSERT INTO decision_events (agent_id, at, account) VALUES (?, ?, ?)",
            (agent_id, at_us, account),
        )
        return tx.lastrowid()

    @staticmethod
    def _count(tx: Tx, agent_id: str, event_id: int, at_us: int) -> Counters:
        """The counts before ``event_id`` in SQL (the caller ran :data:`_AGENT_INDEX`)."""
        rows = tx.execute(
            "SELECT COUNT(*),"
            " COALESCE(SUM(CASE WHEN at > ? THEN 1 ELSE 0 END), 0),"
            " COUNT(DISTINCT CASE WHEN at > ? AND outcome IN (?, ?) THEN account END)"
            " FROM decision_events WHERE agent_id = ? AND id < ? AND at > ?",
            (at_us - _HOUR_US, at_us - _HOUR_US, *_GRANTED, agent_id, event_id, at_us - _DAY_US),
        )
        n24, n1, accounts = rows[0]
        last = tx.execute(
            "SELECT result_count FROM decision_events"
            " WHERE agent_id = ? AND id < ? AND at > ? AND outcome IN (?, ?)"
            " ORDER BY id DESC LIMIT 1",
            (agent_id, event_id, at_us - _DAY_US, *_GRANTED),
        )
        return Counters(
            requests_1h=int(n1),
            requests_24h=int(n24),
            last_result_count=int(last[0][0]) if last else 0,
            distinct_accounts_1h=int(accounts),
        )

    def reserve(self, agent_id: str, at: dt.datetime, account: str | None) -> Reservation:
        """Record that ``agent_id`` asked at ``at``; return the counts before this request."""
        return self.reserve_many([(agent_id, at, account)])[0]

    def reserve_many(self, items: list[tuple[str, dt.datetime, str | None]]) -> list[Reservation]:
        """:meth:`reserve` for a batch in one transaction (each sees the ones before it).

        In SQL, counts are read once per (agent, time) and advanced in memory for that
        agent's later requests in the batch: those are reserved but not yet decided, so
        they add one request each to both windows and nothing else, exactly as one by one.
        """
        with self._writing() as (tx, windows):
            if windows is not None:
                return self._reserve_mirrored(tx, windows, items)
            return self._reserve_sql(tx, items)

    def _reserve_sql(
        self, tx: Tx, items: list[tuple[str, dt.datetime, str | None]]
    ) -> list[Reservation]:
        out: list[Reservation] = []
        # agent → (time, counts of its first request at that time, requests since)
        base: dict[str, tuple[int, Counters, int]] = {}
        if tx.dialect == "sqlite":  # a mirroring process on this file may have dropped it
            tx.execute(_AGENT_INDEX)
        else:
            # Every agent's lock up front, in one global order: two replicas with
            # overlapping batches never wait on each other in a cycle (deadlock).
            for agent_id in sorted({agent for agent, _, _ in items}):
                tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (agent_id,))
        for agent_id, at, account in items:
            at_us = _micros(at)
            event_id = self._insert(tx, agent_id, at_us, account_digest(account))
            prev = base.get(agent_id)
            if prev is None or prev[0] != at_us:
                # Counted afresh when the agent's previous request in the batch was at
                # another time (the windows move): SQL sees every row inserted so far.
                counters = self._count(tx, agent_id, event_id, at_us)
                base[agent_id] = (at_us, counters, 1)
            else:
                _, first, seen = prev
                counters = dataclasses.replace(
                    first,
                    requests_1h=first.requests_1h + seen,
                    requests_24h=first.requests_24h + seen,
                )
                base[agent_id] = (at_us, first, seen + 1)
            out.append(Reservation(event_id, counters))
        return out

    def _reserve_mirrored(
        self, tx: Tx, windows: Windows, items: list[tuple[str, dt.datetime, str | None]]
    ) -> list[Reservation]:
        # Sole writer, inside the write transaction: the next ids are ours to take.
        # AUTOINCREMENT never reuses an id, so start past both the table and its sequence.
        top = tx.execute(
            "SELECT MAX(n) FROM (SELECT MAX(id) AS n FROM decision_events UNION ALL"
            " SELECT seq FROM sqlite_sequence WHERE name = 'decision_events')"
        )[0][0]
        first = int(top or 0) + 1
        micros = {at: _micros(at) for at in {at for _, at, _ in items}}  # a batch: one time
        rows = [
            (first + k, agent_id, micros[at], account_digest(account))
            for k, (agent_id, at, account) in enumerate(items)
        ]
        tx.insert_rows(
            "INSERT INTO decision_events (id, agent_id, at, account)", "(?, ?, ?, ?)", rows
        )
        out: list[Reservation] = []
        for event_id, agent_id, at_us, digest in rows:
            if windows.covers(at_us):
                counters = windows.counters(agent_id, at_us)
            else:  # the clock stepped back over an hour: the rows it needs are in SQL only
                tx.execute(_AGENT_INDEX)
                counters = self._count(tx, agent_id, event_id, at_us)
            windows.add(event_id, agent_id, at_us, digest)
            out.append(Reservation(event_id, counters))
        return out

    def complete_many(
        self, rows: list[tuple[int, int, int]], *, also: Callable[[Tx], None] | None = None
    ) -> None:
        """(event id, outcome, result count) for a batch, in one durable transaction.

        ``also`` runs in the same transaction first (the service records its decisions
        there, so counters and decision rows commit together). Durable because the
        caller acknowledges these decisions next: on SQLite a NORMAL commit made after
        the ledger's last FULL commit would not survive an OS crash (docs/service.md).
        """
        with self._writing(durable=True) as (tx, windows):
            if also is not None:
                also(tx)
            singles, runs = _runs(rows)
            tx.executemany(
                "UPDATE decision_events SET outcome = ?, result_count = ? WHERE id = ?", singles
            )
            tx.executemany(
                "UPDATE decision_events SET outcome = ?, result_count = ? WHERE id BETWEEN ? AND ?",
                runs,
            )
            if windows is not None:
                for event_id, outcome, result_count in rows:
                    if not windows.complete(event_id, outcome, result_count):
                        # Not a row this mirror holds as pending (completed twice, or
                        # reserved before the mirror loaded): reload from the database.
                        self._windows = None

    def complete(self, event_id: int, outcome: int, result_count: int) -> None:
        self.complete_many([(event_id, outcome, result_count)])

    def prune(self, before: dt.datetime) -> int:
        """Delete events older than ``before`` (they no longer fall in any window)."""
        with self._writing() as (tx, _):
            rows = tx.execute(
                "SELECT COUNT(*) FROM decision_events WHERE at < ?", (_micros(before),)
            )
            tx.execute("DELETE FROM decision_events WHERE at < ?", (_micros(before),))
            # A mirror may still count rows the prune deleted (when ``before`` is
            # recent): reload it rather than reason about which.
            self._windows = None
        return int(rows[0][0])
