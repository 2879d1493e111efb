"""The optimistic append path and the proof node cache, on SQLite and real PostgreSQL.

A back-end appends on top of the tree it last committed, without reading the head or the
border, and only if the head row still holds that tree; another writer in between sends it
down the locking path. Complete nodes are cached, since they never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from rsrp.ledger import Log, MemoryTree, _sqlbase, audit
from rsrp.ledger._storage import AppendPlan


def _entries(tag: str, n: int) -> list[bytes]:
    return [f"{tag}-{i}".encode() for i in range(n)]


def _record_fast_path(log: Log) -> list[str]:
    """Wrap the back-end's optimistic append: record 'fast' or 'moved' per attempt."""
    outcomes: list[str] = []
    backend: Any = log.backend
    real = backend._append_at

    def wrapped(cur: Any, tip: AppendPlan, entries: Sequence[bytes], hashes: Any) -> Any:
        try:
            plan = real(cur, tip, entries, hashes)
        except _sqlbase._HeadMovedError:
            outcomes.append("moved")
            raise
        outcomes.append("fast")
        return plan

    backend._append_at = wrapped
    return outcomes


# 4,100 crosses two boundaries of PostgreSQL's streamed COPY chunks (2,048 rows) unevenly.
@pytest.mark.parametrize(
    "batch", [1, 7, 300, 4100], ids=["one", "small", "copy-sized", "copy-chunks"]
)
def test_two_writers_interleaved_stay_exact(ledger_url: str, batch: int) -> None:
    with Log.open(ledger_url) as a, Log.open(ledger_url) as b:
        seen_a, seen_b = _record_fast_path(a), _record_fast_path(b)
        want: list[bytes] = []
        for k in range(6):
            for name, log in (("a", a), ("b", b)):
                for rep in range(2):  # the second append of a pair finds its own tip current
                    chunk = _entries(f"{name}{k}.{rep}", batch)
                    assert log.append_many(chunk) == range(len(want), len(want) + batch)
                    want += chunk
        # Both paths really ran: the tip was used, and a stale tip was caught by the head row.
        assert "fast" in seen_a and "moved" in seen_a
        assert "fast" in seen_b and "moved" in seen_b
        tree = MemoryTree.from_entries(want)
        for log in (a, b):
            assert log.head() == (len(want), tree.root())
            assert [e.data for e in log.backend.read_entries(0, len(want))] == want
        assert audit(a.backend).size == len(want)
        n = len(want)
        for index in (0, n // 3, n - 1):
            assert a.inclusion_proof(index) == tree.inclusion_proof(index, n)
            assert b.inclusion_proof(index) == tree.inclusion_proof(index, n)


def test_a_rewritten_head_root_is_not_extended_blindly(ledger_url: str) -> None:
    # Same size, other root: the tip no longer describes the stored tree, so the append must
    # not build on it (it takes the locking path, which reads what is stored).
    with Log.open(ledger_url) as log:
        seen = _record_fast_path(log)
        log.append_many(_entries("x", 5))
        backend: Any = log.backend
        backend._transact(
            lambda cur: cur.execute(
                backend._q("UPDATE tree_head SET root = ? WHERE id = 1"), (bytes(32),)
            )
        )
        assert log.append(b"next") == 5
        assert seen == ["moved"]
        assert log.backend.read_entries(5, 1)[0].data == b"next"


def test_node_cache_serves_exact_nodes_and_empties_when_full(
    log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlbase, "_NODE_CACHE_MAX", 40)
    data = _entries("c", 700)
    want: list[bytes] = []
    for lo in range(0, 700, 100):
        log.append_many(data[lo : lo + 100])
        want += data[lo : lo + 100]
        tree = MemoryTree.from_entries(want)
        n = len(want)
        for index in range(0, n, 37):
            assert log.inclusion_proof(index) == tree.inclusion_proof(index, n)
        for size1 in range(1, n, 41):
            assert log.consistency_proof(size1) == tree.consistency_proof(size1, n)
        cache: dict[Any, bytes] = getattr(log.backend, "_node_cache")  # noqa: B009
        assert 0 < len(cache) <= 40
        for (level, index), h in cache.items():
            assert tree.levels[level][index] == h
