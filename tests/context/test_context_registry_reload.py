"""Registry reloads: unchanged facts keep their objects (identity caches stay warm);
a change made by another replica shows once the cache expires."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from rsrp.context import (
    Agent,
    ContextSnapshot,
    Counters,
    Database,
    Level,
    Mission,
    MissionStatus,
    Organisation,
    Perimeter,
    Registry,
)

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TTL = 0.05


def _registries(tmp_path: Path) -> tuple[Registry, Registry]:
    """This replica's registry (short cache) and another replica's on the same database."""
    url = f"sqlite:///{tmp_path}/ctx.db"
    ours, theirs = Registry(Database(url), cache_ttl_s=TTL), Registry(Database(url))
    theirs.put_organisation(Organisation("o", "Org", "FR"))
    theirs.put_agent(Agent("a", "o", Level.AGENT, Perimeter.REGIONAL, frozenset({75})))
    theirs.put_mission(
        Mission("m", "a", MissionStatus.ACTIVE, T0, T0 + dt.timedelta(days=1), 8, 19, "UTC")
    )
    return ours, theirs


def test_context_reload_of_unchanged_facts_keeps_the_objects(tmp_path: Path) -> None:
    ours, _ = _registries(tmp_path)
    agent, missions, org = ours.agent("a"), ours.missions_of("a"), ours.organisation("o")
    time.sleep(TTL * 2)  # expired: the next reads go to the database again
    assert ours.agent("a") is agent
    assert ours.missions_of("a")[0] is missions[0]
    assert ours.organisation("o") is org


def test_context_reload_sees_another_replicas_change(tmp_path: Path) -> None:
    ours, theirs = _registries(tmp_path)
    before = ours.agent("a")
    snap = ContextSnapshot(before, None, None, Counters(0, 0, 0, 0), T0)
    hash_before = snap.state_hash()
    theirs.put_agent(Agent("a", "o", Level.SUPERVISOR, Perimeter.REGIONAL, frozenset({75})))
    assert ours.agent("a") is before  # within the cache lifetime
    time.sleep(TTL * 2)
    after = ours.agent("a")
    assert after.level is Level.SUPERVISOR
    changed = ContextSnapshot(after, None, None, Counters(0, 0, 0, 0), T0)
    assert changed.state_hash() != hash_before
    assert changed.policy_records()["agent"]["level"] == "SUPERVISOR"  # type: ignore[index]
