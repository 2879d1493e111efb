"""Frozen values of the context stage: who the caller is, under which mission, and
what the server counted.  Nothing here is ever read from a request body."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import struct
from dataclasses import dataclass

from rsrp.canonical import DOMAIN, CanonicalValue, canonical_bytes

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


@functools.lru_cache(maxsize=4096)
def rfc3339(ts: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as the policy input's timestamps.

    Cached: the same mission bounds and decision times are formatted for every
    request of a batch (a pure function of an immutable value).
    """
    return ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


#: Canonical map header for the four snapshot keys (docs/canonical-hashing.md §2).
_MAP4 = struct.pack(">BI", 0x0A, 4)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: The snapshot's keys in canonical (bytewise) order, each u32-length-prefixed.
_KEY = {k: struct.pack(">I", len(k)) + k for k in (b"agent", b"at", b"counters", b"mission")}
#: The counters map: its header and its keys in canonical order (docs §2).
_COUNTERS_HEAD = struct.pack(">BI", 0x0A, 4)
_COUNTER_KEYS = tuple(
    struct.pack(">I", len(k)) + k
    for k in (b"distinct_accounts_1h", b"last_result_count", b"requests_1h", b"requests_24h")
)
_INT = struct.Struct(">BI")
_TIMESTAMP = struct.Struct(">Bq")


def _encode_int(value: int) -> bytes:
    """canonical_bytes(value) for an int: tag 0x02, u32 length, decimal digits (docs §2)."""
    digits = str(value).encode("ascii")
    return _INT.pack(0x02, len(digits)) + digits


#: Counters are mostly small: their encodings, precomputed.
_SMALL_INTS = tuple(_encode_int(i) for i in range(1024))


def _int_bytes(value: int) -> bytes:
    return _SMALL_INTS[value] if 0 <= value < 1024 else _encode_int(value)


@functools.lru_cache(maxsize=256)
def _at_bytes(at: dt.datetime) -> bytes:
    """canonical_bytes(at): the decision time, the same for a whole batch."""
    if at.tzinfo is None or at.utcoffset() is None:
        return canonical_bytes(at)  # raises the CanonicalError canonical_hash would
    delta = at - _EPOCH
    return _TIMESTAMP.pack(
        0x06, (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    )


@dataclass(frozen=True, slots=True)
class _Derived:
    """What a snapshot derives from its agent and mission alone (they repeat)."""

    #: Held so that neither id is reused while this entry is cached.
    agent: Agent
    mission: Mission | None
    #: Canonical bytes of the agent and mission values (state_hash).
    agent_bytes: bytes
    mission_bytes: bytes
    #: The policy records, as templates that policy_records copies.
    agent_record: dict[str, object]
    departments: tuple[int, ...]
    mission_record: dict[str, object] | None


_DERIVED: dict[tuple[int, int], _Derived] = {}
_DERIVED_MAX = 4096


def _derived(agent: Agent, mission: Mission | None) -> _Derived:
    """Cached by the objects' identity, not by hashing their fields: the registry hands
    out the same frozen objects for every request until its cache expires."""
    hit = _DERIVED.get((id(agent), id(mission)))
    if hit is not None:
        return hit
    snap = ContextSnapshot(agent, None, mission, Counters(0, 0, 0, 0), _EPOCH)
    agent_v, mission_v = snap.agent_mission_values()
    mission_record: dict[str, object] | None = None
    if mission is not None:
        mission_record = {
            "id": mission.id,
            "status": mission.status.value,
            "start": rfc3339(mission.start),
            "end": rfc3339(mission.end),
            "hours_start": mission.hours_start,
            "hours_end": mission.hours_end,
            "timezone": mission.timezone,
        }
    made = _Derived(
        agent,
        mission,
        canonical_bytes(agent_v),
        canonical_bytes(mission_v),
        {
            "id": agent.id,
            "org": agent.org,
            "level": agent.level.value,
            "perimeter": agent.perimeter.value,
        },
        tuple(sorted(snap.effective_departments())),
        mission_record,
    )
    if len(_DERIVED) >= _DERIVED_MAX:
        _DERIVED.clear()
    _DERIVED[id(agent), id(mission)] = made
    return made


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

    def agent_mission_values(self) -> tuple[CanonicalValue, CanonicalValue]:
        """The typed agent and mission values of :meth:`canonical_value`."""
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
        agent: CanonicalValue = {
            "id": self.agent.id,
            "org": self.agent.org,
            "level": self.agent.level.value,
            "perimeter": self.agent.perimeter.value,
            "departments": frozenset(self.effective_departments()),
        }
        return agent, mission

    def canonical_value(self) -> CanonicalValue:
        """Typed value hashed into ``state_hash`` (docs/canonical-hashing.md §4)."""
        agent, mission = self.agent_mission_values()
        c = self.counters
        return {
            "agent": agent,
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
        """SHA-256 canonical hash of :meth:`canonical_value` (32 bytes).

        Same bytes as ``canonical_hash(self.canonical_value())`` (a test checks it), but
        the agent and mission parts, which repeat across requests, are encoded once.
        """
        derived = _derived(self.agent, self.mission)
        c = self.counters
        d, lr, h1, h24 = _COUNTER_KEYS
        encoded = b"".join(
            (
                DOMAIN,
                _MAP4,
                _KEY[b"agent"], derived.agent_bytes,
                _KEY[b"at"], _at_bytes(self.at),
                _KEY[b"counters"], _COUNTERS_HEAD,
                d, _int_bytes(c.distinct_accounts_1h),
                lr, _int_bytes(c.last_result_count),
                h1, _int_bytes(c.requests_1h),
                h24, _int_bytes(c.requests_24h),
                _KEY[b"mission"], derived.mission_bytes,
            )
        )  # fmt: skip
        return hashlib.sha256(encoded).digest()

    def policy_records(self) -> dict[str, object]:
        """The agent, mission and counters records as JSON values for the policy input.

        Fresh dicts and lists every call (the templates they copy are shared)."""
        derived = _derived(self.agent, self.mission)
        mission = derived.mission_record
        c = self.counters
        return {
            "agent": {**derived.agent_record, "departments": list(derived.departments)},
            "mission": None if mission is None else dict(mission),
            "counters": {
                "requests_1h": c.requests_1h,
                "requests_24h": c.requests_24h,
                "last_result_count": c.last_result_count,
                "distinct_accounts_1h": c.distinct_accounts_1h,
            },
        }
