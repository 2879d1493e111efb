"""The service's HTTP and TLS surface as real clients see it: curl, openssl s_client,
httpx, and Prometheus's own text parsers, against a real uvicorn server with TLS.

RFC 8446/5246 + RFC 8996 (TLS 1.2 minimum), RFC 5280 §4.1.2.5 and §4.2.1.12 (validity,
clientAuth), RFC 9110 §15.5 (400/413/415), RFC 6585 §4 + RFC 9110 §10.2.3 (429,
Retry-After), RFC 9457 (problem details), Prometheus text format 0.0.4 and
OpenMetrics 1.0.0 negotiation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_families
from prometheus_client.parser import text_string_to_metric_families
from tests.api.conftest import Running, service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app, peer_from_der
from rsrp.api._tls import ClientCertificateError
from rsrp.api.devpki import CertKey, issue, load_ca

CURL = shutil.which("curl")
OPENSSL = shutil.which("openssl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def curl(
    running: Running, principal: str, path: str, *args: str
) -> tuple[int, dict[str, str], str]:
    """Run curl with ``principal``'s client certificate; (status, headers, body)."""
    cert, key = running.pki.client(principal)
    with tempfile.TemporaryDirectory() as tmp:
        head, body = Path(tmp) / "head", Path(tmp) / "body"
        subprocess.run(
            [CURL or "curl", "-sS", "--max-time", "20", "--cacert", str(running.pki.ca),
             "--cert", str(cert), "--key", str(key), "-D", str(head), "-o", str(body),
             *args, running.url + path],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        # The last header block (an interim 100 Continue may precede it).
        lines = head.read_bytes().decode().strip().split("\r\n\r\n")[-1].split("\r\n")
        text = body.read_text()
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, text


def s_client(running: Running, principal: str, *args: str) -> subprocess.CompletedProcess[str]:
    cert, key = running.pki.client(principal)
    port = running.url.rsplit(":", 1)[1]
    return subprocess.run(
        [OPENSSL or "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief",
         "-CAfile", str(running.pki.ca), "-cert", str(cert), "-key", str(key),
         "-verify_return_error", *args],
        input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip


# --- TLS and client certificates -----------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_api_http_tls12_and_tls13_accepted(running: Running, version: str) -> None:
    out = s_client(running, "agent-001", version)
    assert out.returncode == 0, out.stderr
    assert f"Protocol version: TLSv1.{version[-1]}" in out.stderr


@needs_openssl
@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_api_http_tls_below_12_refused(running: Running, version: str) -> None:
    # SECLEVEL=0 lets the client offer the old version, so the refusal is the server's.
    out = s_client(running, "agent-001", version, "-cipher", "DEFAULT@SECLEVEL=0")
    assert out.returncode != 0
    assert "no protocols available" not in out.stderr  # the client did offer it
    assert "Protocol version:" not in out.stderr  # and no handshake completed


@needs_openssl
def test_api_http_tls12_without_aead_or_forward_secrecy_refused(running: Running) -> None:
    # RFC 9325 §4.2: no CBC suite with TLS 1.2 (Python's default list still has AES-CBC-SHA256).
    refused = s_client(running, "agent-001", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256")
    assert refused.returncode != 0
    assert "Protocol version:" not in refused.stderr
    ok = s_client(running, "agent-001", "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
    assert ok.returncode == 0, ok.stderr
    assert "ECDHE-ECDSA-CHACHA20-POLY1305" in ok.stderr


def test_api_http_client_certificate_without_eku_is_401(running: Running) -> None:
    # OpenSSL admits a certificate with no extendedKeyUsage; the service requires clientAuth.
    with running.client("no-eku") as c:
        r = c.post("/v1/decisions", json=BODY)
    assert r.status_code == 401
    assert "clientAuth" in r.json()["detail"]


# --- HTTP status codes and problem documents -----------------------------------------------


@needs_curl
def test_api_http_curl_decision(running: Running) -> None:
    status, headers, body = curl(
        running, "agent-001", "/v1/decisions",
        "-H", "content-type: application/json", "-d", json.dumps(BODY),
    )  # fmt: skip
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["decision"] == "ALLOW"


@needs_curl
def test_api_http_curl_form_body_is_415(running: Running) -> None:
    # curl -d without a content type sends application/x-www-form-urlencoded.
    status, headers, body = curl(running, "agent-001", "/v1/decisions", "-d", json.dumps(BODY))
    assert status == 415
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 415


@needs_curl
def test_api_http_curl_chunked_oversize_is_413(running: Running, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**BODY, "account": "A" * 200_000}))
    status, headers, body = curl(
        running, "agent-001", "/v1/decisions", "-H", "content-type: application/json",
        "-H", "transfer-encoding: chunked", "--data-binary", f"@{big}",
    )  # fmt: skip
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"
    assert "larger than 65536 bytes" in json.loads(body)["detail"]


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json; charset=utf-8", 200),
        ("Application/JSON", 200),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        (None, 415),
    ],
)
def test_api_http_content_type(running: Running, content_type: str | None, expected: int) -> None:
    headers = {"content-type": content_type} if content_type else {}
    with running.client("agent-001") as c:
        r = c.post("/v1/decisions", content=json.dumps(BODY).encode(), headers=headers)
    assert r.status_code == expected, r.text


def test_api_http_problem_documents(running: Running) -> None:
    with running.client("agent-001") as c:
        answers = {
            400: c.post(
                "/v1/decisions",
                content=b'{"account": ',
                headers={"content-type": "application/json"},
            ),
            404: c.get("/v1/nothing-here"),
            405: c.delete("/v1/decisions"),
            422: c.post("/v1/decisions", json={"account": 7, "surprise": True}),
        }
    for status, r in answers.items():
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
        doc = r.json()
        assert doc["status"] == status and doc["title"] and doc["type"] == "about:blank"
        assert "Traceback" not in r.text and "/work/" not in r.text and ".py" not in r.text
    assert answers[405].headers["allow"] == "POST"


# --- rate limit ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("limited")
    settings = service_settings(tmp, limits={"rate_per_second": 0.05, "burst": 2, "shared": False})
    with serve_app(create_app(settings), tls_pki) as url:
        yield url


def test_api_http_429_with_retry_after(limited: str, tls_pki: PkiFiles) -> None:
    with httpx.Client(base_url=limited, verify=tls_pki.context("auditor-001")) as c:
        codes = [c.get("/v1/incidents") for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    refused = codes[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    # RFC 9110 §10.2.3: delay-seconds, a non-negative integer; one token at 0.05/s is 20 s.
    assert refused.headers["retry-after"].isdigit()
    assert 15 <= int(refused.headers["retry-after"]) <= 20


# --- /metrics --------------------------------------------------------------------------------


def test_api_http_metrics_prometheus_text_004(running: Running) -> None:
    with running.client("auditor-001") as c:
        r = c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {f.name for f in text_string_to_metric_families(r.text)}
    assert {"rsrp_decisions", "rsrp_decision_latency_seconds", "rsrp_ledger_size"} <= names


def test_api_http_metrics_openmetrics_for_prometheus_accept(running: Running) -> None:
    # The Accept header Prometheus's scraper sends (scrape_protocols default order).
    accept = (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
        "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    )
    with running.client("auditor-001") as c:
        r = c.get("/metrics", headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert r.text.endswith("# EOF\n")
    names = {f.name for f in om_families(r.text)}
    assert {"rsrp_decisions", "rsrp_incidents"} <= names


# --- which principal a client certificate names (docs/service.md) -------------------------


def _der(ca: CertKey, cn: str, *uris: str) -> bytes:
    return issue(ca, cn, uris=uris).cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("cn", "uris", "principal"),
    [
        ("cn-name", ("urn:rsrp:agent:agent-007",), "agent-007"),
        ("cn-name", ("URN:RSRP:agent:agent-007",), "agent-007"),
        ("cn-name", ("urn:rsrp:AGENT:agent-007",), "cn-name"),
        ("cn-name", ("spiffe://registry.example/ns/prod/sa/agent-008",), "agent-008"),
        ("cn-name", ("https://agents.example/agent-009",), "cn-name"),
        ("cn-name", ("urn:rsrp:agent:a", "urn:rsrp:agent:a"), "a"),
        ("cn-name", (), "cn-name"),
    ],
)
def test_api_http_certificate_principal(
    tls_pki: PkiFiles, cn: str, uris: tuple[str, ...], principal: str
) -> None:
    peer = peer_from_der(_der(load_ca(tls_pki.directory), cn, *uris))
    assert peer is not None and peer.principal == principal


def test_api_http_certificate_naming_two_principals_refused(tls_pki: PkiFiles) -> None:
    ca = load_ca(tls_pki.directory)
    der = _der(ca, "cn", "urn:rsrp:agent:a", "spiffe://td/sa/b")
    with pytest.raises(ClientCertificateError, match="several principals"):
        peer_from_der(der)
    server = issue(ca, "x", server=True).cert.public_bytes(serialization.Encoding.DER)
    with pytest.raises(ClientCertificateError, match="clientAuth"):
        peer_from_der(server)
