"""Completions are written as runs of consecutive ids: exactly the rows named change."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rsrp.context import Database, EventLog
from rsrp.context._events import _runs

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def test_context_runs_group_consecutive_ids_with_equal_values() -> None:
    rows = [(5, 4, 0), (6, 4, 0), (7, 1, 3), (8, 1, 3), (9, 1, 4), (3, 4, 0), (10, 1, 4)]
    singles, runs = _runs([*rows, (12, 1, 4)])
    assert runs == [(4, 0, 5, 6), (1, 3, 7, 8), (1, 4, 9, 10)]
    assert singles == [(4, 0, 3), (1, 4, 12)]
    # The same id twice is no run: applied one by one, in the order given.
    assert _runs([(5, 4, 0), (5, 1, 0)]) == ([(4, 0, 5), (1, 0, 5)], [])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    done=st.lists(
        st.tuples(st.booleans(), st.sampled_from([1, 2, 4]), st.sampled_from([0, 0, 7])),
        min_size=1,
        max_size=30,
    ),
    mirror=st.booleans(),
)
def test_context_complete_many_changes_exactly_the_rows_named(
    tmp_path_factory: pytest.TempPathFactory,
    done: list[tuple[bool, int, int]],
    mirror: bool,
) -> None:
    path = tmp_path_factory.mktemp("runs") / "ctx.db"
    ev = EventLog(Database(f"sqlite:///{path}"), mirror=mirror)
    res = ev.reserve_many([("a", T0, f"acct-{k}") for k in range(len(done))])
    named = {
        r.event_id: (outcome, count)
        for r, (complete, outcome, count) in zip(res, done, strict=True)
        if complete
    }
    ev.complete_many([(i, o, n) for i, (o, n) in named.items()])
    with sqlite3.connect(path) as conn:
        table = {
            i: (o, n)
            for i, o, n in conn.execute("SELECT id, outcome, result_count FROM decision_events")
        }
    assert table == {r.event_id: named.get(r.event_id, (None, 0)) for r in res}
