"""mTLS on a real uvicorn server: only certificates from the configured CA get in."""

from __future__ import annotations

import httpx
import pytest
from tests.api.conftest import Running

BODY = {
    "request": {
        "query_type": "ACCOUNT_DETAILS",
        "justification": "Enquete fiscale 2026-0142",
        "export_format": "NONE",
        "limit": 5,
        "account_department": 75,
        "legal_basis": "LPF L81",
        "expected_duration_ms": 100,
    },
    "account": "FR7630006000011234567890189",
}


def test_api_mtls_valid_client_decides(running: Running) -> None:
    with running.client("agent-001") as c:
        r = c.post("/v1/decisions", json=BODY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "ALLOW"
    assert body["mission_id"] == "M-2026-001"
    assert body["ledger_index"] >= 0


@pytest.mark.parametrize(
    "client",
    [None, "other-ca", "expired", "not-yet-valid", "server-eku"],
    ids=["no-cert", "other-ca", "expired", "not-yet-valid", "server-eku"],
)
def test_api_mtls_rejects_bad_client_certificates(running: Running, client: str | None) -> None:
    # TLS 1.3: the server's refusal of the client certificate arrives after the
    # client's handshake completes, so it shows on the first request.
    with (
        running.client(client) as c,
        pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)),
    ):
        c.get("/healthz")


def test_api_mtls_principal_without_role_is_forbidden(running: Running) -> None:
    with running.client("stranger") as c:
        r = c.post("/v1/decisions", json=BODY)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "requires one of the roles: agent" in r.json()["detail"]


def test_api_mtls_h11_protocol_also_passes_the_peer(tls_pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.api.conftest import service_settings
    from tests.fixtures.tls import serve_app

    from rsrp.api import MtlsH11Protocol, create_app

    app = create_app(service_settings(tmp_path))
    with (
        serve_app(app, tls_pki, http=MtlsH11Protocol) as url,
        httpx.Client(base_url=url, verify=tls_pki.context("agent-002")) as c,
    ):
        r = c.post(
            "/v1/decisions", json={**BODY, "request": {**BODY["request"], "account_department": 92}}
        )  # type: ignore[dict-item]
    assert r.status_code == 200, r.text
    assert r.json()["mission_id"] == "M-2026-002"
