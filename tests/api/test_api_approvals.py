"""Approval flow, admin changes taking effect, metrics and readiness on the real service."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import Running, service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app
from rsrp.api.devpki import issue_client, load_ca
from rsrp.context import Agent, Level, Mission, MissionStatus, Perimeter


def _until_approval(c: httpx.Client) -> dict[str, object]:
    # 30 granted requests with >= 10 results each, then the policy asks for approval.
    for _ in range(40):
        d: dict[str, object] = c.post(
            "/v1/decisions", json={**BODY, "request": {**BODY["request"], "limit": 20}}
        ).json()
        if d["decision"] == "APPROVAL_REQUIRED":
            return d
    raise AssertionError("no approval required after 40 requests")


def test_api_approvals_flow(running: Running) -> None:
    with running.client("agent-001") as agent:
        pending = _until_approval(agent)
    rid = str(pending["request_id"])
    assert pending["approval_expires_at"] is not None
    with running.client("supervisor-001") as sup:
        listed = sup.get("/v1/approvals").json()
        assert rid in [a["decision_id"] for a in listed]
        short = sup.post(f"/v1/approvals/{rid}", json={"decision": "APPROVE", "reason": "ok"})
        assert short.status_code == 422
        r = sup.post(
            f"/v1/approvals/{rid}",
            json={"decision": "APPROVE", "reason": "case 2026-0142 verified"},
        )
        assert r.status_code == 200, r.text
        a = r.json()
        assert (a["decision"], a["code"]) == ("ALLOW", "APPROVAL_GRANTED")
        assert a["ledger_index"] > pending["ledger_index"]  # type: ignore[operator]
        again = sup.post(
            f"/v1/approvals/{rid}", json={"decision": "REJECT", "reason": "changed my mind now"}
        )
        assert again.status_code == 409
        assert rid not in [x["decision_id"] for x in sup.get("/v1/approvals").json()]
        missing = sup.post(
            f"/v1/approvals/{uuid.uuid4()}",
            json={"decision": "APPROVE", "reason": "whatever it is"},
        )
        assert missing.status_code == 404
    with running.client("auditor-001") as aud:
        rec = aud.get(f"/v1/decisions/{a['request_id']}").json()
    assert (rec["kind"], rec["parent"], rec["agent_id"]) == ("approval", rid, "supervisor-001")


def test_api_approvals_four_eyes_and_expiry(tls_pki: PkiFiles, tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path, approvals={"timeout_s": 1}))
    with serve_app(app, tls_pki) as url:
        with httpx.Client(base_url=url, verify=tls_pki.context("supervisor-001")) as sup:
            own = _until_approval(sup)
            r = sup.post(
                f"/v1/approvals/{own['request_id']}",
                json={"decision": "APPROVE", "reason": "approving myself"},
            )
            assert r.status_code == 403
            assert "own request" in r.json()["detail"]
        with httpx.Client(base_url=url, verify=tls_pki.context("agent-001")) as agent:
            other = _until_approval(agent)
        time.sleep(1.2)
        with httpx.Client(base_url=url, verify=tls_pki.context("supervisor-001")) as sup:
            assert sup.get("/v1/approvals").json() == []
            r = sup.post(
                f"/v1/approvals/{other['request_id']}",
                json={"decision": "APPROVE", "reason": "too late for this"},
            )
        assert r.status_code == 409
        assert "expired" in r.json()["detail"]


def test_api_admin_suspension_takes_effect(running: Running) -> None:
    now = dt.datetime.now(dt.UTC)
    mission = {
        "agent": "agent-002", "status": "SUSPENDED", "timezone": "Europe/Paris",
        "start": (now - dt.timedelta(days=1)).isoformat(),
        "end": (now + dt.timedelta(days=1)).isoformat(),
        "hours_start": 0, "hours_end": 24, "departments": [75, 92],
    }  # fmt: skip
    with running.client("admin-1") as admin:
        r = admin.put("/v1/missions/M-2026-002", json=mission)
        assert r.status_code == 200, r.text
        bad = admin.put("/v1/missions/M-x", json={**mission, "timezone": "Nowhere/Town"})
        assert bad.status_code == 422
        assert "time zone" in bad.json()["detail"]
        assert (
            admin.put(
                "/v1/agents/ghost",
                json={"org": "nope", "level": "AGENT", "perimeter": "NATIONAL", "departments": []},
            ).status_code
            == 422
        )
    with running.client("agent-002") as c:
        d = c.post(
            "/v1/decisions", json={**BODY, "request": {**BODY["request"], "account_department": 92}}
        ).json()
    assert (d["decision"], d["code"]) == ("BLOCK", "MISSION_INACTIVE")


def test_api_metrics_and_readiness(running: Running) -> None:
    with running.client("agent-001") as c:
        c.post("/v1/decisions", json=BODY)
    with running.client("auditor-001") as aud:
        text = aud.get("/metrics").text
        ready = aud.get("/readyz")
    assert 'rsrp_decisions_total{code="ACCESS_GRANTED",outcome="ALLOW"}' in text
    assert "rsrp_decision_latency_seconds_bucket" in text
    assert "rsrp_ledger_size" in text and "rsrp_checkpoint_age_seconds" in text
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["keys"] == "ok"
    assert ready.json()["checks"]["selftests"] == "ok"


@pytest.mark.parametrize("rate", [2])
def test_api_rate_limit_per_identity(tls_pki: PkiFiles, tmp_path: Path, rate: int) -> None:
    app = create_app(service_settings(tmp_path, limits={"rate_per_second": 0.5, "burst": rate}))
    with serve_app(app, tls_pki) as url:
        with httpx.Client(base_url=url, verify=tls_pki.context("auditor-001")) as c:
            codes = [c.get("/v1/incidents").status_code for _ in range(rate + 1)]
        with httpx.Client(base_url=url, verify=tls_pki.context("admin-1")) as other:
            assert other.get("/v1/incidents").status_code == 200  # a separate bucket
    assert codes == [200] * rate + [429]


def test_api_approvals_other_organisation_is_refused(running: Running) -> None:
    now = dt.datetime.now(dt.UTC)
    reg = running.app.state.service.registry
    reg.put_agent(Agent("agent-t1", "tracfin", Level.AGENT, Perimeter.NATIONAL, frozenset()))
    reg.put_mission(
        Mission("M-t1", "agent-t1", MissionStatus.ACTIVE, now - dt.timedelta(days=1),
                now + dt.timedelta(days=1), 0, 24, "Europe/Paris")
    )  # fmt: skip
    issue_client(load_ca(running.pki.directory), "agent-t1").write(
        running.pki.directory, "client-agent-t1"
    )
    with running.client("agent-t1") as c:
        pending = _until_approval(c)
    with running.client("supervisor-001") as sup:  # dgfip
        r = sup.post(
            f"/v1/approvals/{pending['request_id']}",
            json={"decision": "APPROVE", "reason": "not my organisation"},
        )
    assert r.status_code == 403
    assert "own organisation" in r.json()["detail"]
