"""``Database.transaction(durable=True)`` fsyncs SQLite's WAL at its commit; a default
(``synchronous=NORMAL``) commit does not, until a later FULL commit syncs the shared WAL.

Observed, not assumed: the commits run in a child process under ``strace``, which
records every ``fsync``/``fdatasync`` with the file it was called on.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

_CHILD = textwrap.dedent(
    """
    import os, sqlite3, sys
    from rsrp.context import Database
    db = Database("sqlite:///" + sys.argv[1])
    with db.transaction(write=True) as tx:
        tx.execute("CREATE TABLE t (x INTEGER)")
        tx.execute("INSERT INTO t VALUES (0)")  # the WAL exists and its header is synced
    def mark(s):
        os.write(2, ("@@ " + s + "\\n").encode())
    mark("normal")
    with db.transaction(write=True) as tx:
        tx.execute("INSERT INTO t VALUES (1)")
    mark("durable")
    with db.transaction(write=True, durable=True) as tx:
        tx.execute("INSERT INTO t VALUES (2)")
    mark("normal-again")
    with db.transaction(write=True) as tx:
        tx.execute("INSERT INTO t VALUES (3)")
    mark("ledger-full")
    other = sqlite3.connect(sys.argv[1], isolation_level=None)
    other.execute("PRAGMA synchronous=FULL")
    other.execute("BEGIN IMMEDIATE"); other.execute("INSERT INTO t VALUES (4)")
    other.execute("COMMIT")
    mark("end")
    with db.transaction() as tx:
        assert tx.execute("PRAGMA synchronous") == [(1,)], "NORMAL restored"
    """
)


_EVENTS_CHILD = textwrap.dedent(
    """
    import datetime as dt, os, sys
    from rsrp.context import Database
    from rsrp.context._events import EventLog
    events = EventLog(Database("sqlite:///" + sys.argv[1]))
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    def mark(s):
        os.write(2, ("@@ " + s + "\\n").encode())
    mark("reserve")
    r = events.reserve_many([("agent-1", at, "acct")])[0]
    mark("complete")
    events.complete_many([(r.event_id, 1, 3)])
    mark("end")
    """
)


def _wal_syncs_between_marks(trace: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    current = None
    for line in trace.splitlines():
        if line.startswith("@@ "):
            current = line[3:].strip()
            counts[current] = 0
        elif current and "sync(" in line and "-wal>" in line:
            counts[current] += 1
    return counts


def _traced_wal_syncs(child: str, db: Path) -> dict[str, int]:
    """Run ``child`` under strace; count the WAL syncs between its ``@@`` marks."""
    run = subprocess.run(
        ["strace", "-f", "-y", "-e", "trace=fsync,fdatasync", sys.executable, "-c", child,
         str(db)],
        capture_output=True, text=True, env={"PYTHONPATH": str(SRC)}, timeout=60, check=False,
    )  # fmt: skip
    if "PTRACE" in run.stderr and run.returncode != 0:
        pytest.skip("ptrace is not permitted here")
    assert run.returncode == 0, run.stderr[-2000:]
    return _wal_syncs_between_marks(run.stderr)


needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@needs_strace
def test_context_db_durable_commit_fsyncs_the_wal(tmp_path: Path) -> None:
    counts = _traced_wal_syncs(_CHILD, tmp_path / "d.db")
    # NORMAL: no sync of its own; durable: the WAL is synced before the commit returns;
    # a FULL commit on another connection syncs the same WAL file (earlier frames too).
    assert counts["normal"] == 0
    assert counts["durable"] >= 1
    assert counts["normal-again"] == 0
    assert counts["ledger-full"] >= 1


@needs_strace
def test_context_db_decision_completion_is_durable(tmp_path: Path) -> None:
    """The service acknowledges a decision right after ``complete_many``: that commit
    must reach the disk itself (docs/service.md, Durability on an OS crash)."""
    counts = _traced_wal_syncs(_EVENTS_CHILD, tmp_path / "e.db")
    assert counts["reserve"] == 0  # made durable by the ledger's FULL commit that follows
    assert counts["complete"] >= 1
