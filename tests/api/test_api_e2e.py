"""End to end with the real stages: decide over mTLS → receipt → offline verification."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import Running, service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app
from typer.testing import CliRunner

from rsrp.api import create_app
from rsrp.api.offline import verify_ledger, verify_receipt
from rsrp.cli.main import app
from rsrp.crypto import load_public_key
from rsrp.errors import LedgerError, ProofError
from rsrp.proof import CryptoKeyVerifier, KeyEntry, StaticKeyring, verify_envelope


def _receipt(c: httpx.Client, request_id: str) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        r = c.get(f"/v1/decisions/{request_id}/receipt")
        if r.status_code != 404 or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_api_e2e_decide_receipt_verify(running: Running, tmp_path: Path) -> None:
    with running.client("agent-001") as c:
        r = c.post("/v1/decisions", json=BODY)
        assert r.status_code == 200, r.text
        d = r.json()
        assert (d["decision"], d["code"], d["signing_mode"]) == ("ALLOW", "ACCESS_GRANTED", "batch")
        assert d["matched"] == ["CRUE_GRANT"]
        rec = _receipt(c, d["request_id"])
    assert rec.status_code == 200, rec.text
    body = rec.json()
    envelope = base64.b64decode(body["envelope"])
    assert envelope == base64.b64decode(d["envelope"])
    verified = verify_receipt(envelope, body["proof"], [running.vkey], origin="rsrp.local/FR")
    env = verified.envelope
    assert verified.evidence == "inclusion"
    assert env.request_id == d["request_id"]  # type: ignore[union-attr]
    assert env.state_hash.hex() == d["state_hash"]
    # Tampering with the envelope or the proof is caught offline.
    with pytest.raises((LedgerError, ProofError)):
        verify_receipt(envelope[:-1] + bytes([envelope[-1] ^ 1]), body["proof"], [running.vkey])
    with pytest.raises(LedgerError):
        verify_receipt(envelope, body["proof"].replace("index ", "index 9"), [running.vkey])
    with pytest.raises(LedgerError, match="first line"):
        verify_receipt(envelope, body["proof"][1:], [running.vkey])
    # The receipt file verifies with the ledger's own CLI, offline.
    path = tmp_path / "decision.rsrp-receipt"
    path.write_text(body["receipt"])
    cli = CliRunner().invoke(app, ["receipt", "verify", str(path), "--vkey", running.vkey])
    assert cli.exit_code == 0, cli.output


def test_api_e2e_server_side_counters_and_policy(running: Running) -> None:
    with running.client("agent-002") as c:
        # Regional agent: the mission narrows departments to {75, 92}.
        ok = c.post(
            "/v1/decisions", json={**BODY, "request": {**BODY["request"], "account_department": 92}}
        )
        out = c.post(
            "/v1/decisions", json={**BODY, "request": {**BODY["request"], "account_department": 93}}
        )
    assert ok.json()["decision"] == "ALLOW", ok.text
    assert (out.json()["decision"], out.json()["code"]) == ("BLOCK", "SCOPE_VIOLATION")
    with running.client("agent-003") as c:  # suspended mission
        r = c.post("/v1/decisions", json=BODY)
    assert (r.json()["decision"], r.json()["code"]) == ("BLOCK", "MISSION_INACTIVE")


def test_api_e2e_body_cannot_set_server_fields(running: Running) -> None:
    with running.client("agent-001") as c:
        for extra in ({"counters": {"requests_1h": 0}}, {"agent": {"id": "x"}}):
            r = c.post("/v1/decisions", json={**BODY, **extra})
            assert r.status_code == 422, r.text
        r = c.post(
            "/v1/decisions",
            json={**BODY, "request": {**BODY["request"], "time": "2026-01-01T10:00:00Z"}},
        )
    # request.time is the server clock: a body naming it is a logged BLOCK.
    assert (r.status_code, r.json()["code"]) == (200, "INPUT_INVALID")


def test_api_e2e_whole_ledger_verifies_offline(running: Running) -> None:
    with running.client("agent-001") as c:
        for _ in range(3):
            assert c.post("/v1/decisions", json=BODY).status_code == 200
        last = c.post("/v1/decisions", json=BODY).json()
        assert _receipt(c, last["request_id"]).status_code == 200
    report = verify_ledger(running.settings.database.url, [running.vkey])
    assert report.checkpoint_size >= last["ledger_index"] + 1
    assert report.outcomes.get("ALLOW", 0) >= 4
    assert report.evidence == {"inclusion": report.checkpoint_size}


def test_api_e2e_per_decision_composite_envelopes(tls_pki: PkiFiles, tmp_path: Path) -> None:
    settings = service_settings(
        tmp_path,
        keys={
            "store": f"file:{tmp_path}/keys?jurisdiction=FR",
            "passphrase": "test passphrase",
            "signing_mode": "per-decision",
        },
    )
    app = create_app(settings)
    signer = app.state.service.stages.proof.signer
    ring = StaticKeyring(
        [KeyEntry(CryptoKeyVerifier(load_public_key(signer.public_key_der()), signer.key_id))]
    )
    with (
        serve_app(app, tls_pki) as url,
        httpx.Client(base_url=url, verify=tls_pki.context("agent-001"), timeout=20) as c,
    ):
        d = c.post("/v1/decisions", json=BODY).json()
    assert d["signing_mode"] == "per-decision"
    envelope = base64.b64decode(d["envelope"])
    verified = verify_envelope(envelope, ring)  # its own signature, no ledger needed
    assert (verified.evidence, verified.algorithm) == ("signature", "mldsa65-ecdsa-p384-sha512")
    flipped = envelope[:40] + bytes([envelope[40] ^ 1]) + envelope[41:]
    with pytest.raises(ProofError):
        verify_envelope(flipped, ring)
