"""API test fixtures: a real service behind real TLS on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.api.api_standins import standin_stages
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import Settings, Stages, create_app

EXAMPLE_CONTEXT = Path(__file__).resolve().parents[2] / "examples" / "bank-registry" / "context"


def service_settings(tmp: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database": {"url": f"sqlite:///{tmp}/rsrp.db"},
        "context": {"directory": EXAMPLE_CONTEXT},
        "auth": {"principals": {"admin-1": ["admin"]}},
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Running:
    url: str
    pki: PkiFiles
    app: FastAPI
    stages: Stages

    def client(self, principal: str | None, **kw: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.pki.context(principal), timeout=10, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def running(tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    stages = standin_stages()
    app = create_app(service_settings(tmp_path_factory.mktemp("svc")), stages)
    with serve_app(app, tls_pki) as url:
        yield Running(url, tls_pki, app, stages)
