"""``rsrp serve --config FILE`` and the main job (``run_main_job``, for ``rsrp run``).

The service always speaks TLS and hands the verified client certificate to the
app through :class:`rsrp.api.MtlsHttpToolsProtocol`.
"""

from __future__ import annotations

import gc
import json
import ssl
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from rsrp.api import (
    DEV_PASSPHRASE,
    MtlsH11Protocol,
    MtlsHttpToolsProtocol,
    Settings,
    create_app,
    load_settings,
    server_ssl_context,
)
from rsrp.api._keys import COMPOSITE_ALGORITHM
from rsrp.api.devpki import ensure_dev_pki
from rsrp.cli._errors import err_console, exit_on_rsrp_error
from rsrp.errors import ConfigError
from rsrp.keys import Purpose, export_public, open_store
from rsrp.policy import Engine, sign_bundle

__all__ = ["DEMO_PRINCIPALS", "run_main_job", "serve", "serve_app"]

#: Client certificates ``rsrp run`` creates (agents of the example context + an admin).
DEMO_PRINCIPALS = ["agent-001", "agent-002", "agent-003", "supervisor-001", "auditor-001", "admin"]

VAR = Path("var")
#: A request the example bundle allows for agent-001 (the server adds time and context).
EXAMPLE_REQUEST: dict[str, object] = {
    "query_type": "ACCOUNT_DETAILS",
    "justification": "Enquete fiscale dossier 2026-0142",
    "export_format": "NONE",
    "limit": 5,
    "account_department": 75,
    "legal_basis": "LPF art. L81",
    "expected_duration_ms": 200,
}
EXAMPLE = Path("examples/bank-registry")
DEV_BUNDLE_SIGNATURE = "bank-registry.rsrp.sig"
DEV_POLICY_KEYRING = "policy-keyring"


def serve_app(app: FastAPI, settings: Settings) -> None:
    """Run ``app`` under uvicorn with TLS and required (or optional) client certificates."""
    s = settings.server
    if s.tls_cert is None or s.tls_key is None or s.client_ca is None:
        raise ConfigError("server.tls_cert, server.tls_key and server.client_ca are required")
    protocol = MtlsHttpToolsProtocol if s.http == "httptools" else MtlsH11Protocol
    config = uvicorn.Config(
        app,
        host=s.host,
        port=s.port,
        http=protocol,
        ssl_certfile=str(s.tls_cert),
        ssl_keyfile=str(s.tls_key),
        ssl_ca_certs=str(s.client_ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED if s.client_cert == "required" else ssl.CERT_OPTIONAL,
        ssl_context_factory=server_ssl_context,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    # The app, its compiled policy and caches live for the whole process: move them out
    # of the cyclic GC's reach, whose full collections otherwise set the p99 latency.
    gc.freeze()
    uvicorn.Server(config).run()


def serve(
    config: Annotated[Path, typer.Option("--config", help="The service's TOML config file.")],
) -> None:
    """Serve the decision API over HTTPS with mTLS (RSRP_* environment overrides the file)."""
    with exit_on_rsrp_error():
        settings = load_settings(config)
        serve_app(create_app(settings), settings)


def _dev_config(var: Path) -> str:
    pki = var / "pki"
    return f"""# Written by `rsrp run` on first run: development mode, never for production.
mode = "development"

[server]
host = "127.0.0.1"
port = 8443
tls_cert = "{pki / "server.pem"}"
tls_key = "{pki / "server.key"}"
client_ca = "{pki / "ca.pem"}"

[database]
url = "sqlite:{var / "rsrp.db"}"

[policy]
bundle = "{EXAMPLE / "policy.rsrp"}"
signature = "{var / DEV_BUNDLE_SIGNATURE}"
keyring = "{var / DEV_POLICY_KEYRING}"

[context]
directory = "{EXAMPLE / "context"}"

[keys]
store = "file:{(var / "keys").resolve()}?jurisdiction=FR"
passphrase = "{DEV_PASSPHRASE}"
signing_mode = "batch"

[ledger]
checkpoint_every = 256
checkpoint_interval_ms = 500

[auth.principals]
admin = ["admin"]
"""


def _sign_dev_bundle(var: Path) -> None:
    """Approve the example bundle with a development policy-signing key, so the main
    job runs the same signed-bundle check a production deployment must."""
    secret = DEV_PASSPHRASE.encode()
    store = open_store(
        f"file:{(var / 'keys').resolve()}?jurisdiction=FR", passphrase=lambda: secret
    )
    key = store.generate(COMPOSITE_ALGORITHM, Purpose.POLICY_SIGNING, test=True)
    signature = sign_bundle(Engine.load(EXAMPLE / "policy.rsrp"), store.signer(key.key_id))
    (var / DEV_BUNDLE_SIGNATURE).write_text(signature.to_json(), encoding="utf-8")
    export_public(store, key.key_id, var / DEV_POLICY_KEYRING)


def curl_example(var: Path, port: int) -> str:
    pki = var / "pki"
    body = json.dumps({"request": EXAMPLE_REQUEST, "account": "FR7630006000011234567890189"})
    return (
        f"curl --cacert {pki / 'ca.pem'} --cert {pki / 'client-agent-001.pem'} "
        f"--key {pki / 'client-agent-001.key'} -H 'content-type: application/json' "
        f"https://127.0.0.1:{port}/v1/decisions -d '{body}'"
    )


def run_main_job(var: Path = VAR) -> None:
    """First run: create ./var (config, SQLite DB, software keys, dev PKI, the example
    bundle's signature); then serve on :8443."""
    with exit_on_rsrp_error():
        ensure_dev_pki(var / "pki", clients=DEMO_PRINCIPALS)
        config = var / "rsrp.toml"
        if not config.exists():
            _sign_dev_bundle(var)
            config.write_text(_dev_config(var), encoding="utf-8")
        settings = load_settings(config)
        app = create_app(settings)
        ledger = app.state.service.stages.ledger
        (var / "log.vkey").write_text(ledger.vkey + "\n", encoding="utf-8")
        # The ML-DSA-44 cosignature line's vkey (tlog-cosignature 0x06): `rsrp demo` requires it.
        (var / "log-mldsa44.vkey").write_text(ledger.cosigner_vkey + "\n", encoding="utf-8")
        err_console.print(
            f"[bold green]rsrp[/] serving https://{settings.server.host}:{settings.server.port} "
            f"(bundle {settings.policy.bundle}, ledger {settings.database.url}, "
            f"signing {settings.keys.signing_mode})"
        )
        err_console.print(f"checkpoint verifier key: {ledger.vkey}  (also in {var / 'log.vkey'})")
        err_console.print("try it:\n")
        typer.echo(curl_example(var, settings.server.port))
        err_console.print("\nthen `rsrp demo` in another shell; Ctrl-C stops the service.")
        serve_app(app, settings)
