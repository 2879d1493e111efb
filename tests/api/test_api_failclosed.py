"""Fail closed: hostile bodies get precise 4xx; stage failures are BLOCK + incident; no leaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.api.conftest import Running, service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app
from rsrp.errors import LedgerError

LEAKS = ("Traceback", "/src/rsrp/", ".py", 'File "', "sqlite3", "psycopg")


def _no_leak(text: str) -> None:
    for marker in LEAKS:
        assert marker not in text, text


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({**BODY, "extra": 1}, 422, "extra"),
        ({"request": {"Query": 1}}, 422, "request"),
        ({"request": {"limit": 1.5e400}}, 422, ""),
        ({"request": {"x": {"nested": 1}}}, 422, "request"),
        ({"request": {"x": "y" * 2001}}, 422, "request"),
        ({"request": {f"f{i}": 1 for i in range(65)}}, 422, "request"),
        ({**BODY, "mission_id": "../../etc"}, 422, "mission_id"),
        ([], 422, ""),
    ],
    ids=["extra", "field-name", "huge-number", "nested", "long", "too-many", "mission-id", "array"],
)
def test_api_failclosed_schema_errors(running: Running, body: Any, status: int, where: str) -> None:
    with running.client("agent-001") as c:
        r = c.post(
            "/v1/decisions",
            content=json.dumps(body).replace("Infinity", "1e400"),
            headers={"content-type": "application/json"},
        )
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    _no_leak(r.text)
    assert where in json.dumps(r.json().get("errors", []))


def test_api_failclosed_oversized_and_malformed(running: Running) -> None:
    with running.client("agent-001") as c:
        big = c.post(
            "/v1/decisions",
            content=b"{" + b" " * 70_000 + b"}",
            headers={"content-type": "application/json"},
        )
        bad = c.post(
            "/v1/decisions", content=b'{"request": {', headers={"content-type": "application/json"}
        )
    assert big.status_code == 413
    assert bad.status_code == 400  # not JSON: a syntax error (RFC 9110 §15.5.1)
    for r in (big, bad):
        _no_leak(r.text)


def test_api_failclosed_unknown_mission_is_logged_block(running: Running) -> None:
    with running.client("agent-001") as c:
        r = c.post("/v1/decisions", json={**BODY, "mission_id": "M-2026-002"})  # agent-002's
    assert r.status_code == 200
    d = r.json()
    assert (d["decision"], d["code"]) == ("BLOCK", "UNKNOWN_MISSION")
    assert d["ledger_index"] >= 0
    with running.client("auditor-001") as c:
        incidents = c.get("/v1/incidents").json()
    assert any(i["request_id"] == d["request_id"] and i["stage"] == "identity" for i in incidents)


def test_api_failclosed_invalid_policy_input_is_logged_block(running: Running) -> None:
    with running.client("agent-001") as c:
        r = c.post("/v1/decisions", json={"request": {"query_type": "DROP_TABLE", "limit": 1}})
    d = r.json()
    assert (r.status_code, d["decision"], d["code"]) == (200, "BLOCK", "EVALUATION_ERROR")


class _LedgerDown:
    """Fault injection around the real ledger: appends fail as a dead database would."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def append(self, entry: bytes) -> int:
        raise LedgerError("injected: database unavailable")

    def append_many(self, entries: list[bytes]) -> list[int]:
        raise LedgerError("injected: database unavailable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_api_failclosed_ledger_down_is_503_and_incident(tls_pki: PkiFiles, tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path))
    stages = app.state.service.stages
    object.__setattr__(stages, "ledger", _LedgerDown(stages.ledger))
    with (
        serve_app(app, tls_pki) as url,
        httpx.Client(base_url=url, verify=tls_pki.context("agent-001")) as c,
    ):
        r = c.post("/v1/decisions", json=BODY)
    assert r.status_code == 503
    body = r.json()
    assert (body["decision"], body["code"]) == ("BLOCK", "STAGE_UNAVAILABLE")
    _no_leak(r.text)
    rows = app.state.service.store.incidents(0, 10)
    assert [(i.stage, i.request_id) for i in rows] == [("ledger", body["request_id"])]
    assert app.state.service.store.count_decisions() == 0  # nothing acknowledged


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=50)
        | st.floats(allow_nan=False, allow_infinity=False),
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_api_failclosed_random_bodies_never_5xx(running: Running, body: object) -> None:
    with running.client("agent-001") as c:
        r = c.post("/v1/decisions", json={"request": body} if isinstance(body, dict) else body)
    assert r.status_code in (200, 413, 422, 429), r.text
    _no_leak(r.text)
    if r.status_code == 200:
        assert r.json()["decision"] in ("ALLOW", "BLOCK", "WARN", "APPROVAL_REQUIRED")
