"""Frozen values of the context stage: who the caller is, under which mission, and
what the server counted.  Nothing here is ever read from a request body."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from rsrp.canonical import CanonicalValue, canonical_hash

__all__ = [
    "Agent",
    "ContextSnapshot",
    "Counters",
    "Level",
    "Mission",
    "MissionStatus",
    "Organisation",
    "Perimeter",
]


class Level(enum.StrEnum):
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"
    AUDITOR = "AUDITOR"


class Perimeter(enum.StrEnum):
    NATIONAL = "NATIONAL"
    REGIONAL = "REGIONAL"


class MissionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


def _rfc3339(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str
    jurisdiction: str


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    org: str
    level: Level
    perimeter: Perimeter
    departments: frozenset[int]
    #: A disabled agent is still resolved (so its attempts are logged) but never active.
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Mission:
    id: str
    agent_id: str
    status: MissionStatus
    start: dt.datetime
    end: dt.datetime
    #: Mission hours [hours_start, hours_end) in the mission's local time zone.
    hours_start: int
    hours_end: int
    timezone: str
    #: Departments the mission is limited to; empty means the agent's own perimeter.
    departments: frozenset[int] = frozenset()

    def covers(self, at: dt.datetime) -> bool:
        return self.start <= at <= self.end


@dataclass(frozen=True, slots=True)
class Counters:
    """Sliding-window counts over the decisions recorded *before* the current one."""

    requests_1h: int
    requests_24h: int
    last_result_count: int
    distinct_accounts_1h: int


@dataclass(frozen=True, slots=True)
class ContextSnapshot:
    """The exact server-side facts one decision was made with."""

    agent: Agent
    organisation: Organisation | None
    mission: Mission | None
    counters: Counters
    #: Server time of the decision (the policy's NOW and ``request.time``).
    at: dt.datetime

    def effective_departments(self) -> frozenset[int]:
        """The agent's departments, narrowed to the mission's when the mission names any."""
        if self.mission is not None and self.mission.departments:
            return self.agent.departments & self.mission.departments
        return self.agent.departments

    def canonical_value(self) -> CanonicalValue:
        """Typed value hashed into ``state_hash`` (docs/canonical-hashing.md §4)."""
        mission: CanonicalValue = None
        if self.mission is not None:
            m = self.mission
            mission = {
                "id": m.id,
                "status": m.status.value,
                "start": m.start,
                "end": m.end,
                "hours_start": m.hours_start,
                "hours_end": m.hours_end,
                "timezone": m.timezone,
            }
        c = self.counters
        return {
            "agent": {
                "id": self.agent.id,
                "org": self.agent.org,
                "level": self.agent.level.value,
                "perimeter": self.agent.perimeter.value,
                "departments": frozenset(self.effective_departments()),
            },
            "mission": mission,
            "counters": {
                "requests_1h": c.requests_1h,
                "requests_24h": c.requests_24h,
                "last_result_count": c.last_result_count,
                "distinct_accounts_1h": c.distinct_accounts_1h,
            },
            "at": self.at,
        }

    def state_hash(self) -> bytes:
        """SHA-256 canonical hash of :meth:`canonical_value` (32 bytes)."""
        return canonical_hash(self.canonical_value())

    def policy_records(self) -> dict[str, object]:
        """The agent, mission and counters records as JSON values for the policy input."""
        mission: dict[str, object] | None = None
        if self.mission is not None:
            m = self.mission
            mission = {
                "id": m.id,
                "status": m.status.value,
                "start": _rfc3339(m.start),
                "end": _rfc3339(m.end),
                "hours_start": m.hours_start,
                "hours_end": m.hours_end,
                "timezone": m.timezone,
            }
        c = self.counters
        return {
            "agent": {
                "id": self.agent.id,
                "org": self.agent.org,
                "level": self.agent.level.value,
                "perimeter": self.agent.perimeter.value,
                "departments": sorted(self.effective_departments()),
            },
            "mission": mission,
            "counters": {
                "requests_1h": c.requests_1h,
                "requests_24h": c.requests_24h,
                "last_result_count": c.last_result_count,
                "distinct_accounts_1h": c.distinct_accounts_1h,
            },
        }
