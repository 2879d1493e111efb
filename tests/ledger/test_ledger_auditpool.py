"""audit(workers=N): worker processes check whole chunks; the verdict is the one-process one.

Logs of a little over two chunks (2 x 65,536 entries), on SQLite and real PostgreSQL: the
parallel audit must return the same report, and on tampering raise the same message at the
same index as the one-process audit, wherever the damage is (in a worker's chunk or the tail).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.ledger.ledger_sql import run_sql

from rsrp.ledger import Log, MemoryTree, TamperError, audit, hash_leaf
from rsrp.ledger._audit_pool import CHUNK, parallel_leaves

SIZE = 2 * CHUNK + 1234


def _sql1(url: str, sql: str, args: tuple[Any, ...]) -> None:
    run_sql(url, (sql, args))


def _fill(url: str) -> list[bytes]:
    data = [b"e%d" % i for i in range(SIZE)]
    with Log.open(url) as log:
        log.append_many(data)
    return data


def _verdicts(url: str) -> tuple[str, int | None, str, int | None]:
    with Log.open(url) as log:
        with pytest.raises(TamperError) as one:
            audit(log.backend)
        with pytest.raises(TamperError) as par:
            audit(log.backend, workers=2)
    return str(one.value), one.value.index, str(par.value), par.value.index


def test_parallel_audit_matches_the_tree(ledger_url: str) -> None:
    data = _fill(ledger_url)
    tree = MemoryTree.from_entries(data)
    with Log.open(ledger_url) as log:
        seen: list[int] = []
        report = audit(log.backend, workers=2, progress=lambda done, _: seen.append(done))
        assert report == audit(log.backend)
        # The workers' part: both whole chunks, every level of their subtrees.
        levels = parallel_leaves(log.backend.url, SIZE, 2, None)
    assert report.size == SIZE and report.root == tree.root() and seen[-1] == SIZE
    assert len(levels) == 17 and [len(lv) for lv in levels] == [2 * CHUNK >> k for k in range(17)]
    assert levels == [lv[: 2 * CHUNK >> k] for k, lv in enumerate(tree.levels[:17])]


@pytest.mark.parametrize(
    ("case", "index"),
    [
        ("data", 70_000),  # entry bytes changed: its stored leaf hash no longer matches
        ("data-and-hash", 3),  # both changed: a stored node over it no longer matches
        ("delete", CHUNK + 5),  # a hole inside a worker's chunk
        ("delete", 2 * CHUNK + 7),  # a hole in the tail, read in-process
        ("extra", SIZE),  # an entry beyond the tree head
    ],
)
def test_parallel_audit_reports_like_one_process(ledger_url: str, case: str, index: int) -> None:
    _fill(ledger_url)
    if case == "data":
        _sql1(ledger_url, "UPDATE entries SET data = ? WHERE idx = ?", (b"evil", index))
    elif case == "data-and-hash":
        sql = "UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = ?"
        _sql1(ledger_url, sql, (b"evil", hash_leaf(b"evil"), index))
    elif case == "delete":
        _sql1(ledger_url, "DELETE FROM entries WHERE idx = ?", (index,))
    else:
        sql = "INSERT INTO entries (idx, data, leaf_hash) VALUES (?, ?, ?)"
        _sql1(ledger_url, sql, (index, b"x", hash_leaf(b"x")))
    msg_one, at_one, msg_par, at_par = _verdicts(ledger_url)
    assert (msg_par, at_par) == (msg_one, at_one)
    assert at_one is not None and at_one <= index
