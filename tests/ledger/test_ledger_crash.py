"""SIGKILL writer processes mid-append, many times: no acknowledged entry is ever lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rsrp.ledger import Log, audit

WRITER = Path(__file__).with_name("ledger_writer.py")
ROOT = Path(__file__).resolve().parents[2]  # the checkout: its src/ goes first on the path
ROUNDS = 20
WRITERS = 3


def _spawn(url: str, tag: str, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    with out.open("wb") as sink:  # a file: what was written before the kill stays readable
        return subprocess.Popen(
            [sys.executable, str(WRITER), url, tag, "100000000", "2"], stdout=sink, env=env
        )


def _wait_started(outs: list[Path], timeout: float = 20) -> None:
    # One acknowledged append means the writers are past start-up. (SQLite's busy handler is
    # not fair, so waiting for every writer could take long; who writes does not matter.)
    end = time.monotonic() + timeout
    while not any(o.stat().st_size for o in outs):
        assert time.monotonic() < end, "writers did not start appending"
        time.sleep(0.005)


def _acked(out: str) -> list[tuple[int, str]]:
    # A line counts only if complete: the writer prints it after append() returned.
    lines = out.split("\n")[:-1]
    return [(int(i), e) for i, e in (line.split(" ", 1) for line in lines)]


@pytest.mark.slow
def test_sigkill_never_loses_an_acknowledged_entry(ledger_url: str, tmp_path: Path) -> None:
    rng = random.Random(6962)
    with Log.open(ledger_url):
        pass  # schema exists before the first kill
    acked: dict[int, str] = {}
    deadline = time.monotonic() + 75
    rounds = 0
    while rounds < ROUNDS and time.monotonic() < deadline:
        outs = [tmp_path / f"r{rounds}w{k}.out" for k in range(WRITERS)]
        procs = [_spawn(ledger_url, f"r{rounds}w{k}", o) for k, o in enumerate(outs)]
        _wait_started(outs)
        time.sleep(rng.uniform(0.0, 0.1))
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p, out in zip(procs, outs, strict=True):
            assert p.wait(timeout=30) == -signal.SIGKILL
            for index, entry in _acked(out.read_text()):
                assert index not in acked, f"index {index} acknowledged twice"
                acked[index] = entry
        rounds += 1
    assert rounds >= 5 and len(acked) > rounds * WRITERS
    with Log.open(ledger_url) as log:
        size = log.size
        assert max(acked) < size
        for index, entry in acked.items():
            assert log.entry(index).data == entry.encode(), f"entry {index} lost or changed"
        report = audit(log.backend)  # every leaf, node and root recomputed
        assert report.size == size and report.root == log.root()
