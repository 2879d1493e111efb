"""Property tests from the OpenAPI document (schemathesis): no input yields a 5xx.

The app is called in process through ASGI; a thin wrapper sets the TLS extension
the mTLS protocol would set (that protocol is tested over real TLS elsewhere), as
a principal holding all four roles, so every endpoint's handler is exercised.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from tests.api.conftest import service_settings

from rsrp.api import PeerCertificate, create_app

ALL_ROLES = ["agent", "supervisor", "auditor", "admin"]


def _app(tmp: Path) -> Any:
    app = create_app(service_settings(tmp, auth={"principals": {"supervisor-001": ALL_ROLES}}))
    peer = PeerCertificate("supervisor-001", "CN=supervisor-001", "00")

    async def with_peer(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            # One service for the whole module: per-call lifespans must not close it.
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        scope["extensions"] = {"tls": {"rsrp_peer": peer}}
        await app(scope, receive, send)

    with_peer.openapi = app.openapi  # type: ignore[attr-defined]
    return with_peer, app


_TMP = Path(__import__("tempfile").mkdtemp(prefix="rsrp-schemathesis-"))
_ASGI, _APP = _app(_TMP)
schema = schemathesis.openapi.from_dict(_APP.openapi())
schema.app = _ASGI  # type: ignore[attr-defined]


def test_api_schemathesis_openapi_document_is_served() -> None:
    doc = _APP.openapi()
    paths = set(doc["paths"])
    assert {
        "/v1/decisions",
        "/v1/decisions/{request_id}/receipt",
        "/v1/approvals/{decision_id}",
        "/v1/keys",
        "/v1/keys/journal",
        "/v1/keys/{key_id}/rotate",
    } <= paths
    schemas = doc["components"]["schemas"]
    assert schemas["DecisionIn"]["additionalProperties"] is False
    # Expiries are visible: approval statuses, resolution ids, key output without secrets.
    assert "EXPIRED" in schemas["ApprovalOut"]["properties"]["status"]["enum"]
    assert {"resolved_by", "resolution_id"} <= set(schemas["ApprovalOut"]["properties"])
    assert {"approval_status", "resolution_id"} <= set(schemas["DecisionRecordOut"]["properties"])
    key_fields = set(schemas["KeyOut"]["properties"])
    assert {"key_id", "state", "public_key_pem", "vkey", "in_use"} <= key_fields
    assert not any("private" in f or "secret" in f for f in key_fields)
    status = next(
        p for p in doc["paths"]["/v1/approvals"]["get"]["parameters"] if p["name"] == "status"
    )
    assert status["in"] == "query"


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_schemathesis_no_server_errors(case: Any) -> None:
    response = case.call(app=_ASGI)
    assert response.status_code < 500 or (case.path == "/readyz" and response.status_code == 503), (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    assert "Traceback (most recent call last)" not in response.text
