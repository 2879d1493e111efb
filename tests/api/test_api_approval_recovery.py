"""A conclusion interrupted by a crash is finished exactly once: restarted, or by a replica.

Real ``rsrp serve`` processes stop dead (``os._exit``, as SIGKILL) at a named point
of the conclude path through the test-only ``RSRP_TEST_CRASH_AT`` hook:
``approval-claimed`` (claimed, nothing sealed), ``approval-sealed`` (envelope
recorded, not appended) and ``approval-logged`` (in the ledger, final status not
recorded). Each test first checks the crash left what that point should, then that
recovery ends with one concluding decision in the ledger, one recorded, and a ledger
that ``rsrp ledger verify`` accepts.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.api.api_procs import start_serve, stop, wait_ready, write_config
from tests.api.conftest import service_settings
from tests.api.test_api_approval_expiry import _wait_status
from tests.api.test_api_approvals import _until_approval
from tests.api.test_api_crash import _vkeys
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles
from typer.testing import CliRunner

from rsrp.api import create_app, load_settings
from rsrp.api._approvals import CRASH_ENV
from rsrp.api._pipeline import DecisionRequest
from rsrp.api._service import Service
from rsrp.api._wiring import open_keys
from rsrp.api.offline import verify_ledger
from rsrp.cli.main import app as cli
from rsrp.context import Database
from rsrp.ledger import Log
from rsrp.policy.decision import Outcome
from rsrp.proof import decode_envelope

CRASH_EXIT = 86
APPROVE = {"decision": "APPROVE", "reason": "case 2026-0142 verified"}


def _serve(
    config: Path, pki: PkiFiles, url: str, crash_at: str | None = None
) -> subprocess.Popen[bytes]:
    env = {CRASH_ENV: crash_at} if crash_at else {}
    proc = start_serve(config, config.with_suffix(".log"), env)
    wait_ready(url, pki, proc)
    return proc


def _conclusions(db_url: str, code: str) -> list[tuple[int, str]]:
    """(ledger index, request id) of every logged decision with reason ``code``."""
    with Log.open(db_url) as log:
        found = []
        for i in range(log.size):
            env = decode_envelope(log.entry(i).data)
            if env.reason_code == code:  # type: ignore[union-attr]
                found.append((i, str(env.request_id)))  # type: ignore[union-attr]
        return found


def _state(db_url: str, rid: str) -> tuple[str, str | None, int, int]:
    """(approval status, resolution id, conclusions in flight, recorded conclusions)."""
    db = Database(db_url)
    try:
        with db.transaction() as tx:
            status, resolution = tx.execute(
                "SELECT status, resolution_id FROM svc_approvals WHERE decision_id = ?", (rid,)
            )[0]
            flying = tx.execute("SELECT COUNT(*) FROM svc_conclusions")[0][0]
            recorded = tx.execute("SELECT COUNT(*) FROM svc_decisions WHERE parent = ?", (rid,))
        return str(status), resolution, int(flying), int(recorded[0][0])
    finally:
        db.close()


def _crash_on_approve(url: str, pki: PkiFiles, proc: subprocess.Popen[bytes], rid: str) -> None:
    with (
        httpx.Client(base_url=url, verify=pki.context("supervisor-001"), timeout=10) as sup,
        contextlib.suppress(httpx.HTTPError),
    ):
        r = sup.post(f"/v1/approvals/{rid}", json=APPROVE)
        raise AssertionError(f"the armed server answered {r.status_code}: {r.text}")
    assert proc.wait(timeout=10) == CRASH_EXIT


def _check_crashed(db_url: str, rid: str, point: str, code: str) -> str:
    """The crash left the approval RESOLVING with its conclusion's id recorded; logged
    only past ``approval-logged``. Returns that id."""
    status, resolution, flying, recorded = _state(db_url, rid)
    assert (status, flying, recorded) == ("RESOLVING", 1, 0)
    assert resolution is not None
    logged = _conclusions(db_url, code)
    assert [r for _, r in logged] == ([resolution] if point == "approval-logged" else [])
    return resolution


def _check_concluded_once(db_url: str, rid: str, resolution: str, code: str) -> int:
    status, final_id, flying, recorded = _state(db_url, rid)
    assert (final_id, flying, recorded) == (resolution, 0, 1)
    assert status == {"APPROVAL_GRANTED": "APPROVED", "APPROVAL_EXPIRED": "EXPIRED"}[code]
    logged = _conclusions(db_url, code)
    assert [r for _, r in logged] == [resolution]  # exactly one, under the claimed id
    db = Database(db_url)
    try:
        with db.transaction() as tx:
            (index,) = tx.execute(
                "SELECT ledger_index FROM svc_decisions WHERE request_id = ?", (resolution,)
            )[0]
            total = tx.execute("SELECT COUNT(*) FROM svc_decisions")[0][0]
            incidents = tx.execute(
                "SELECT stage, code FROM svc_incidents WHERE request_id = ?", (resolution,)
            )
    finally:
        db.close()
    assert int(index) == logged[0][0]
    assert incidents == [("approval", "APPROVAL_RECOVERED")]  # auditors see the recovery
    with Log.open(db_url) as log:
        assert log.size == int(total)  # every entry recorded: no second conclusion slipped in
    return int(index)


def _verified(db_url: str, target: str, config: Path) -> None:
    """``rsrp ledger verify`` and the offline envelope check accept the whole log."""
    vkeys = _vkeys(config)
    deadline = time.monotonic() + 15
    with Log.open(db_url) as log:
        while (cp := log.latest_checkpoint()) is None or cp.size < log.size:
            assert time.monotonic() < deadline, "no checkpoint covers the log"
            time.sleep(0.05)
    args = ["ledger", "verify", target, *(a for v in vkeys for a in ("--vkey", v))]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    verify_ledger(db_url, vkeys)


@contextlib.contextmanager
def _configured(
    pki: PkiFiles, tmp: Path, db_url: str, names: tuple[str, ...], extra: str = ""
) -> Iterator[list[tuple[Path, str]]]:
    configs = [tmp / f"{n}.toml" for n in names]
    ports = [write_config(c, pki, db_url, tmp / "keys", extra=extra) for c in configs]
    open_keys(load_settings(configs[0]), "FR")  # one key set for every process
    yield [(c, f"https://127.0.0.1:{p}") for c, p in zip(configs, ports, strict=True)]


POINTS = ["approval-claimed", "approval-sealed", "approval-logged"]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_api_approval_recovery_on_restart_sqlite(
    tls_pki: PkiFiles, tmp_path: Path, point: str
) -> None:
    db_url = f"sqlite:///{tmp_path}/rsrp.db"
    with _configured(tls_pki, tmp_path, db_url, ("serve",)) as [(config, url)]:
        proc = _serve(config, tls_pki, url, crash_at=point)
        try:
            with httpx.Client(base_url=url, verify=tls_pki.context("agent-001")) as agent:
                rid = str(_until_approval(agent)["request_id"])
            _crash_on_approve(url, tls_pki, proc, rid)
        finally:
            stop(proc)
        resolution = _check_crashed(db_url, rid, point, "APPROVAL_GRANTED")
        proc = _serve(config, tls_pki, url)  # recovers at start-up, before serving
        try:
            with httpx.Client(base_url=url, verify=tls_pki.context("auditor-001")) as aud:
                row = _wait_status(aud, rid, "APPROVED", timeout=5)
                assert (row["resolved_by"], row["resolution_id"]) == ("supervisor-001", resolution)
                record = aud.get(f"/v1/decisions/{resolution}").json()
            assert (record["decision"], record["code"], record["parent"]) == (
                "ALLOW",
                "APPROVAL_GRANTED",
                rid,
            )
            index = _check_concluded_once(db_url, rid, resolution, "APPROVAL_GRANTED")
            assert record["ledger_index"] == index
            _verified(db_url, str(tmp_path / "rsrp.db"), config)
        finally:
            stop(proc)


@pytest.mark.slow
def test_api_approval_recovery_of_a_crashed_expiry_sqlite(
    tls_pki: PkiFiles, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path}/rsrp.db"
    extra = "[approvals]\ntimeout_s = 1\nsweep_interval_s = 0.1\n"
    with _configured(tls_pki, tmp_path, db_url, ("serve",), extra) as [(config, url)]:
        proc = _serve(config, tls_pki, url, crash_at="approval-sealed")
        try:
            with httpx.Client(base_url=url, verify=tls_pki.context("agent-001")) as agent:
                rid = str(_until_approval(agent)["request_id"])
            assert proc.wait(timeout=15) == CRASH_EXIT  # its own sweep hit the crash point
        finally:
            stop(proc)
        resolution = _check_crashed(db_url, rid, "approval-sealed", "APPROVAL_EXPIRED")
        proc = _serve(config, tls_pki, url)
        try:
            _check_concluded_once(db_url, rid, resolution, "APPROVAL_EXPIRED")
            _verified(db_url, str(tmp_path / "rsrp.db"), config)
        finally:
            stop(proc)


def _db_url(kind: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/rsrp.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "point"),
    [
        ("sqlite", "approval-claimed"),
        ("sqlite", "approval-logged"),
        pytest.param("postgres", "approval-sealed", marks=pytest.mark.postgres),
        pytest.param("postgres", "approval-logged", marks=pytest.mark.postgres),
    ],
)
def test_api_approval_recovery_by_the_other_replica(
    tls_pki: PkiFiles, tmp_path: Path, kind: str, point: str, request: pytest.FixtureRequest
) -> None:
    """Replica a dies mid-conclusion; replica b, still running, finishes it in its sweep."""
    db_url = _db_url(kind, tmp_path, request)
    extra = "[approvals]\nsweep_interval_s = 0.1\n"
    with _configured(tls_pki, tmp_path, db_url, ("a", "b"), extra) as [(ca, ua), (cb, ub)]:
        procs = [_serve(ca, tls_pki, ua, crash_at=point), _serve(cb, tls_pki, ub)]
        try:
            with httpx.Client(base_url=ub, verify=tls_pki.context("agent-001")) as agent:
                rid = str(_until_approval(agent)["request_id"])
            _crash_on_approve(ua, tls_pki, procs[0], rid)
            with httpx.Client(base_url=ub, verify=tls_pki.context("auditor-001")) as aud:
                row = _wait_status(aud, rid, "APPROVED", timeout=10)
            assert row["resolved_by"] == "supervisor-001"
            _check_concluded_once(db_url, rid, str(row["resolution_id"]), "APPROVAL_GRANTED")
            target = str(tmp_path / "rsrp.db") if kind == "sqlite" else db_url
            _verified(db_url, target, ca)
        finally:
            for proc in procs:
                stop(proc)


def _pending_approval(service: Service) -> str:
    fields = {**BODY["request"], "limit": 20}  # type: ignore[dict-item]
    for _ in range(40):
        req = DecisionRequest("agent-001", None, str(BODY["account"]), fields, 20)
        d = service.pipeline.decide(req)
        if d.decision.outcome is Outcome.APPROVAL_REQUIRED:
            return d.request_id
    raise AssertionError("no approval required after 40 requests")


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_api_approval_recovery_never_overtakes_a_live_owner(
    tls_pki: PkiFiles, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """A claim whose owner is alive, however old, is left alone; once the owner's lock is
    gone it is concluded by the other service, once."""
    db_url = _db_url(kind, tmp_path, request)
    # No sweeps of their own: only the explicit recover() calls below act.
    settings = service_settings(
        tmp_path, database={"url": db_url}, approvals={"sweep_interval_s": 3600}
    )
    a, b, c = (create_app(settings).state.service for _ in range(3))
    try:
        rid = _pending_approval(a)
        owner = a.approvals.owners.owner
        claimed = a.approvals.conclusions.claim(
            rid, ("supervisor-001", "REJECTED", "claimed, then stalled"), a.pipeline.clock(), owner
        )
        assert claimed is not None
        assert b.approvals.recover() == 0  # a lives: never taken over, however long it takes
        assert _state(db_url, rid)[:3] == ("RESOLVING", claimed, 1)
        a.approvals.owners.close()  # as its death would
        # Two services recover at once: the take-over is one conditional UPDATE, one wins.
        with ThreadPoolExecutor(2) as pool:
            counts = list(pool.map(lambda s: s.approvals.recover(), [b, c]))
        assert sorted(counts) == [0, 1]
        assert b.approvals.recover() == c.approvals.recover() == 0
        assert _state(db_url, rid) == ("REJECTED", claimed, 0, 1)
        assert [r for _, r in _conclusions(db_url, "APPROVAL_REJECTED")] == [claimed]
    finally:
        for service in (a, b, c):
            service.close()
