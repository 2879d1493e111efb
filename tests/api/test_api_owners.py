"""Process liveness locks (rsrp.api._owners) held by real processes, killed with SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.api.conftest import service_settings

from rsrp.api import create_app
from rsrp.api._owners import OwnerLock

SRC = Path(__file__).resolve().parents[2] / "src"

_HOLDER = (
    "import sys, time\n"
    "from rsrp.api._owners import OwnerLock\n"
    "lock = OwnerLock(sys.argv[1])\n"
    "print(lock.owner, flush=True)\n"
    "time.sleep(120)\n"
)


def _holder(db_url: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, db_url],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(SRC)},
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _until_dead(probe: OwnerLock, owner: str, timeout: float = 10) -> None:
    # PostgreSQL ends a killed client's session (and frees its locks) asynchronously.
    deadline = time.monotonic() + timeout
    while probe.alive(owner):
        assert time.monotonic() < deadline, f"{owner} still alive after its process died"
        time.sleep(0.05)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_api_owners_alive_until_sigkill(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    db_url = (
        f"sqlite:///{tmp_path}/rsrp.db"
        if kind == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    procs = [_holder(db_url) for _ in range(2)]
    probe = OwnerLock(db_url)
    try:
        (killed, dead), (_, live) = procs
        assert len({dead, live, probe.owner}) == 3
        assert probe.alive(dead) and probe.alive(live) and probe.alive(probe.owner)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        _until_dead(probe, dead)
        assert probe.alive(live)  # the other process still holds its lock
        assert not probe.alive("0" * 32)  # nobody ever held it
        probe.check(probe.owner)  # still ours
        if kind == "sqlite":
            owners = tmp_path / "rsrp.owners"
            assert sorted(p.stem for p in owners.glob("*.lock")) == sorted([live, probe.owner])
    finally:
        for proc, _ in procs:
            proc.kill()
            proc.wait()
        probe.close()


def test_api_owners_start_up_forgets_dead_processes_files(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/rsrp.db"
    proc, dead = _holder(db_url)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    owners = tmp_path / "rsrp.owners"
    assert (owners / f"{dead}.lock").exists()  # SIGKILL ran no clean-up
    lock = OwnerLock(db_url)
    try:
        assert [p.stem for p in owners.glob("*.lock")] == [lock.owner]
    finally:
        lock.close()
    assert list(owners.glob("*.lock")) == []  # a clean close removes its own


def test_api_owners_lock_kept_while_a_conclusion_is_under_way(tmp_path: Path) -> None:
    """Shutdown releases the lock only once no conclusion is mid-way (else another replica
    could take it over and log it a second time)."""
    service = create_app(service_settings(tmp_path)).state.service
    probe = OwnerLock(service.settings.database.url)
    owner = service.approvals.owners.owner
    try:
        with service.approvals._working("some-approval") as free:
            assert free
            service.approvals.close(wait_s=0.2)
            assert probe.alive(owner)  # kept: the conclusion is still under way
        service.approvals.close(wait_s=0.2)
        assert not probe.alive(owner)
    finally:
        service.close()
        probe.close()
