"""The in-memory counter mirror (SQLite) gives exactly the SQL counts.

Oracle: the same operations on an EventLog with ``mirror=False``, which counts
with the SQL queries, on its own database file.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rsrp.context import Counters, Database, EventLog, _window
from rsrp.context._window import Windows

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)

# One step: (agent, minutes after T0 (may go backwards), account, outcome or None = left pending)
_step = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.one_of(  # window edges (exactly 1 h and 24 h apart) are where off-by-ones hide
        st.sampled_from([0, 1, 59, 60, 61, 120, 1439, 1440, 1441, 1500, -60, -61]),
        st.integers(min_value=-26 * 60, max_value=26 * 60),
    ),
    st.sampled_from([None, "x", "y", "z"]),
    st.sampled_from([None, 1, 2, 3, 4]),
    st.integers(min_value=0, max_value=500),
)


def _run(ev: EventLog, steps: list[tuple[str, int, str | None, int | None, int]]) -> list[Counters]:
    seen = []
    for batch_start in range(0, len(steps), 3):  # batches of up to three, then one by one
        batch = steps[batch_start : batch_start + 3]
        items = [(a, T0 + dt.timedelta(minutes=m), acct) for a, m, acct, _, _ in batch]
        res = ev.reserve_many(items) if batch_start % 2 else [ev.reserve(*i) for i in items]
        seen += [r.counters for r in res]
        done = [(r.event_id, o, n) for r, (_, _, _, o, n) in zip(res, batch, strict=True) if o]
        if done:
            ev.complete_many(done)
    return seen


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_step, max_size=40))
def test_context_mirror_counts_as_sql(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[tuple[str, int, str | None, int | None, int]],
) -> None:
    # Sweep old rows after every reservation (not every 4096): pruning runs all the time.
    monkeypatch.setattr(_window, "_SWEEP_EVERY", 1)
    tmp = tmp_path_factory.mktemp("mirror")
    mirrored = EventLog(Database(f"sqlite:///{tmp}/m.db"))
    oracle = EventLog(Database(f"sqlite:///{tmp}/o.db"), mirror=False)
    assert mirrored.mirrored and not oracle.mirrored
    assert _run(mirrored, steps) == _run(oracle, steps)
    assert mirrored.mirrored  # sole writer: never fell back to SQL


def _history(ev: EventLog) -> None:
    for i in range(6):
        r = ev.reserve("a", T0 + dt.timedelta(minutes=i), f"acct-{i % 3}")
        ev.complete(r.event_id, 1 if i % 2 else 2, 10 + i)


def test_context_mirror_is_loaded_from_the_database_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ctx.db"
    _history(EventLog(Database(url), mirror=False))
    pending = EventLog(Database(url), mirror=False).reserve("a", T0 + dt.timedelta(minutes=7), "p")
    restarted = EventLog(Database(url))  # a new process on the same file
    got = restarted.reserve("a", T0 + dt.timedelta(minutes=8), None).counters
    # acct-1, acct-0 and acct-2 were granted (odd i); the pending row counts as a request.
    assert got == Counters(
        requests_1h=7, requests_24h=7, last_result_count=15, distinct_accounts_1h=3
    )
    # The pending row loaded from the database completes through the mirror.
    restarted.complete(pending.event_id, 1, 99)
    again = restarted.reserve("a", T0 + dt.timedelta(minutes=9), None).counters
    assert (again.last_result_count, again.distinct_accounts_1h) == (99, 4)
    assert restarted.mirrored


def test_context_mirror_sees_another_writer_and_counts_in_sql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ctx.db"
    one, two = EventLog(Database(url)), EventLog(Database(url))
    for i in range(4):  # two processes' worth of writers, interleaved on one file
        for ev in (one, two):
            r = ev.reserve("a", T0 + dt.timedelta(seconds=i), f"acct-{i}")
            ev.complete(r.event_id, 1, i)
    assert not one.mirrored and not two.mirrored
    at = T0 + dt.timedelta(seconds=9)
    assert one.reserve("a", at, None).counters == Counters(8, 8, 3, 4)
    assert two.reserve("a", at, None).counters == Counters(9, 9, 3, 4)


def test_context_mirror_is_dropped_when_a_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = EventLog(Database(f"sqlite:///{tmp_path}/ctx.db"))
    _history(ev)
    real = Windows.counters
    calls = 0

    def second_fails(self: Windows, agent_id: str, at_us: int) -> Counters:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first reservation of the batch is already in the mirror
            raise RuntimeError("injected failure")
        return real(self, agent_id, at_us)

    monkeypatch.setattr(Windows, "counters", second_fails)
    at = T0 + dt.timedelta(minutes=7)
    with pytest.raises(RuntimeError, match="injected"):
        ev.reserve_many([("a", at, "lost-1"), ("a", at, "lost-2")])
    monkeypatch.setattr(Windows, "counters", real)
    # The rolled-back reservations are in neither the table nor the counts.
    c = ev.reserve("a", T0 + dt.timedelta(minutes=8), None).counters
    assert c == Counters(
        requests_1h=6, requests_24h=6, last_result_count=15, distinct_accounts_1h=3
    )
    assert ev.mirrored


def test_context_mirror_sees_a_raw_sql_writer(tmp_path: Path) -> None:
    path = tmp_path / "ctx.db"
    ev = EventLog(Database(f"sqlite:///{path}"))
    _history(ev)
    # A write that bypasses EventLog entirely (an operator's sqlite3 shell, an old build).
    at_us = int(
        (T0 + dt.timedelta(minutes=6) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds()
    )
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO decision_events (agent_id, at, outcome, account, result_count)"
        " VALUES ('a', ?, 1, 'raw', 77)",
        (at_us * 1_000_000,),
    )
    conn.commit()
    conn.close()
    c = ev.reserve("a", T0 + dt.timedelta(minutes=8), None).counters
    assert c == Counters(
        requests_1h=7, requests_24h=7, last_result_count=77, distinct_accounts_1h=4
    )
    assert not ev.mirrored


def test_context_mirror_account_granted_again_after_its_old_grant_was_pruned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_window, "_SWEEP_EVERY", 1)
    hour = _window.HOUR_US
    w = Windows()
    w.add(1, "a", 0, "x", outcome=1)
    w.add(2, "a", 26 * hour, "y", outcome=1)  # x's grant is now past the 25 h retention
    w.add(3, "a", 26 * hour, "x", outcome=1)  # x again: its stale time must not evict y's
    assert w.counters("a", 26 * hour + 60_000_000).distinct_accounts_1h == 2


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decision_events'"
        ).fetchall()
    return {r[0] for r in rows}


def test_context_mirror_drops_the_agent_index_and_sql_counting_brings_it_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ctx.db"
    url = f"sqlite:///{path}"
    sql = EventLog(Database(url), mirror=False)
    _history(sql)
    assert _indexes(path) == {"decision_events_agent_at"}
    # A sole writer counting from its mirror does not pay for an index it never reads...
    mirrored = EventLog(Database(url))
    mirrored.reserve("a", T0 + dt.timedelta(minutes=7), None)
    assert _indexes(path) == set()
    # ...and the first SQL count on the file, by anyone, rebuilds it before reading.
    got = sql.reserve("a", T0 + dt.timedelta(minutes=8), None).counters
    assert got == Counters(7, 7, 15, 3)
    assert _indexes(path) == {"decision_events_agent_at"}
    assert mirrored.reserve("a", T0 + dt.timedelta(minutes=9), None).counters.requests_1h == 8
    assert not mirrored.mirrored


def test_context_mirror_clock_step_back_counts_in_sql_with_the_index(tmp_path: Path) -> None:
    path = tmp_path / "ctx.db"
    ev = EventLog(Database(f"sqlite:///{path}"))
    _history(ev)
    ev.reserve("a", T0 + dt.timedelta(hours=3), None)
    assert _indexes(path) == set()
    # Two hours back: beyond what the mirror covers for that time, so SQL counts it
    # (minutes 1 to 5 and the later row are within the hour, minute 0 is not).
    got = ev.reserve("a", T0 + dt.timedelta(hours=1), None).counters
    assert got == Counters(
        requests_1h=6, requests_24h=7, last_result_count=15, distinct_accounts_1h=3
    )
    assert _indexes(path) == {"decision_events_agent_at"}
    assert ev.mirrored
