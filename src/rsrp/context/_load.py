"""Strict parsing of agents, organisations and missions from JSON/TOML values and files.

A directory holds any number of ``*.toml`` / ``*.json`` files; each may carry the
lists ``organisations``, ``agents`` and ``missions`` (TOML: ``[[agents]]``).
Unknown keys, wrong types and duplicate ids are errors naming the file and entry.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rsrp.context._errors import ContextDataError
from rsrp.context._model import (
    Agent,
    Level,
    Mission,
    MissionStatus,
    Organisation,
    Perimeter,
    rfc3339,
)

__all__ = [
    "ContextData",
    "agent_from_value",
    "agent_to_value",
    "load_directory",
    "mission_from_value",
    "mission_to_value",
    "organisation_from_value",
    "organisation_to_value",
]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
_MAX_FILE = 4 * 1024 * 1024
_E = TypeVar("_E", Level, Perimeter, MissionStatus)


@dataclass(frozen=True, slots=True)
class ContextData:
    organisations: tuple[Organisation, ...] = ()
    agents: tuple[Agent, ...] = ()
    missions: tuple[Mission, ...] = ()
    sources: tuple[str, ...] = field(default=())


def _keys(
    value: object, where: str, required: set[str], optional: set[str]
) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ContextDataError(f"{where}: expected a table/object, got {type(value).__name__}")
    keys = set(value)
    if missing := required - keys:
        raise ContextDataError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
    if unknown := keys - required - optional:
        raise ContextDataError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    return value


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ContextDataError(f"{where}: id must match {_ID.pattern}, got {value!r}")
    return value


def _str(value: object, where: str, limit: int = 256) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ContextDataError(f"{where}: expected a non-empty string of at most {limit} chars")
    return value


def _int(value: object, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ContextDataError(f"{where}: expected an integer in [{lo}, {hi}], got {value!r}")
    return value


def _ts(value: object, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        ts = value
    elif isinstance(value, str):
        try:
            ts = dt.datetime.fromisoformat(value)
        except ValueError as e:
            raise ContextDataError(f"{where}: not an RFC 3339 timestamp: {value!r}") from e
    else:
        raise ContextDataError(f"{where}: expected an RFC 3339 timestamp, got {value!r}")
    if ts.tzinfo is None:
        raise ContextDataError(f"{where}: timestamp {value!r} has no UTC offset")
    return ts.astimezone(dt.UTC)


def _departments(value: object, where: str) -> frozenset[int]:
    if not isinstance(value, list) or len(value) > 128:
        raise ContextDataError(f"{where}: expected a list of at most 128 department numbers")
    return frozenset(_int(v, where, 0, 999) for v in value)


def _enum(kind: type[_E], value: object, where: str) -> _E:
    # Member names equal their values for these enums.
    if isinstance(value, str) and value in kind.__members__:
        return kind[value]
    allowed = ", ".join(m.value for m in kind)
    raise ContextDataError(f"{where}: {value!r} is not one of {allowed}")


def organisation_from_value(value: object, where: str = "organisation") -> Organisation:
    v = _keys(value, where, {"id", "name", "jurisdiction"}, set())
    return Organisation(
        id=_id(v["id"], where),
        name=_str(v["name"], where),
        jurisdiction=_str(v["jurisdiction"], where, 64),
    )


def agent_from_value(value: object, where: str = "agent") -> Agent:
    v = _keys(value, where, {"id", "org", "level", "perimeter", "departments"}, {"enabled"})
    enabled = v.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ContextDataError(f"{where}: enabled must be true or false")
    return Agent(
        id=_id(v["id"], where),
        org=_id(v["org"], where),
        level=_enum(Level, v["level"], where),
        perimeter=_enum(Perimeter, v["perimeter"], where),
        departments=_departments(v["departments"], where),
        enabled=enabled,
    )


def mission_from_value(value: object, where: str = "mission") -> Mission:
    v = _keys(
        value,
        where,
        {"id", "agent", "status", "start", "end", "hours_start", "hours_end", "timezone"},
        {"departments"},
    )
    tz = _str(v["timezone"], where, 64)
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ContextDataError(f"{where}: unknown IANA time zone {tz!r}") from e
    start, end = _ts(v["start"], where), _ts(v["end"], where)
    if end <= start:
        raise ContextDataError(f"{where}: end must be after start")
    return Mission(
        id=_id(v["id"], where),
        agent_id=_id(v["agent"], where),
        status=_enum(MissionStatus, v["status"], where),
        start=start,
        end=end,
        hours_start=_int(v["hours_start"], where, 0, 23),
        hours_end=_int(v["hours_end"], where, 0, 24),
        timezone=tz,
        departments=_departments(v.get("departments", []), where),
    )


def organisation_to_value(o: Organisation) -> dict[str, object]:
    return {"id": o.id, "name": o.name, "jurisdiction": o.jurisdiction}


def agent_to_value(a: Agent) -> dict[str, object]:
    return {
        "id": a.id,
        "org": a.org,
        "level": a.level.value,
        "perimeter": a.perimeter.value,
        "departments": sorted(a.departments),
        "enabled": a.enabled,
    }


def mission_to_value(m: Mission) -> dict[str, object]:
    return {
        "id": m.id,
        "agent": m.agent_id,
        "status": m.status.value,
        "start": rfc3339(m.start),
        "end": rfc3339(m.end),
        "hours_start": m.hours_start,
        "hours_end": m.hours_end,
        "timezone": m.timezone,
        "departments": sorted(m.departments),
    }


def _read(path: Path) -> Mapping[str, object]:
    if path.stat().st_size > _MAX_FILE:
        raise ContextDataError(f"{path.name}: larger than {_MAX_FILE} bytes")
    try:
        if path.suffix == ".toml":
            return tomllib.loads(path.read_text(encoding="utf-8"))
        data = json.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ContextDataError(f"{path.name}: {e}") from e
    if not isinstance(data, dict):
        raise ContextDataError(f"{path.name}: top level must be an object")
    return data


def load_directory(directory: Path) -> ContextData:
    """Read every ``*.toml`` and ``*.json`` file of ``directory`` (sorted by name)."""
    if not directory.is_dir():
        raise ContextDataError(f"context directory {directory} does not exist")
    orgs: dict[str, Organisation] = {}
    agents: dict[str, Agent] = {}
    missions: dict[str, Mission] = {}
    sources: list[str] = []
    files = sorted(p for p in directory.iterdir() if p.suffix in {".toml", ".json"})
    for path in files:
        data = _keys(_read(path), path.name, set(), {"organisations", "agents", "missions"})
        sources.append(path.name)
        for key, parse, into in (
            ("organisations", organisation_from_value, orgs),
            ("agents", agent_from_value, agents),
            ("missions", mission_from_value, missions),
        ):
            items = data.get(key, [])
            if not isinstance(items, list):
                raise ContextDataError(f"{path.name}: {key} must be a list")
            for i, item in enumerate(items):
                obj = parse(item, f"{path.name}: {key}[{i}]")
                if obj.id in into:
                    raise ContextDataError(f"{path.name}: {key}[{i}]: duplicate id {obj.id!r}")
                into[obj.id] = obj  # type: ignore[assignment]
    for a in agents.values():
        if a.org not in orgs:
            raise ContextDataError(f"agent {a.id!r}: unknown organisation {a.org!r}")
    for m in missions.values():
        if m.agent_id not in agents:
            raise ContextDataError(f"mission {m.id!r}: unknown agent {m.agent_id!r}")
    return ContextData(
        organisations=tuple(orgs.values()),
        agents=tuple(agents.values()),
        missions=tuple(missions.values()),
        sources=tuple(sources),
    )
