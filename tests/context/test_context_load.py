"""Loading agents, organisations and missions from files: strict, with clear errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from rsrp.context import (
    ContextDataError,
    Level,
    MissionStatus,
    agent_from_value,
    agent_to_value,
    load_directory,
    mission_from_value,
    mission_to_value,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bank-registry" / "context"

MISSION = {
    "id": "M-1",
    "agent": "a-1",
    "status": "ACTIVE",
    "start": "2026-01-01T00:00:00Z",
    "end": "2026-12-31T00:00:00+01:00",
    "hours_start": 8,
    "hours_end": 19,
    "timezone": "Europe/Paris",
}


def test_context_example_directory_loads() -> None:
    data = load_directory(EXAMPLE)
    assert {a.id for a in data.agents} >= {"agent-001", "agent-002", "supervisor-001"}
    levels = {a.id: a.level for a in data.agents}
    assert levels["supervisor-001"] is Level.SUPERVISOR
    suspended = [m for m in data.missions if m.status is MissionStatus.SUSPENDED]
    assert [m.agent_id for m in suspended] == ["agent-003"]


def test_context_mission_round_trip_and_utc() -> None:
    m = mission_from_value(MISSION)
    assert m.end == dt.datetime(2026, 12, 30, 23, tzinfo=dt.UTC)
    assert mission_from_value(mission_to_value(m)) == m


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "OPEN"}, "not one of ACTIVE"),
        ({"hours_start": 24}, "integer in [0, 23]"),
        ({"hours_start": True}, "integer in [0, 23]"),
        ({"timezone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"start": "2026-01-01T00:00:00"}, "no UTC offset"),
        ({"end": "2025-01-01T00:00:00Z"}, "end must be after start"),
        ({"extra": 1}, "unknown field(s) extra"),
        ({"id": "../etc/passwd"}, "id must match"),
        ({"departments": [1, "2"]}, "integer in [0, 999]"),
    ],
    ids=["status", "hour", "bool-hour", "tz", "naive", "order", "extra", "id", "dept"],
)
def test_context_mission_rejects(change: dict[str, object], reason: str) -> None:
    with pytest.raises(ContextDataError, match=r".*") as info:
        mission_from_value({**MISSION, **change})
    assert reason in str(info.value)


def test_context_missing_field_named() -> None:
    with pytest.raises(ContextDataError, match=r"missing field.*timezone"):
        mission_from_value({k: v for k, v in MISSION.items() if k != "timezone"})


def test_context_agent_round_trip() -> None:
    value = {
        "id": "a-1",
        "org": "o",
        "level": "AGENT",
        "perimeter": "REGIONAL",
        "departments": [75, 75, 92],
    }
    agent = agent_from_value(value)
    assert agent.departments == frozenset({75, 92})
    assert agent_from_value(agent_to_value(agent)) == agent


def test_context_directory_errors(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(
        json.dumps({"organisations": [{"id": "o", "name": "O", "jurisdiction": "FR"}]})
    )
    (tmp_path / "b.toml").write_text(
        '[[agents]]\nid = "a"\norg = "nope"\nlevel = "AGENT"\nperimeter = "NATIONAL"\n'
        "departments = []\n"
    )
    with pytest.raises(ContextDataError, match="unknown organisation 'nope'"):
        load_directory(tmp_path)
    (tmp_path / "b.toml").write_text("[[agents]\n")
    with pytest.raises(ContextDataError, match=r"b\.toml"):
        load_directory(tmp_path)
    (tmp_path / "b.toml").write_text(
        '[[organisations]]\nid = "o"\nname = "x"\njurisdiction = "FR"\n'
    )
    with pytest.raises(ContextDataError, match="duplicate id 'o'"):
        load_directory(tmp_path)
    with pytest.raises(ContextDataError, match="does not exist"):
        load_directory(tmp_path / "missing")


def test_context_cli_check_import_list(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rsrp.cli.main import app

    runner = CliRunner()
    r = runner.invoke(app, ["context", "check", str(EXAMPLE)])
    assert r.exit_code == 0, r.output
    assert "5 agents, 4 missions" in r.output
    db = f"sqlite:{tmp_path}/ctx.db"
    r = runner.invoke(app, ["context", "import", str(EXAMPLE), "--db", db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["context", "list", "--db", db, "--kind", "missions"])
    assert r.exit_code == 0
    assert "M-2026-003" in r.output and "SUSPENDED" in r.output
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text('{"agents": [{"id": "a"}]}')
    r = runner.invoke(app, ["context", "check", str(tmp_path / "bad")])
    assert r.exit_code == 1
    assert "missing field(s)" in r.output
