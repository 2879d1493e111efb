"""Responses match the OpenAPI document: schemathesis over real HTTPS with a client certificate.

Where tests/api/test_api_schemathesis.py asks only for "no 5xx" in process, this one
sends generated requests to a real uvicorn server (mTLS, a principal holding every
role) and checks what an OpenAPI-driven client relies on: every status code, content
type, body and header is the one the document declares (RFC 9457 problem documents
for errors included).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.api.conftest import service_settings
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app

ALL_ROLES = ["agent", "supervisor", "auditor", "admin"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass(frozen=True)
class Served:
    url: str
    doc: dict[str, Any]


@pytest.fixture(scope="module")
def served(tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("conformance")
    app = create_app(service_settings(tmp, auth={"principals": {"supervisor-001": ALL_ROLES}}))
    with serve_app(app, tls_pki) as url:
        yield Served(url, app.openapi())


# The document does not depend on runtime state: read it from a throwaway app at import
# (schemathesis parametrizes at collection); the test checks it equals the served one's.
_DOC = create_app(service_settings(Path(tempfile.mkdtemp(prefix="rsrp-conformance-")))).openapi()
schema = schemathesis.openapi.from_dict(_DOC)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_openapi_responses_conform(case: Any, served: Served, tls_pki: PkiFiles) -> None:
    assert served.doc == _DOC
    cert, key = tls_pki.client("supervisor-001")
    response = case.call(
        base_url=served.url, verify=str(tls_pki.ca), cert=(str(cert), str(key)), timeout=20
    )
    if case.path == "/readyz" and response.status_code == 503:
        return  # not ready is a documented answer (ReadyOut), checked by its own test
    case.validate_response(response, checks=CHECKS)


def test_api_openapi_error_responses_are_problem_documents(tmp_path: Path) -> None:
    doc = create_app(service_settings(tmp_path)).openapi()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for code in ("401", "403", "413", "415", "422", "429"):
                content = op["responses"][code]["content"]
                assert list(content) == ["application/problem+json"], (method, path, code)
            assert "Retry-After" in op["responses"]["429"]["headers"]
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
