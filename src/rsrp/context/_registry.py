"""Agents, organisations and missions kept in the database, managed by the admin role."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

from rsrp.context._db import Database, Tx
from rsrp.context._errors import ContextDataError, UnknownAgentError
from rsrp.context._load import (
    ContextData,
    agent_from_value,
    agent_to_value,
    mission_from_value,
    mission_to_value,
    organisation_from_value,
    organisation_to_value,
)
from rsrp.context._model import Agent, Mission, Organisation

__all__ = ["Registry"]

_T = TypeVar("_T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ctx_organisations (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ctx_agents (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ctx_missions"
    " (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ctx_missions_agent ON ctx_missions (agent_id)",
)


def _decode(
    rows: list[tuple[object, ...]], parse: Callable[[object, str], _T], what: str
) -> list[_T]:
    out: list[_T] = []
    for row in rows:
        body = row[0]
        if not isinstance(body, str):
            raise ContextDataError(f"stored {what} is not text")
        out.append(parse(json.loads(body), f"stored {what}"))
    return out


class Registry:
    """The operator's agents, organisations and missions (tables ``ctx_*``).

    Reads are cached for ``cache_ttl_s`` (default 1 s): a change made here is seen at
    once (the cache is cleared), a change made by another replica within the TTL.
    """

    def __init__(self, db: Database, *, cache_ttl_s: float = 1.0) -> None:
        self.db = db
        self.cache_ttl_s = cache_ttl_s
        self._cache: dict[tuple[str, str], tuple[float, object]] = {}
        with db.transaction(write=True) as tx:
            for stmt in _SCHEMA:
                tx.execute(stmt)

    @staticmethod
    def _upsert(tx: Tx, table: str, key: str, body: dict[str, object], agent: str | None) -> None:
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        if agent is None:
            tx.execute(
                f"INSERT INTO {table} (id, body) VALUES (?, ?)"  # noqa: S608 - fixed table names
                " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (key, text),
            )
        else:
            tx.execute(
                f"INSERT INTO {table} (id, agent_id, body) VALUES (?, ?, ?)"  # noqa: S608
                " ON CONFLICT (id) DO UPDATE"
                " SET agent_id = excluded.agent_id, body = excluded.body",
                (key, agent, text),
            )

    def put_organisation(self, org: Organisation) -> None:
        self._cache.clear()
        with self.db.transaction(write=True) as tx:
            self._upsert(tx, "ctx_organisations", org.id, organisation_to_value(org), None)

    def put_agent(self, agent: Agent) -> None:
        self._cache.clear()
        with self.db.transaction(write=True) as tx:
            if not tx.execute("SELECT 1 FROM ctx_organisations WHERE id = ?", (agent.org,)):
                raise ContextDataError(f"agent {agent.id!r}: unknown organisation {agent.org!r}")
            self._upsert(tx, "ctx_agents", agent.id, agent_to_value(agent), None)

    def put_mission(self, mission: Mission) -> None:
        self._cache.clear()
        with self.db.transaction(write=True) as tx:
            if not tx.execute("SELECT 1 FROM ctx_agents WHERE id = ?", (mission.agent_id,)):
                raise UnknownAgentError(mission.agent_id)
            self._upsert(
                tx, "ctx_missions", mission.id, mission_to_value(mission), mission.agent_id
            )

    def import_data(self, data: ContextData) -> None:
        """Upsert everything of ``data`` in one transaction."""
        self._cache.clear()
        with self.db.transaction(write=True) as tx:
            for o in data.organisations:
                self._upsert(tx, "ctx_organisations", o.id, organisation_to_value(o), None)
            for a in data.agents:
                self._upsert(tx, "ctx_agents", a.id, agent_to_value(a), None)
            for m in data.missions:
                self._upsert(tx, "ctx_missions", m.id, mission_to_value(m), m.agent_id)

    def _cached(self, kind: str, key: str) -> object | None:
        hit = self._cache.get((kind, key))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def _keep(self, kind: str, key: str, value: _T) -> _T:
        """Cache ``value``; returns the object to hand out. A reload that finds the same
        facts keeps the earlier object, so caches keyed by identity downstream (the
        context snapshot's encodings) stay warm across reloads."""
        old = self._cache.get((kind, key))
        if old is not None and type(old[1]) is type(value) and old[1] == value:
            value = old[1]
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[(kind, key)] = (time.monotonic() + self.cache_ttl_s, value)
        return value

    def agent(self, agent_id: str) -> Agent:
        hit = self._cached("agent", agent_id)
        if isinstance(hit, Agent):
            return hit
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT body FROM ctx_agents WHERE id = ?", (agent_id,))
        found = _decode(rows, agent_from_value, "agent")
        if not found:
            raise UnknownAgentError(agent_id)
        return self._keep("agent", agent_id, found[0])

    def organisation(self, org_id: str) -> Organisation | None:
        hit = self._cached("org", org_id)
        if isinstance(hit, Organisation):
            return hit
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT body FROM ctx_organisations WHERE id = ?", (org_id,))
        found = _decode(rows, organisation_from_value, "organisation")
        if not found:
            return None
        return self._keep("org", org_id, found[0])

    def missions_of(self, agent_id: str) -> list[Mission]:
        hit = self._cached("missions", agent_id)
        if isinstance(hit, tuple):
            return list(hit)
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT body FROM ctx_missions WHERE agent_id = ? ORDER BY id", (agent_id,)
            )
        found = _decode(rows, mission_from_value, "mission")
        return list(self._keep("missions", agent_id, tuple(found)))

    def organisations(self) -> list[Organisation]:
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT body FROM ctx_organisations ORDER BY id")
        return _decode(rows, organisation_from_value, "organisation")

    def agents(self) -> list[Agent]:
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT body FROM ctx_agents ORDER BY id")
        return _decode(rows, agent_from_value, "agent")

    def missions(self) -> list[Mission]:
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT body FROM ctx_missions ORDER BY id")
        return _decode(rows, mission_from_value, "mission")
