"""policy_records (built from cached per-agent/mission templates) against a plain
reference built field by field, and the records are fresh objects every call."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.context import Agent, ContextSnapshot, Counters, Level, Mission, MissionStatus, Perimeter
from rsrp.context._load import mission_to_value

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
departments = st.frozensets(st.integers(1, 976), max_size=6)
agents = st.builds(
    Agent,
    st.sampled_from(["a", "b"]),
    st.just("o"),
    st.sampled_from(Level),
    st.sampled_from(Perimeter),
    departments,
    st.booleans(),
)
missions = st.none() | st.builds(
    Mission,
    st.sampled_from(["m1", "m2"]),
    st.just("a"),
    st.sampled_from(MissionStatus),
    st.just(T0),
    st.datetimes(min_value=dt.datetime(2026, 3, 3), timezones=st.just(dt.UTC)),
    st.integers(0, 23),
    st.integers(0, 24),
    st.sampled_from(["Europe/Paris", "UTC"]),
    departments,
)


def reference(snap: ContextSnapshot) -> dict[str, object]:
    m, a, c = snap.mission, snap.agent, snap.counters
    deps = a.departments & m.departments if m is not None and m.departments else a.departments
    return {
        "agent": {
            "id": a.id,
            "org": a.org,
            "level": a.level.value,
            "perimeter": a.perimeter.value,
            "departments": sorted(deps),
        },
        # the stored form of the mission, less who it belongs to and its departments
        "mission": None
        if m is None
        else {k: v for k, v in mission_to_value(m).items() if k not in ("agent", "departments")},
        "counters": {
            "requests_1h": c.requests_1h,
            "requests_24h": c.requests_24h,
            "last_result_count": c.last_result_count,
            "distinct_accounts_1h": c.distinct_accounts_1h,
        },
    }


@settings(max_examples=200, deadline=None)
@given(agents, missions, st.builds(Counters, *[st.integers(0, 2000)] * 4))
def test_context_policy_records_equal_the_reference(
    agent: Agent, mission: Mission | None, counters: Counters
) -> None:
    snap = ContextSnapshot(agent, None, mission, counters, T0)
    first = snap.policy_records()
    assert first == reference(snap)
    assert list(first["agent"]) == ["id", "org", "level", "perimeter", "departments"]  # type: ignore[call-overload]
    # A second call (served from the cache) gives equal but distinct objects, so
    # nothing one decision's input holds is shared with another's.
    second = snap.policy_records()
    assert second == first
    for key in ("agent", "mission"):
        if first[key] is not None:
            assert second[key] is not first[key]
    assert second["agent"]["departments"] is not first["agent"]["departments"]  # type: ignore[index]


def test_context_equal_agents_give_the_same_state_hash() -> None:
    # Two equal but distinct objects (a registry reload) hash alike: the cache keyed by
    # identity computes each one's part separately.
    a1 = Agent("a", "o", Level.AGENT, Perimeter.REGIONAL, frozenset({75, 92}))
    a2 = Agent("a", "o", Level.AGENT, Perimeter.REGIONAL, frozenset({75, 92}))
    a3 = Agent("a", "o", Level.AGENT, Perimeter.REGIONAL, frozenset({75}))
    hashes = [
        ContextSnapshot(a, None, None, Counters(1, 2, 3, 4), T0).state_hash() for a in (a1, a2, a3)
    ]
    assert hashes[0] == hashes[1] != hashes[2]
