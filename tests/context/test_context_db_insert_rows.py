"""Tx.insert_rows writes every row once, in order, whatever the count."""

from __future__ import annotations

from pathlib import Path

import pytest

from rsrp.context import Database


@pytest.mark.parametrize("n", [0, 1, 2, 3, 63, 64, 65, 200, 257])
def test_context_db_insert_rows_writes_each_row_once_in_order(tmp_path: Path, n: int) -> None:
    db = Database(f"sqlite:///{tmp_path}/t.db")
    rows = [(k, f"v{k}", None if k % 3 else b"\x00") for k in range(n)]
    with db.transaction(write=True) as tx:
        tx.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, k, v, b, tag)")
        tx.insert_rows("INSERT INTO t (k, v, b, tag)", "(?, ?, ?, 'x')", rows)
    with db.transaction() as tx:
        got = tx.execute("SELECT k, v, b, tag FROM t ORDER BY seq")
    assert got == [(*r, "x") for r in rows]
    db.close()
