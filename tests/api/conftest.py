"""API test fixtures: the real service (real policy, keys, ledger) behind real TLS on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import Settings, create_app

EXAMPLE_CONTEXT = Path(__file__).resolve().parents[2] / "examples" / "bank-registry" / "context"
BUNDLE = EXAMPLE_CONTEXT.parent / "policy.rsrp"


def service_settings(tmp: Path, **extra: object) -> Settings:
    """Settings for a throwaway service in ``tmp`` (SQLite, software keys, example data)."""
    values: dict[str, object] = {
        "database": {"url": f"sqlite:///{tmp}/rsrp.db"},
        "context": {"directory": EXAMPLE_CONTEXT},
        "policy": {"bundle": BUNDLE},
        "keys": {"store": f"file:{tmp}/keys?jurisdiction=FR", "passphrase": "test passphrase"},
        "ledger": {"checkpoint_every": 1000, "checkpoint_interval_ms": 50},
        "auth": {"principals": {"admin-1": ["admin"]}},
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Running:
    url: str
    pki: PkiFiles
    app: FastAPI
    settings: Settings

    def client(self, principal: str | None, **kw: object) -> httpx.Client:
        ctx = self.pki.context(principal)
        return httpx.Client(base_url=self.url, verify=ctx, timeout=20, **kw)  # type: ignore[arg-type]

    @property
    def vkey(self) -> str:
        return str(self.app.state.service.stages.ledger.checkpointer.verifiers[0].vkey)

    @property
    def vkeys(self) -> tuple[str, str]:
        """(Ed25519 note vkey, ML-DSA-44 cosignature vkey) of the served log."""
        return self.app.state.service.stages.ledger.vkeys  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def running(tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = service_settings(tmp_path_factory.mktemp("svc"))
    app = create_app(settings)
    with serve_app(app, tls_pki) as url:
        yield Running(url, tls_pki, app, settings)
