"""state_hash's hand-written encoding agrees with canonical_hash on any snapshot."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.canonical import CanonicalError, canonical_hash
from rsrp.context import Agent, ContextSnapshot, Counters, Level, Mission, MissionStatus, Perimeter

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
_AGENT = Agent("a", "o", Level.AGENT, Perimeter.REGIONAL, frozenset({75, 92}))
_MISSION = Mission(
    "m", "a", MissionStatus.ACTIVE, T0, T0 + dt.timedelta(days=1), 8, 19, "Europe/Paris"
)
_count = st.integers(min_value=-(2**63), max_value=2**63)


@settings(max_examples=300, deadline=None)
@given(
    counters=st.builds(Counters, _count, _count, _count, _count),
    at=st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
    ),
    mission=st.sampled_from([None, _MISSION]),
)
def test_context_state_hash_equals_canonical_hash(
    counters: Counters, at: dt.datetime, mission: Mission | None
) -> None:
    snap = ContextSnapshot(_AGENT, None, mission, counters, at)
    assert snap.state_hash() == canonical_hash(snap.canonical_value())


def test_context_state_hash_refuses_a_naive_time() -> None:
    snap = ContextSnapshot(_AGENT, None, None, Counters(0, 0, 0, 0), dt.datetime(2026, 3, 2))
    with pytest.raises(CanonicalError, match="no time zone"):
        snap.state_hash()
