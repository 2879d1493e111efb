"""The service's own tables: decisions (id → ledger index), approvals, incidents."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass

from rsrp.context import Database, EventLog
from rsrp.context._db import Tx

__all__ = ["ApprovalRow", "DecisionRow", "IncidentRow", "ServiceStore", "request_ids"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _us(at: dt.datetime) -> int:
    return int((at - _EPOCH) / dt.timedelta(microseconds=1))


def _dt(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def request_ids(n: int) -> list[str]:
    """``n`` fresh request ids: UUIDv7 (RFC 9562 section 5.7), 74 random bits each.

    Time-ordered on purpose: ``svc_decisions`` is keyed by request id, and ids that
    grow with time are inserted at the right edge of its index (a few pages per
    batch) where random UUIDv4s would each dirty a page of their own.
    """
    ms = time.time_ns() // 1_000_000
    head = f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7"
    rnd = os.urandom(10 * n).hex()
    out = []
    for k in range(0, 20 * n, 20):
        h = rnd[k : k + 20]
        # rand_a (12 bits), then the variant (0b10) over 2 random bits, then rand_b.
        out.append(f"{head}{h[:3]}-{_VARIANT[int(h[3], 16) & 3]}{h[4:7]}-{h[7:19]}")
    return out


_VARIANT = "89ab"

_SERIAL = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGSERIAL PRIMARY KEY"}


def _schema(dialect: str) -> tuple[str, ...]:
    return (
        "CREATE TABLE IF NOT EXISTS svc_decisions (request_id TEXT PRIMARY KEY,"
        " ledger_index BIGINT NOT NULL, agent_id TEXT NOT NULL, mission_id TEXT,"
        " outcome SMALLINT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,"
        " at BIGINT NOT NULL, kind TEXT NOT NULL, parent TEXT)",
        "CREATE INDEX IF NOT EXISTS svc_decisions_index ON svc_decisions (ledger_index)",
        "CREATE TABLE IF NOT EXISTS svc_approvals (decision_id TEXT PRIMARY KEY,"
        " agent_id TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,"
        " status TEXT NOT NULL, resolved_by TEXT, resolution_id TEXT, reason TEXT)",
        "CREATE INDEX IF NOT EXISTS svc_approvals_status ON svc_approvals (status, expires_at)",
        f"CREATE TABLE IF NOT EXISTS svc_incidents (id {_SERIAL[dialect]}, at BIGINT NOT NULL,"
        " request_id TEXT NOT NULL, principal TEXT NOT NULL, stage TEXT NOT NULL,"
        " code TEXT NOT NULL, detail TEXT NOT NULL)",
    )


@dataclass(frozen=True, slots=True)
class DecisionRow:
    request_id: str
    ledger_index: int
    agent_id: str
    mission_id: str | None
    outcome: int
    code: str
    message: str
    at: dt.datetime
    kind: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    decision_id: str
    agent_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    status: str
    resolved_by: str | None
    resolution_id: str | None


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    at: dt.datetime
    request_id: str
    principal: str
    stage: str
    code: str
    detail: str


class ServiceStore:
    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        #: decision_events belongs to rsrp.context: its rows change only through it.
        self.events = events
        with db.transaction(write=True) as tx:
            for stmt in _schema(db.dialect):
                tx.execute(stmt)

    @staticmethod
    def _put_decision(tx: Tx, row: DecisionRow) -> None:
        tx.execute(
            "INSERT INTO svc_decisions (request_id, ledger_index, agent_id, mission_id, outcome,"
            " code, message, at, kind, parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.request_id, row.ledger_index, row.agent_id, row.mission_id, row.outcome,
                row.code, row.message, _us(row.at), row.kind, row.parent,
            ),
        )  # fmt: skip

    def record(
        self,
        row: DecisionRow,
        approval_expires: dt.datetime | None = None,
        event: tuple[int, int, int] | None = None,
    ) -> None:
        """Store a logged decision, open its approval, complete its counter event
        ``(event id, outcome, result count)``: one transaction."""
        self.record_many([(row, approval_expires, event)])

    def record_many(
        self, rows: list[tuple[DecisionRow, dt.datetime | None, tuple[int, int, int] | None]]
    ) -> None:
        # A batch shares one time (and one approval deadline): convert each once.
        times = {r.at for r, _, _ in rows} | {e for _, e, _ in rows if e is not None}
        micros = {at: _us(at) for at in times}
        us = micros.__getitem__
        decisions = [
            (
                r.request_id, r.ledger_index, r.agent_id, r.mission_id, r.outcome, r.code,
                r.message, us(r.at), r.kind, r.parent,
            )
            for r, _, _ in rows
        ]  # fmt: skip
        approvals = [
            (r.request_id, r.agent_id, us(r.at), us(expires))
            for r, expires, _ in rows
            if expires is not None
        ]
        # decision_events belongs to rsrp.context: same database, same commit.
        events = [e for _, _, e in rows if e is not None]

        def insert(tx: Tx) -> None:
            tx.insert_rows(
                "INSERT INTO svc_decisions (request_id, ledger_index, agent_id, mission_id,"
                " outcome, code, message, at, kind, parent)",
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                decisions,
            )
            tx.insert_rows(
                "INSERT INTO svc_approvals (decision_id, agent_id, created_at, expires_at, status)",
                "(?, ?, ?, ?, 'PENDING')",
                approvals,
            )

        self.events.complete_many(events, also=insert)

    def decision(self, request_id: str) -> DecisionRow | None:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT request_id, ledger_index, agent_id, mission_id, outcome, code, message,"
                " at, kind, parent FROM svc_decisions WHERE request_id = ?",
                (request_id,),
            )
        if not rows:
            return None
        r = rows[0]
        return DecisionRow(
            r[0], int(r[1]), r[2], r[3], int(r[4]), r[5], r[6], _dt(r[7]), r[8], r[9]
        )

    def count_decisions(self) -> int:
        with self.db.transaction() as tx:
            return int(tx.execute("SELECT COUNT(*) FROM svc_decisions")[0][0])

    def due_approvals(self, now: dt.datetime, limit: int = 100) -> list[str]:
        """Ids of PENDING approvals whose deadline has passed (not yet logged as expired)."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT decision_id FROM svc_approvals WHERE status = 'PENDING'"
                " AND expires_at <= ? ORDER BY expires_at LIMIT ?",
                (_us(now), limit),
            )
        return [r[0] for r in rows]

    def approvals(self, status: str | None, limit: int) -> list[ApprovalRow]:
        sql = (
            "SELECT decision_id, agent_id, created_at, expires_at, status, resolved_by,"
            " resolution_id FROM svc_approvals"
        )
        params: tuple[str | int, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            params = (status,)
        with self.db.transaction() as tx:
            rows = tx.execute(sql + " ORDER BY created_at LIMIT ?", (*params, limit))
        return [ApprovalRow(r[0], r[1], _dt(r[2]), _dt(r[3]), r[4], r[5], r[6]) for r in rows]

    def approval(self, decision_id: str) -> ApprovalRow | None:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT decision_id, agent_id, created_at, expires_at, status, resolved_by,"
                " resolution_id FROM svc_approvals WHERE decision_id = ?",
                (decision_id,),
            )
        if not rows:
            return None
        r = rows[0]
        return ApprovalRow(r[0], r[1], _dt(r[2]), _dt(r[3]), r[4], r[5], r[6])

    def add_incident(
        self, at: dt.datetime, request_id: str, principal: str, stage: str, code: str, detail: str
    ) -> None:
        with self.db.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO svc_incidents (at, request_id, principal, stage, code, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (_us(at), request_id, principal[:256], stage, code, detail[:1000]),
            )

    def incidents(self, since_id: int, limit: int) -> list[IncidentRow]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT id, at, request_id, principal, stage, code, detail FROM svc_incidents"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (since_id, limit),
            )
        return [IncidentRow(int(r[0]), _dt(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]
