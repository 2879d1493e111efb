"""An approval nobody decides in time is concluded by a logged BLOCK APPROVAL_EXPIRED,
exactly once, also with two ``rsrp serve`` processes sweeping one PostgreSQL database."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest
from tests.api.api_procs import replicas
from tests.api.conftest import service_settings
from tests.api.test_api_approvals import _until_approval
from tests.api.test_api_crash import _vkeys
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app
from rsrp.api._models import EXPIRY_ACTOR
from rsrp.api.offline import verify_ledger
from rsrp.context import Database
from rsrp.ledger import Log
from rsrp.policy.decision import Outcome
from rsrp.proof import decode_envelope


def _expiries(db: Database) -> dict[str, int]:
    """Parent request id → number of APPROVAL_EXPIRED decisions recorded for it."""
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT parent, COUNT(*) FROM svc_decisions WHERE code = 'APPROVAL_EXPIRED'"
            " GROUP BY parent"
        )
    return {p: int(n) for p, n in rows}


def _wait_status(c: httpx.Client, rid: str, status: str, timeout: float = 15) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for a in c.get("/v1/approvals", params={"status": "ALL", "limit": 1000}).json():
            if a["decision_id"] == rid and a["status"] == status:
                return a  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"approval {rid} never became {status}")


def test_api_approval_expiry_is_a_logged_decision(tls_pki: PkiFiles, tmp_path: Path) -> None:
    settings = service_settings(tmp_path, approvals={"timeout_s": 1, "sweep_interval_s": 0.1})
    app = create_app(settings)
    with serve_app(app, tls_pki) as url:
        with httpx.Client(base_url=url, verify=tls_pki.context("agent-001")) as agent:
            pending = _until_approval(agent)
        rid = str(pending["request_id"])
        with httpx.Client(base_url=url, verify=tls_pki.context("auditor-001")) as aud:
            # Nobody reads or resolves it: the sweeper alone concludes it.
            time.sleep(1.5)
            listed = _wait_status(aud, rid, "EXPIRED", timeout=5)
            assert listed["resolved_by"] == EXPIRY_ACTOR
            res_id = str(listed["resolution_id"])
            assert aud.get("/v1/approvals").json() == []  # nothing PENDING any more
            expired = aud.get("/v1/approvals", params={"status": "EXPIRED"}).json()
            assert [a["decision_id"] for a in expired] == [rid]
            original = aud.get(f"/v1/decisions/{rid}").json()
            assert (original["approval_status"], original["resolution_id"]) == ("EXPIRED", res_id)
            record = aud.get(f"/v1/decisions/{res_id}").json()
            metrics = aud.get("/metrics").text
        assert 'rsrp_decisions_total{code="APPROVAL_EXPIRED",outcome="BLOCK"} 1.0' in metrics
        assert (record["decision"], record["code"], record["kind"], record["parent"]) == (
            "BLOCK",
            "APPROVAL_EXPIRED",
            "approval",
            rid,
        )
        assert record["agent_id"] == EXPIRY_ACTOR
        assert record["ledger_index"] > pending["ledger_index"]
        # The logged envelope is the expiry itself, not a copy of the request.
        env = decode_envelope(base64.b64decode(record["envelope"]))
        assert (env.decision, env.reason_code, env.request_id) == (  # type: ignore[union-attr]
            Outcome.BLOCK,
            "APPROVAL_EXPIRED",
            res_id,
        )
        with httpx.Client(base_url=url, verify=tls_pki.context("agent-001")) as agent:
            # The requester sees how their request ended; another agent does not.
            assert agent.get(f"/v1/decisions/{res_id}").json()["code"] == "APPROVAL_EXPIRED"
        with httpx.Client(base_url=url, verify=tls_pki.context("agent-002")) as other:
            assert other.get(f"/v1/decisions/{res_id}").status_code == 404
        with httpx.Client(base_url=url, verify=tls_pki.context("supervisor-001")) as sup:
            late = sup.post(
                f"/v1/approvals/{rid}", json={"decision": "APPROVE", "reason": "too late for this"}
            )
            assert late.status_code == 409 and "expired" in late.json()["detail"]
            assert sup.get("/v1/approvals", params={"status": "NOPE"}).status_code == 422
        service = app.state.service
        assert service.approvals.expire_due() == []  # nothing twice
        assert _expiries(service.db) == {rid: 1}


def test_api_approval_decided_in_time_never_expires(tls_pki: PkiFiles, tmp_path: Path) -> None:
    settings = service_settings(tmp_path, approvals={"timeout_s": 2, "sweep_interval_s": 0.1})
    app = create_app(settings)
    with serve_app(app, tls_pki) as url:
        with httpx.Client(base_url=url, verify=tls_pki.context("agent-001")) as agent:
            rid = str(_until_approval(agent)["request_id"])
        with httpx.Client(base_url=url, verify=tls_pki.context("supervisor-001")) as sup:
            r = sup.post(
                f"/v1/approvals/{rid}", json={"decision": "REJECT", "reason": "no legal basis here"}
            )
            assert r.status_code == 200, r.text
            time.sleep(2.5)
            done = sup.get("/v1/approvals", params={"status": "REJECTED"}).json()
        assert [(a["decision_id"], a["resolved_by"]) for a in done] == [(rid, "supervisor-001")]
        assert _expiries(app.state.service.db) == {}


@pytest.mark.slow
@pytest.mark.postgres
def test_api_approval_expiry_once_across_two_replicas(
    tls_pki: PkiFiles, tmp_path: Path, postgres_url: str
) -> None:
    extra = "[approvals]\ntimeout_s = 2\nsweep_interval_s = 0.05\n"
    with replicas(tls_pki, tmp_path, postgres_url, extra=extra) as (urls, configs):
        with httpx.Client(base_url=urls[0], verify=tls_pki.context("agent-001")) as agent:
            first = _until_approval(agent)
            body = {**BODY, "request": {**BODY["request"], "limit": 20}}  # type: ignore[dict-item]
            more = [agent.post("/v1/decisions", json=body).json() for _ in range(5)]
        ids = {str(first["request_id"])} | {
            d["request_id"] for d in more if d["decision"] == "APPROVAL_REQUIRED"
        }
        assert len(ids) >= 3
        # Both replicas sweep every 50 ms and both are asked for the list meanwhile.
        clients = [httpx.Client(base_url=u, verify=tls_pki.context("auditor-001")) for u in urls]
        try:
            deadline = time.monotonic() + 20
            while True:
                rows = [
                    a
                    for c in clients
                    for a in c.get("/v1/approvals", params={"status": "EXPIRED"}).json()
                ]
                if {a["decision_id"] for a in rows} >= ids or time.monotonic() > deadline:
                    break
        finally:
            for c in clients:
                c.close()
    db = Database(postgres_url)
    with db.transaction() as tx:
        recorded = int(tx.execute("SELECT COUNT(*) FROM svc_decisions")[0][0])
    assert _expiries(db) == dict.fromkeys(ids, 1)
    db.close()
    with Log.open(postgres_url) as log:
        size = log.size
        logged = [decode_envelope(log.entry(i).data) for i in range(size)]
    # Every ledger entry is a recorded decision: no unrecorded second expiry slipped in.
    assert size == recorded
    codes = [e.reason_code for e in logged if e.decision is Outcome.BLOCK]  # type: ignore[union-attr]
    assert codes.count("APPROVAL_EXPIRED") == len(ids)
    verify_ledger(postgres_url, _vkeys(configs[0]))
