"""Server-side counters and snapshots on a real SQLite database."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from rsrp.context import (
    Agent,
    AgentDisabledError,
    ContextBuilder,
    ContextDataError,
    Database,
    EventLog,
    Level,
    Mission,
    MissionStatus,
    Organisation,
    Perimeter,
    Registry,
    UnknownAgentError,
    UnknownMissionError,
    build_input,
    choose_mission,
)

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def builder(tmp_path: Path) -> ContextBuilder:
    db = Database(f"sqlite:///{tmp_path}/ctx.db")
    reg = Registry(db)
    reg.put_organisation(Organisation("o", "Org", "FR"))
    reg.put_agent(Agent("a", "o", Level.AGENT, Perimeter.REGIONAL, frozenset({75, 92})))
    reg.put_agent(Agent("b", "o", Level.AGENT, Perimeter.NATIONAL, frozenset()))
    reg.put_agent(Agent("off", "o", Level.AGENT, Perimeter.NATIONAL, frozenset(), enabled=False))
    return ContextBuilder(reg, EventLog(db))


def _mission(mid: str, status: MissionStatus, start: dt.datetime, days: int = 30) -> Mission:
    return Mission(mid, "a", status, start, start + dt.timedelta(days=days), 8, 19, "Europe/Paris")


def test_context_windows_count_only_earlier_requests(builder: ContextBuilder) -> None:
    ev = builder.events
    r = ev.reserve("a", T0 - dt.timedelta(hours=25), "acct-old")  # outside both windows
    ev.complete(r.event_id, 1, 7)
    r = ev.reserve("a", T0 - dt.timedelta(hours=2), "acct-1")  # 24h only
    ev.complete(r.event_id, 1, 12)
    for i, outcome in enumerate((1, 3, 2, 1)):  # last hour: two accounts granted, one blocked
        r = ev.reserve(
            "a", T0 - dt.timedelta(minutes=30 - i), f"acct-{i % 2}" if outcome != 2 else "x"
        )
        ev.complete(r.event_id, outcome, 3 + i)
    ev.reserve("b", T0, "acct-1")  # another agent never counts
    now = ev.reserve("a", T0, "acct-9")
    c = now.counters
    assert (c.requests_1h, c.requests_24h) == (4, 5)
    assert c.distinct_accounts_1h == 2
    assert c.last_result_count == 6  # the last granted one (outcome 1, result 3+3)


def test_context_unfinished_request_counts_but_touches_nothing(builder: ContextBuilder) -> None:
    builder.events.reserve("a", T0, "acct")  # crashed before completing
    c = builder.events.reserve("a", T0 + dt.timedelta(seconds=1), None).counters
    assert (c.requests_1h, c.distinct_accounts_1h, c.last_result_count) == (1, 0, 0)


def test_context_concurrent_reservations_see_each_other(builder: ContextBuilder) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            n = builder.events.reserve("a", T0, None).counters.requests_1h
            with lock:
                seen.append(n)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 80 requests: each saw a distinct number of predecessors, 0..79.
    assert sorted(seen) == list(range(80))


def test_context_mission_choice() -> None:
    old = _mission("m-old", MissionStatus.CLOSED, T0 - dt.timedelta(days=90))
    susp = _mission("m-susp", MissionStatus.SUSPENDED, T0 - dt.timedelta(days=1))
    act = _mission("m-act", MissionStatus.ACTIVE, T0 - dt.timedelta(days=2))
    assert choose_mission([old, susp, act], None, T0) == act
    assert choose_mission([old, susp], None, T0) == susp
    assert choose_mission([old], None, T0) == old
    assert choose_mission([], None, T0) is None
    assert choose_mission([old, act], "m-old", T0) == old
    with pytest.raises(UnknownMissionError):
        choose_mission([old], "someone-elses", T0)


def test_context_snapshot_and_input(builder: ContextBuilder) -> None:
    m = Mission(
        "m",
        "a",
        MissionStatus.ACTIVE,
        T0,
        T0 + dt.timedelta(days=1),
        8,
        19,
        "Europe/Paris",
        frozenset({92, 13}),
    )
    builder.registry.put_mission(m)
    agent, mission = builder.resolve("a", None, T0)
    assert mission == m
    snap, _ = builder.snapshot(agent, mission, T0, "acct")
    assert snap.effective_departments() == frozenset({92})
    data = build_input(snap, {"limit": 5, "query_type": "SEARCH_BY_IBAN"})
    assert data["request"] == {
        "limit": 5,
        "query_type": "SEARCH_BY_IBAN",
        "time": "2026-03-02T10:00:00Z",
    }
    assert data["agent"] == {
        "id": "a",
        "org": "o",
        "level": "AGENT",
        "perimeter": "REGIONAL",
        "departments": [92],
    }
    with pytest.raises(ContextDataError, match="time are set by the server"):
        build_input(snap, {"time": "2020-01-01T00:00:00Z"})
    # The state hash covers counters: the next request's snapshot differs.
    snap2, _ = builder.snapshot(agent, mission, T0, "acct")
    assert snap2.counters.requests_1h == 1
    assert snap.state_hash() != snap2.state_hash()
    assert snap.state_hash() == snap.state_hash()


def test_context_identity_errors(builder: ContextBuilder) -> None:
    with pytest.raises(UnknownAgentError):
        builder.resolve("ghost", None, T0)
    with pytest.raises(AgentDisabledError):
        builder.resolve("off", None, T0)
    with pytest.raises(UnknownAgentError):
        builder.registry.put_mission(
            Mission("m", "ghost", MissionStatus.ACTIVE, T0, T0 + dt.timedelta(1), 0, 24, "UTC")
        )


@pytest.mark.parametrize("mirror", [True, False], ids=["mirror", "sql"])
def test_context_reserve_many_equals_one_by_one(tmp_path: Path, mirror: bool) -> None:
    def fresh(name: str) -> EventLog:
        ev = EventLog(Database(f"sqlite:///{tmp_path}/{name}.db"), mirror=mirror)
        for i in range(5):  # some history, granted and not
            r = ev.reserve("a", T0 - dt.timedelta(minutes=10 + i), f"h{i}")
            ev.complete(r.event_id, 1 if i % 2 else 2, 10 + i)
        return ev

    later = T0 + dt.timedelta(seconds=1)
    items = [("a", T0, "x"), ("b", T0, "y"), ("a", T0, "x"), ("a", T0, None), ("b", T0, "z")]
    # One agent at two times, interleaved: the second T0 request sees the later one too.
    items += [("c", later, None), ("c", T0, None), ("c", later, None)]
    one = fresh("one")
    expected = [one.reserve(*item).counters for item in items]
    assert [r.counters for r in fresh("many").reserve_many(items)] == expected


@pytest.mark.parametrize("with_mission", [True, False])
def test_context_state_hash_is_the_canonical_hash(
    builder: ContextBuilder, with_mission: bool
) -> None:
    from rsrp.canonical import canonical_hash

    m = _mission("m", MissionStatus.ACTIVE, T0 - dt.timedelta(days=1)) if with_mission else None
    agent = builder.registry.agent("a")
    for i in range(3):
        snap, _ = builder.snapshot(agent, m, T0 + dt.timedelta(seconds=i), f"acct-{i}")
        assert snap.state_hash() == canonical_hash(snap.canonical_value())
