"""Server-side sliding-window counters over the decisions already recorded.

Each decision first *reserves* a row in ``decision_events`` in the same
transaction that counts the agent's earlier rows, so concurrent requests (threads
or processes, SQLite or PostgreSQL) each see every request reserved before them:
a burst cannot slip under a quota. The row is completed with the outcome once the
decision is in the ledger; a request that crashed half-way still counts as a
request (fail closed) but never as an account touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass

from rsrp.context._db import Database, Tx
from rsrp.context._model import Counters

__all__ = ["EventLog", "Reservation"]

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
#: Outcomes that let data through (V1 codes ALLOW=1, WARN=3) count as accounts touched.
_GRANTED = (1, 3)

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
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS decision_events_agent_at ON decision_events (agent_id, at)",
    "CREATE INDEX IF NOT EXISTS decision_events_agent_id ON decision_events (agent_id, id)",
)


def _micros(at: dt.datetime) -> int:
    return int((at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(microseconds=1))


def account_digest(account: str | None) -> str | None:
    """Accounts are stored as SHA-256 hex: the service never keeps registry identifiers."""
    if account is None:
        return None
    return hashlib.sha256(b"rsrp-account-v1\x00" + account.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Reservation:
    event_id: int
    counters: Counters


class EventLog:
    """The ``decision_events`` table: reserve → counters, then complete."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction(write=True) as tx:
            for stmt in (*_SCHEMA[db.dialect], *_INDEXES):
                tx.execute(stmt)

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
        at_us = _micros(at)
        with self.db.transaction(write=True) as tx:
            event_id = self._insert(tx, agent_id, at_us, account_digest(account))
            counters = self._count(tx, agent_id, event_id, at_us)
        return Reservation(event_id, counters)

    def reserve_many(self, items: list[tuple[str, dt.datetime, str | None]]) -> list[Reservation]:
        """:meth:`reserve` for a batch in one transaction (each sees the ones before it).

        Counts are read once per (agent, time) and advanced in memory for that agent's
        later requests in the batch: those are reserved but not yet decided, so they
        add one request each to both windows and nothing else, exactly as one by one.
        """
        out: list[Reservation] = []
        base: dict[tuple[str, int], tuple[Counters, int]] = {}
        with self.db.transaction(write=True) as tx:
            if tx.dialect == "postgresql":
                # Every agent's lock up front, in one global order: two replicas with
                # overlapping batches never wait on each other in a cycle (deadlock).
                for agent_id in sorted({agent for agent, _, _ in items}):
                    tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (agent_id,))
            for agent_id, at, account in items:
                at_us = _micros(at)
                event_id = self._insert(tx, agent_id, at_us, account_digest(account))
                key = (agent_id, at_us)
                if key not in base:
                    counters = self._count(tx, agent_id, event_id, at_us)
                    base[key] = (counters, 1)
                else:
                    first, seen = base[key]
                    counters = dataclasses.replace(
                        first,
                        requests_1h=first.requests_1h + seen,
                        requests_24h=first.requests_24h + seen,
                    )
                    base[key] = (first, seen + 1)
                out.append(Reservation(event_id, counters))
        return out

    def complete_many(self, rows: list[tuple[int, int, int]]) -> None:
        """(event id, outcome, result count) for a batch, in one transaction."""
        with self.db.transaction(write=True) as tx:
            for event_id, outcome, result_count in rows:
                tx.execute(
                    "UPDATE decision_events SET outcome = ?, result_count = ? WHERE id = ?",
                    (outcome, result_count, event_id),
                )

    def complete(self, event_id: int, outcome: int, result_count: int) -> None:
        with self.db.transaction(write=True) as tx:
            tx.execute(
                "UPDATE decision_events SET outcome = ?, result_count = ? WHERE id = ?",
                (outcome, result_count, event_id),
            )

    def prune(self, before: dt.datetime) -> int:
        """Delete events older than ``before`` (they no longer fall in any window)."""
        with self.db.transaction(write=True) as tx:
            rows = tx.execute(
                "SELECT COUNT(*) FROM decision_events WHERE at < ?", (_micros(before),)
            )
            tx.execute("DELETE FROM decision_events WHERE at < ?", (_micros(before),))
        return int(rows[0][0])
