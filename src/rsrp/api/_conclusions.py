"""Approvals being concluded: the claim, the sealed entry, and the final status.

``svc_conclusions`` holds one row per approval between its claim (PENDING →
RESOLVING) and its final status: who concludes it and how, the concluding decision's
request id (fixed at claim time), the owning process, and, once sealed, the exact
envelope bytes and the ledger size before their append. Whatever a crash interrupts,
that row says what the ledger can hold: nothing (not sealed), or exactly that
envelope at an index at or past ``log_from`` (rsrp.api._approvals recovers both).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rsrp.api._owners import OwnerLostError
from rsrp.api._store import DecisionRow, ServiceStore, _dt, _us, request_ids
from rsrp.context import Database

__all__ = ["ConclusionStore", "InFlight"]

_BLOB = {"sqlite": "BLOB", "postgresql": "BYTEA"}


# A supervisor claims only before the deadline, the expiry only after it: never both.
_CLAIM = {
    False: "UPDATE svc_approvals SET status = 'RESOLVING', resolved_by = ?, resolution_id = ?"
    " WHERE decision_id = ? AND status = 'PENDING' AND expires_at > ? RETURNING decision_id",
    True: "UPDATE svc_approvals SET status = 'RESOLVING', resolved_by = ?, resolution_id = ?"
    " WHERE decision_id = ? AND status = 'PENDING' AND expires_at <= ? RETURNING decision_id",
}


@dataclass(frozen=True, slots=True)
class InFlight:
    """A claimed approval whose final status is not recorded yet."""

    decision_id: str
    resolution_id: str
    owner: str
    actor: str
    #: The final status it will get: APPROVED, REJECTED or EXPIRED.
    status: str
    reason: str
    #: The concluding decision's evaluation time (the claim's time).
    at: dt.datetime
    claimed_at: dt.datetime
    #: The sealed envelope (None: never appended, the ledger cannot hold it).
    envelope: bytes | None
    #: The ledger size read before the append: the entry, if logged, is at or past it.
    log_from: int | None


class ConclusionStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction(write=True) as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS svc_conclusions (decision_id TEXT PRIMARY KEY,"
                " resolution_id TEXT NOT NULL, owner TEXT NOT NULL, actor TEXT NOT NULL,"
                " status TEXT NOT NULL, reason TEXT NOT NULL, at BIGINT NOT NULL,"
                f" claimed_at BIGINT NOT NULL, envelope {_BLOB[db.dialect]}, log_from BIGINT)"
            )

    def claim(
        self,
        decision_id: str,
        how: tuple[str, str, str],
        now: dt.datetime,
        owner: str,
        *,
        expired: bool = False,
    ) -> str | None:
        """PENDING → RESOLVING for ``how`` = (actor, final status, reason), atomically.

        Returns the concluding decision's request id, recorded with the claim, or None
        if another actor claimed it first. One conditional UPDATE with RETURNING: two
        replicas on PostgreSQL (READ COMMITTED re-checks the WHERE clause after the row
        lock) or SQLite cannot both claim the row.
        """
        actor, status, reason = how
        resolution_id = request_ids(1)[0]
        with self.db.transaction(write=True) as tx:
            won = tx.execute(_CLAIM[expired], (actor, resolution_id, decision_id, _us(now)))
            if not won:
                return None
            tx.execute("DELETE FROM svc_conclusions WHERE decision_id = ?", (decision_id,))
            tx.execute(
                "INSERT INTO svc_conclusions (decision_id, resolution_id, owner, actor, status,"
                " reason, at, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (decision_id, resolution_id, owner, actor, status, reason, _us(now), _us(now)),
            )
        return resolution_id

    def sealed(self, decision_id: str, owner: str, envelope: bytes, log_from: int) -> None:
        """Record the envelope about to be appended; it must commit before the append."""
        with self.db.transaction(write=True) as tx:
            mine = tx.execute(
                "UPDATE svc_conclusions SET envelope = ?, log_from = ?"
                " WHERE decision_id = ? AND owner = ? RETURNING decision_id",
                (envelope, log_from, decision_id, owner),
            )
        if not mine:
            raise OwnerLostError(f"approval {decision_id!r} was taken over by another process")

    def release(self, decision_id: str, owner: str) -> None:
        """RESOLVING → PENDING after a conclusion that was not logged."""
        with self.db.transaction(write=True) as tx:
            mine = tx.execute(
                "DELETE FROM svc_conclusions WHERE decision_id = ? AND owner = ?"
                " RETURNING decision_id",
                (decision_id, owner),
            )
            if mine:
                tx.execute(
                    "UPDATE svc_approvals SET status = 'PENDING', resolved_by = NULL,"
                    " resolution_id = NULL WHERE decision_id = ? AND status = 'RESOLVING'",
                    (decision_id,),
                )

    def finish(self, decision_id: str, owner: str, resolution: DecisionRow) -> None:
        """Record the logged conclusion and the final status: one durable transaction.

        Durable (SQLite ``synchronous=FULL`` for this commit): it comes after the ledger's
        own fsync, so nothing else would flush it before the supervisor's answer is sent.
        """
        with self.db.transaction(write=True, durable=True) as tx:
            mine = tx.execute(
                "DELETE FROM svc_conclusions WHERE decision_id = ? AND owner = ?"
                " RETURNING status, reason",
                (decision_id, owner),
            )
            if not mine:  # rolls back: the process that took it over records it
                raise OwnerLostError(f"approval {decision_id!r} was taken over by another process")
            ServiceStore._put_decision(tx, resolution)
            tx.execute(
                "UPDATE svc_approvals SET status = ?, reason = ?"
                " WHERE decision_id = ? AND status = 'RESOLVING'",
                (mine[0][0], mine[0][1], decision_id),
            )

    def in_flight(self, limit: int = 100) -> list[InFlight]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT decision_id, resolution_id, owner, actor, status, reason, at, claimed_at,"
                " envelope, log_from FROM svc_conclusions ORDER BY claimed_at LIMIT ?",
                (limit,),
            )
        return [
            InFlight(
                r[0], r[1], r[2], r[3], r[4], r[5], _dt(r[6]), _dt(r[7]),
                None if r[8] is None else bytes(r[8]), None if r[9] is None else int(r[9]),
            )
            for r in rows
        ]  # fmt: skip

    def take_over(self, decision_id: str, dead: str, owner: str, now: dt.datetime) -> bool:
        """Make ``owner`` the owner of a dead owner's conclusion; False if another did first."""
        with self.db.transaction(write=True) as tx:
            return bool(
                tx.execute(
                    "UPDATE svc_conclusions SET owner = ?, claimed_at = ?"
                    " WHERE decision_id = ? AND owner = ? RETURNING decision_id",
                    (owner, _us(now), decision_id, dead),
                )
            )
