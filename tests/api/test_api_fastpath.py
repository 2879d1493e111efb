"""The POST /v1/decisions fast path (rsrp.api._fastpath) answers as the FastAPI route does.

Differential: the same request sent as ``POST /v1/decisions`` (a certificate agent:
the fast path) and as ``POST /v1/decisions?via=route`` (a query string: always the
route) must get the same status, headers that matter and body, for accepted
requests and for every kind of refusal; and a request costs the same rate-limit
tokens either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.api.conftest import Running, service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app
from rsrp.api._fastpath import DecisionFastPath
from rsrp.api._models import DecisionOut

ROUTE = "/v1/decisions?via=route"
_JSON = {"content-type": "application/json"}
#: Per-decision fields: differ between any two decisions.
VARYING = {"request_id", "ledger_index", "envelope", "state_hash", "evaluated_at"}


def _both(c: httpx.Client, **kw: Any) -> tuple[httpx.Response, httpx.Response]:
    return c.post("/v1/decisions", **kw), c.post(ROUTE, **kw)


def test_api_fastpath_decision_matches_the_route(running: Running) -> None:
    with running.client("agent-001") as c:
        fast, route = _both(c, json=BODY)
    assert (fast.status_code, route.status_code) == (200, 200), (fast.text, route.text)
    assert fast.headers["content-type"] == route.headers["content-type"] == "application/json"
    assert int(fast.headers["content-length"]) == len(fast.content)
    a, b = fast.json(), route.json()
    assert a.keys() == b.keys()
    assert {k: v for k, v in a.items() if k not in VARYING} == {
        k: v for k, v in b.items() if k not in VARYING
    }
    assert a["decision"] == "ALLOW"
    DecisionOut.model_validate(a)  # the documented response model
    assert b["ledger_index"] == a["ledger_index"] + 1  # both logged, in order


def _fast_path(running: Running) -> DecisionFastPath:
    layer: Any = running.app.middleware_stack
    while not isinstance(layer, DecisionFastPath):
        layer = layer.app
    return layer


def test_api_fastpath_takes_only_admitted_requests(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which requests the fast path answers itself, which it hands to the application."""
    fast = _fast_path(running)
    handed: list[str] = []
    inner = fast.app

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        handed.append(f"{scope['method']} {scope['path']}?{scope['query_string'].decode()}")
        await inner(scope, receive, send)

    monkeypatch.setattr(fast, "app", recording)
    with running.client("agent-001") as c:
        assert c.post("/v1/decisions", json=BODY).status_code == 200
        assert handed == []
        assert c.post("/v1/decisions", json={"request": {"Bad": 1}}).status_code == 422
        assert c.post(ROUTE, json=BODY).status_code == 200
        assert c.get("/healthz").status_code == 200
    with running.client("auditor-001") as c:
        assert c.post("/v1/decisions", json=BODY).status_code == 403
    assert handed == [
        "POST /v1/decisions?",
        "POST /v1/decisions?via=route",
        "GET /healthz?",
        "POST /v1/decisions?",
    ]


@pytest.mark.parametrize(
    ("principal", "content", "status"),
    [
        ("agent-001", b'{"request": {', 400),  # not JSON
        ("agent-001", b'{"request": {"limit": NaN}}', 422),  # not finite
        ("agent-001", b'{"request": {}, "agent": "admin-1"}', 422),  # unknown field
        ("agent-001", b'{"request": {"Bad": 1}}', 422),  # field name pattern
        ("agent-001", b'{"request": {"limit": true}, "mission_id": "x y"}', 422),
        ("agent-001", b"[]", 422),
        ("agent-001", b'"\\ud800"', 422),  # a lone surrogate
        ("agent-001", b"[" * 5000 + b"]" * 5000, 422),  # deeply nested
        ("auditor-001", b'{"request": {}}', 403),  # no agent role
        ("stranger", b'{"request": {}}', 403),  # no role at all
    ],
    ids=[
        "not-json",
        "nan",
        "unknown-field",
        "field-name",
        "two-errors",
        "array",
        "surrogate",
        "deep",
        "auditor",
        "stranger",
    ],
)
def test_api_fastpath_refusals_are_the_routes(
    running: Running, principal: str, content: bytes, status: int
) -> None:
    with running.client(principal) as c:
        fast, route = _both(c, content=content, headers=_JSON)
    assert fast.status_code == route.status_code, (fast.text, route.text)
    if content.startswith(b"[" * 5000):  # too deep for json.loads: whatever the route says
        assert fast.status_code < 500
        return
    assert fast.status_code == status, fast.text
    assert fast.headers["content-type"] == "application/problem+json"
    assert fast.json() == route.json()


def test_api_fastpath_bearer_callers_go_to_the_route(running: Running) -> None:
    # No OIDC configured: the route's 401 with its RFC 6750 challenge.
    with running.client("agent-001") as c:
        fast, route = _both(c, json=BODY, headers={"authorization": "Bearer abc.def.ghi"})
    assert fast.status_code == route.status_code == 401
    assert fast.headers["www-authenticate"] == route.headers["www-authenticate"]
    assert fast.json() == route.json()


_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.lists(st.integers() | st.text(max_size=5) | st.booleans(), max_size=3)
)
_NAMES = st.sampled_from([*BODY["request"], "time", "Bad", "a" * 65]) | st.text(max_size=8)
_BODIES = st.fixed_dictionaries(
    {"request": st.dictionaries(_NAMES, _VALUES, max_size=8)},
    optional={
        "account": st.none() | st.text(max_size=130) | st.integers(),
        "mission_id": st.none() | st.sampled_from(["M-2026-001", "x y", ""]) | st.integers(),
        "agent": st.just("admin-1"),
    },
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=_BODIES)
def test_api_fastpath_random_bodies_answered_as_the_route(running: Running, body: Any) -> None:
    """Hostile and near-valid bodies: same status either way; same problem document."""
    with running.client("agent-003") as c:
        fast, route = _both(c, content=json.dumps(body).encode(), headers=_JSON)
    assert fast.status_code == route.status_code, (body, fast.text, route.text)
    assert fast.headers["content-type"] == route.headers["content-type"]
    if fast.status_code == 200:
        assert fast.json().keys() == route.json().keys()
    else:
        assert fast.json() == route.json()


@pytest.fixture
def limited(tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("fastpath-limited")
    settings = service_settings(tmp, limits={"rate_per_second": 0.01, "burst": 3, "shared": False})
    with serve_app(create_app(settings), tls_pki) as url:
        yield url


@pytest.mark.parametrize("path", ["/v1/decisions", ROUTE], ids=["fast", "route"])
def test_api_fastpath_rate_limit_tokens(limited: str, tls_pki: PkiFiles, path: str) -> None:
    """One token per request, refused by the schema or decided; then 429 (RFC 6585 §4)."""
    with httpx.Client(base_url=limited, verify=tls_pki.context("agent-002"), timeout=20) as c:
        codes = [c.post(path, json={"request": {"Bad": 1}}).status_code]
        codes += [c.post(path, json=BODY).status_code for _ in range(3)]
        refused = c.post(path, json=BODY)
    assert codes == [422, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"].isdigit()
