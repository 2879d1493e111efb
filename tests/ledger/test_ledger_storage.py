"""One suite, two back-ends (SQLite, real PostgreSQL): appends, proofs, checkpoints, writers."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from rsrp.ledger import (
    MAX_ENTRY_SIZE,
    CheckpointError,
    InvalidSizeError,
    LedgerError,
    Log,
    MemoryTree,
    StorageError,
    hash_leaf,
    verify_consistency,
    verify_inclusion,
)

WRITER = Path(__file__).with_name("ledger_writer.py")
ROOT = Path(__file__).resolve().parents[2]  # the checkout: its src/ goes first on the path


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [f"entry-{i}".encode() * (i % 4) for i in range(start, start + n)]


def test_append_returns_consecutive_indices(log: Log) -> None:
    assert log.size == 0 and log.root() == MemoryTree().root()
    assert [log.append(e) for e in _entries(5)] == [0, 1, 2, 3, 4]
    assert log.append_many(_entries(3, 5)) == range(5, 8)
    assert log.append_many([]) == range(0)
    assert log.size == 8
    assert log.entry(6).data == _entries(1, 6)[0]
    assert log.entry(6).leaf_hash == hash_leaf(_entries(1, 6)[0])


def test_roots_and_proofs_match_memory_tree(log: Log) -> None:
    data = _entries(70)
    for lo, hi in [(0, 1), (1, 2), (2, 5), (5, 8), (8, 9), (9, 33), (33, 64), (64, 70)]:
        log.append_many(data[lo:hi])
    assert log.head() == (70, MemoryTree.from_entries(data).root())
    for size in range(71):
        tree = MemoryTree.from_entries(data[:size])
        assert log.root(size) == tree.root()
        for index in range(0, size, 7):
            p = log.inclusion_proof(index, size)
            assert p == tree.inclusion_proof(index, size)
            verify_inclusion(hash_leaf(data[index]), index, size, p, tree.root())
        for size1 in range(1, size + 1, 5):
            c = log.consistency_proof(size1, size)
            verify_consistency(size1, size, c, log.root(size1), tree.root())


def test_proofs_read_only_log_n_nodes(log: Log) -> None:
    log.append_many(_entries(1000))
    asked: list[int] = []
    real = log.backend.get_nodes

    def counting(ids: Sequence[tuple[int, int]], /) -> list[bytes]:
        asked.append(len(ids))
        return real(ids)

    log.backend.get_nodes = counting  # type: ignore[method-assign]
    log.inclusion_proof(517, 1000)
    log.consistency_proof(517, 1000)
    log.root(999)
    assert len(asked) == 3 and max(asked) <= 2 * 10


def test_sizes_beyond_the_log_are_refused(log: Log) -> None:
    log.append_many(_entries(4))
    with pytest.raises(InvalidSizeError, match="beyond the log's size 4"):
        log.inclusion_proof(0, 5)
    with pytest.raises(InvalidSizeError):
        log.consistency_proof(2, 9)
    with pytest.raises(InvalidSizeError):
        log.root(5)
    with pytest.raises(InvalidSizeError):
        log.entry(4)


def test_bad_entries_are_refused_and_nothing_is_written(log: Log) -> None:
    with pytest.raises(LedgerError, match="more than 65535"):
        log.append_many([b"ok", b"x" * (MAX_ENTRY_SIZE + 1)])
    with pytest.raises(LedgerError, match="must be bytes"):
        log.append("text")  # type: ignore[arg-type]
    assert log.size == 0
    assert log.append(b"x" * MAX_ENTRY_SIZE) == 0


def test_log_survives_reopen(ledger_url: str) -> None:
    with Log.open(ledger_url) as log:
        log.append_many(_entries(10))
        root = log.root()
    with Log.open(ledger_url) as log:
        assert log.head() == (10, root)
        assert log.append(b"more") == 10


def test_threads_are_group_committed(log: Log) -> None:
    commits: list[int] = []
    real = log.backend.append

    def counting(entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> int:
        commits.append(len(entries))
        return real(entries, leaf_hashes)

    log.backend.append = counting  # type: ignore[method-assign]
    got: dict[bytes, int] = {}
    lock = threading.Lock()

    def work(t: int) -> None:
        for i in range(40):
            e = f"t{t}-{i}".encode()
            idx = log.append(e)
            with lock:
                got[e] = idx

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got.values()) == list(range(320))
    for e, idx in got.items():
        assert log.entry(idx).data == e
    assert sum(commits) == 320
    assert len(commits) < 320, "concurrent appends were never coalesced"
    assert log.root() == MemoryTree.from_entries([log.entry(i).data for i in range(320)]).root()


def test_checkpoint_api(log: Log) -> None:
    log.append_many(_entries(9))
    assert log.latest_checkpoint() is None and log.checkpoints() == []
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    cp4 = log.store_checkpoint(4, log.root(4), b"note-4\n", created_at=when)
    cp9 = log.store_checkpoint(9, log.root(9), b"note-9\n", timestamp_token=b"tst")
    assert log.checkpoint_at(4) == cp4 and cp4.created_at == when
    assert log.latest_checkpoint() == cp9
    assert [c.size for c in log.checkpoints()] == [4, 9]
    assert log.checkpoint_at(5) is None
    updated = log.update_checkpoint(4, cosignatures=b"cosig", note=b"note-4b\n")
    assert (updated.note, updated.cosignatures, updated.timestamp_token) == (
        b"note-4b\n",
        b"cosig",
        None,
    )
    with pytest.raises(CheckpointError, match="the log's is"):
        log.store_checkpoint(5, log.root(4), b"wrong")
    with pytest.raises(InvalidSizeError):
        log.store_checkpoint(10, log.root(9), b"future")
    with pytest.raises(CheckpointError, match="already stored"):
        log.store_checkpoint(9, log.root(9), b"again")
    with pytest.raises(LedgerError, match="no checkpoint at size 5"):
        log.update_checkpoint(5, cosignatures=b"x")


def _run_writers(url: str, procs: int, count: int, threads: int = 1) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    runs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), url, f"p{k}", str(count), str(threads)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(procs)
    ]
    lines: list[str] = []
    for r in runs:
        out, _ = r.communicate(timeout=120)
        assert r.returncode == 0
        lines += out.splitlines()
    return lines


def test_writer_processes_never_duplicate_or_skip(ledger_url: str) -> None:
    with Log.open(ledger_url):
        pass  # create the schema once, as a deployment would
    lines = _run_writers(ledger_url, procs=4, count=60, threads=2)
    acked = {int(i): e for i, e in (line.split(" ", 1) for line in lines)}
    assert len(lines) == len(acked) == 240, "an index was handed out twice"
    assert sorted(acked) == list(range(240)), "an index is missing"
    with Log.open(ledger_url) as log:
        assert log.size == 240
        for i, e in acked.items():
            assert log.entry(i).data == e.encode()
        data = [log.entry(i).data for i in range(240)]
        assert log.root() == MemoryTree.from_entries(data).root()


def test_strata_storage_serves_every_level(log: Log) -> None:
    # Only every 4th level is stored; nodes in between are recomputed from <= 8 stored ones.
    data = _entries(1100)
    for lo in range(0, 1100, 137):
        log.append_many(data[lo : lo + 137])
    tree = MemoryTree.from_entries(data)
    for level in range(len(tree.levels)):
        ids = [(level, i) for i in range(0, len(tree.levels[level]), 3)]
        assert list(log.get_nodes(ids)) == [tree.levels[lv][i] for lv, i in ids]
    for index, size in [(0, 1100), (1099, 1100), (517, 1024), (1023, 1025), (640, 777)]:
        assert log.inclusion_proof(index, size) == tree.inclusion_proof(index, size)
    for size1, size2 in [(1, 1100), (1024, 1100), (513, 1031), (777, 1099)]:
        assert log.consistency_proof(size1, size2) == tree.consistency_proof(size1, size2)
    stored = {lv for lv in range(12) if log.backend.read_nodes(lv, 0, 1)}
    assert stored == {4, 8}


def test_a_failed_commit_acknowledges_nothing(log: Log) -> None:
    log.append(b"before")

    def broken(entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> int:
        raise OSError("disk full")

    real = log.backend.append
    log.backend.append = broken  # type: ignore[method-assign]
    with pytest.raises(StorageError, match="append failed: disk full") as err:
        log.append_many([b"a", b"b"])
    assert isinstance(err.value.__cause__, OSError)
    log.backend.append = real  # type: ignore[method-assign]
    assert log.size == 1 and log.append(b"after") == 1
