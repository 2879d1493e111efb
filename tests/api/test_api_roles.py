"""Every endpoint x every role, over real mTLS: allowed roles pass, others get 403."""

from __future__ import annotations

import uuid

import pytest
from tests.api.conftest import Running
from tests.api.test_api_mtls import BODY

AGENT, SUP, AUD, ADM, NONE = "agent-001", "supervisor-001", "auditor-001", "admin-1", "stranger"
EVERYONE = {AGENT, SUP, AUD, ADM, NONE}
MISSION = {
    "agent": "agent-001",
    "status": "ACTIVE",
    "start": "2026-01-01T00:00:00Z",
    "end": "2030-01-01T00:00:00Z",
    "hours_start": 0,
    "hours_end": 24,
    "timezone": "Europe/Paris",
}
U = str(uuid.UUID(int=7))

#: (method, path, json body, principals allowed)
MATRIX: list[tuple[str, str, object, set[str]]] = [
    ("POST", "/v1/decisions", BODY, {AGENT, SUP}),
    ("GET", "/v1/decisions/{own}", None, {AGENT, AUD}),
    ("GET", "/v1/decisions/{own}/receipt", None, {AGENT, AUD}),
    ("GET", "/v1/checkpoints/latest", None, {AGENT, SUP, AUD, ADM}),
    ("GET", "/v1/proofs/inclusion?index=0&size=1", None, {AGENT, SUP, AUD, ADM}),
    ("GET", "/v1/proofs/consistency?old_size=1&new_size=1", None, {AGENT, SUP, AUD, ADM}),
    ("GET", "/v1/approvals", None, {SUP, AUD}),
    ("POST", f"/v1/approvals/{U}", {"decision": "APPROVE", "reason": "checked the file"}, {SUP}),
    ("GET", "/v1/incidents", None, {AUD, ADM}),
    ("GET", "/metrics", None, {AUD, ADM}),
    ("GET", "/v1/organisations", None, {ADM}),
    ("PUT", "/v1/organisations/dgfip", {"name": "DGFiP", "jurisdiction": "FR"}, {ADM}),
    ("GET", "/v1/agents", None, {ADM}),
    (
        "PUT",
        "/v1/agents/agent-001",
        {"org": "dgfip", "level": "AGENT", "perimeter": "NATIONAL", "departments": []},
        {ADM},
    ),
    ("GET", "/v1/missions", None, {ADM}),
    ("PUT", "/v1/missions/M-2026-001", MISSION, {ADM}),
    ("GET", "/v1/approvals?status=ALL", None, {SUP, AUD}),
    ("GET", "/v1/keys", None, {ADM}),
    ("GET", "/v1/keys/journal?limit=5", None, {ADM}),
    # An unknown key id: the admin gets 404, never a rotation of the shared fixture's keys.
    ("POST", "/v1/keys/fr-no-such-key/rotate", None, {ADM}),
    ("GET", "/healthz", None, EVERYONE),
    ("GET", "/readyz", None, EVERYONE),
]


@pytest.fixture(scope="module")
def own_decision(running: Running) -> str:
    with running.client(AGENT) as c:
        r = c.post("/v1/decisions", json=BODY)
    assert r.status_code == 200, r.text
    return str(r.json()["request_id"])


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    MATRIX,
    ids=[f"{m} {p.split('?')[0]}" for m, p, _, _ in MATRIX],
)
@pytest.mark.parametrize("principal", sorted(EVERYONE))
def test_api_role_matrix(
    running: Running,
    own_decision: str,
    method: str,
    path: str,
    body: object,
    allowed: set[str],
    principal: str,
) -> None:
    with running.client(principal) as c:
        r = c.request(method, path.format(own=own_decision), json=body)
    if principal in allowed:
        assert r.status_code not in (401, 403), (r.status_code, r.text)
        # /readyz answers 503 while no checkpoint covers the log (a readiness fact, not an error).
        assert r.status_code < 500 or path == "/readyz", r.text
    elif "{own}" in path and principal in {SUP}:
        # Another agent's decision: indistinguishable from a missing one.
        assert r.status_code == 404, r.text
    else:
        assert r.status_code == 403, (r.status_code, r.text)


def test_api_role_supervisor_cannot_read_others_decisions(
    running: Running, own_decision: str
) -> None:
    with running.client("agent-002") as c:
        assert c.get(f"/v1/decisions/{own_decision}").status_code == 404
    with running.client(AUD) as c:
        r = c.get(f"/v1/decisions/{own_decision}")
    assert r.status_code == 200
    assert r.json()["agent_id"] == AGENT
