"""The service's OpenAPI document is a valid OpenAPI 3.1 description (openapi-spec-validator).

Clients generate code from this document, so it must validate against the OpenAPI 3.1
specification's own schema, not merely be accepted by FastAPI and schemathesis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from tests.api.conftest import service_settings

from rsrp.api import create_app


def _document(tmp: Path) -> dict[str, Any]:
    doc: dict[str, Any] = create_app(service_settings(tmp)).openapi()
    return doc


def test_openapi_document_is_valid_openapi_3_1(tmp_path: Path) -> None:
    doc = _document(tmp_path)
    assert doc["openapi"].startswith("3.1.")
    validate(doc, cls=OpenAPIV31SpecValidator)  # raises OpenAPIValidationError on any error
    assert list(OpenAPIV31SpecValidator(doc).iter_errors()) == []


def test_validator_is_not_vacuous(tmp_path: Path) -> None:
    # The same document with one required member removed must be refused.
    doc = _document(tmp_path)
    del doc["info"]
    assert list(OpenAPIV31SpecValidator(doc).iter_errors())
