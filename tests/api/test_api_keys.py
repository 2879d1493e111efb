"""Admin key endpoints on the real service over mTLS: public material only, the key
journal, online rotation of the checkpoint and decision keys, restart after rotation."""

from __future__ import annotations

import base64
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.api.api_procs import replicas
from tests.api.conftest import service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp import crypto
from rsrp.api import create_app
from rsrp.api.offline import verify_ledger, verify_receipt
from rsrp.ledger import MissingLogSignatureError
from rsrp.proof import decode_envelope

ORIGIN = "rsrp.local/FR"
#: The endpoints this module adds, each refused without an identity (401).
NEW_ENDPOINTS = [
    ("GET", "/v1/keys"),
    ("GET", "/v1/keys/journal"),
    ("POST", "/v1/keys/fr-checkpoint-signing-x/rotate"),
    ("GET", "/v1/approvals?status=EXPIRED"),
]


def _by_slot(keys: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The keys in use, by (purpose, algorithm)."""
    return {(k["purpose"], k["algorithm"]): k for k in keys if k["in_use"]}


def _decide_and_receipt(url: str, pki: PkiFiles) -> tuple[dict[str, Any], dict[str, Any]]:
    with httpx.Client(base_url=url, verify=pki.context("agent-001"), timeout=20) as c:
        d = c.post("/v1/decisions", json=BODY).json()
        deadline = time.monotonic() + 10
        while (r := c.get(f"/v1/decisions/{d['request_id']}/receipt")).status_code == 404:
            assert time.monotonic() < deadline, "no checkpoint covered the decision"
            time.sleep(0.05)
    assert r.status_code == 200, r.text
    return d, r.json()


def _rotate(admin: httpx.Client, key_id: str) -> dict[str, Any]:
    r = admin.post(f"/v1/keys/{key_id}/rotate")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_api_keys_list_and_rotate(tls_pki: PkiFiles, tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    app = create_app(settings)
    with serve_app(app, tls_pki) as url:
        admin = httpx.Client(base_url=url, verify=tls_pki.context("admin-1"), timeout=30)
        listed = admin.get("/v1/keys")
        assert listed.status_code == 200, listed.text
        assert "PRIVATE" not in listed.text and "private" not in listed.text
        slots = _by_slot(listed.json())
        ed = slots[("checkpoint-signing", "ed25519")]
        pq = slots[("checkpoint-signing", "ml-dsa-44")]
        dec = slots[("decision-signing", "mldsa65-ecdsa-p384-sha512")]
        assert (ed["vkey"], pq["vkey"]) == app.state.service.stages.ledger.vkeys
        assert dec["vkey"] is None and {k["state"] for k in slots.values()} == {"active"}
        for k in slots.values():  # a real SPKI public key of the listed algorithm
            assert crypto.load_public_key(k["public_key_pem"].encode()).algorithm == k["algorithm"]
        first, _ = _decide_and_receipt(url, tls_pki)

        rot = _rotate(admin, ed["key_id"])
        old, new = rot["retired"], rot["active"]
        assert (old["key_id"], old["state"], old["in_use"]) == (ed["key_id"], "deactivated", False)
        assert (new["rotated_from"], new["state"], new["in_use"]) == (ed["key_id"], "active", True)
        assert new["vkey"] != ed["vkey"] and new["vkey"].startswith(f"{ORIGIN}+")
        assert app.state.service.stages.ledger.vkeys == (new["vkey"], pq["vkey"])
        events = admin.get("/v1/keys/journal", params={"limit": 5}).json()
        rotated = [(e["event"], e["key_id"], e["actor"]) for e in events]
        assert ("rotate", new["key_id"], "admin-1 via rsrp api (mtls)") in rotated
        assert ("deactivate", ed["key_id"], "admin-1 via rsrp api (mtls)") in rotated
        assert admin.post(f"/v1/keys/{ed['key_id']}/rotate").status_code == 409  # retired
        assert admin.post("/v1/keys/no-such-key/rotate").status_code == 404
        assert admin.post("/v1/keys/..%2Fetc/rotate").status_code in (404, 422)

        # New checkpoints are signed by the new note key; the old one no longer counts.
        d, rec = _decide_and_receipt(url, tls_pki)
        envelope = base64.b64decode(rec["envelope"])
        verify_receipt(envelope, rec["proof"], [new["vkey"], pq["vkey"]], origin=ORIGIN)
        with pytest.raises(MissingLogSignatureError, match="type 0x01"):
            verify_receipt(envelope, rec["proof"], [ed["vkey"], pq["vkey"]], origin=ORIGIN)
        # Old and new note keys are alternatives: the whole log verifies across the rotation.
        all_vkeys = [ed["vkey"], new["vkey"], pq["vkey"]]
        report = verify_ledger(settings.database.url, all_vkeys)
        assert report.checkpoint_size >= d["ledger_index"] + 1 > first["ledger_index"] + 1

        # The decision key rotates too: the next envelope names the successor.
        drot = _rotate(admin, dec["key_id"])["active"]
        d2, _ = _decide_and_receipt(url, tls_pki)
        env = decode_envelope(base64.b64decode(d2["envelope"]))
        assert env.key_id == drot["key_id"]  # type: ignore[union-attr]

        # Rotate both checkpoint keys with no checkpoint in between, then restart: the
        # last stored checkpoint is signed only by retired keys and must still open.
        new2 = _rotate(admin, new["key_id"])["active"]
        pq2 = _rotate(admin, pq["key_id"])["active"]
        admin.close()
    app2 = create_app(settings)
    with serve_app(app2, tls_pki) as url:
        assert app2.state.service.stages.ledger.vkeys == (new2["vkey"], pq2["vkey"])
        d3, _ = _decide_and_receipt(url, tls_pki)
    every = [*all_vkeys, new2["vkey"], pq2["vkey"]]
    report = verify_ledger(settings.database.url, every)
    assert report.checkpoint_size >= d3["ledger_index"] + 1


def test_api_keys_refuse_keys_the_service_does_not_use(tls_pki: PkiFiles, tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path))
    store = app.state.service.stages.keystore
    from rsrp.keys import Purpose

    other = store.generate("ed25519", Purpose.WITNESS, jurisdiction="FR", test=True)
    with (
        serve_app(app, tls_pki) as url,
        httpx.Client(base_url=url, verify=tls_pki.context("admin-1"), timeout=30) as admin,
    ):
        r = admin.post(f"/v1/keys/{other.key_id}/rotate")
        assert r.status_code == 409 and "not a key this service signs with" in r.json()["detail"]
        listed = {k["key_id"]: k for k in admin.get("/v1/keys").json()}
    assert listed[other.key_id]["in_use"] is False and listed[other.key_id]["vkey"] is None
    assert store.info(other.key_id).state.value == "active"  # untouched


@pytest.fixture(scope="module")
def optional_cert_url(tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on a TLS port that lets a peer connect without a certificate."""
    app = create_app(service_settings(tmp_path_factory.mktemp("noid")))
    with serve_app(app, tls_pki, cert_reqs=ssl.CERT_OPTIONAL) as url:
        yield url


@pytest.mark.parametrize(("method", "path"), NEW_ENDPOINTS, ids=[p for _, p in NEW_ENDPOINTS])
def test_api_keys_no_identity_is_401(
    tls_pki: PkiFiles, optional_cert_url: str, method: str, path: str
) -> None:
    with httpx.Client(base_url=optional_cert_url, verify=tls_pki.context(None)) as c:
        r = c.request(method, path)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.slow
@pytest.mark.postgres
def test_api_keys_rotation_followed_by_the_other_replica(
    tls_pki: PkiFiles, tmp_path: Path, postgres_url: str
) -> None:
    extra = '[approvals]\nsweep_interval_s = 0.1\n[auth]\nprincipals = { "admin-1" = ["admin"] }\n'
    with replicas(tls_pki, tmp_path, postgres_url, extra=extra) as (urls, _):
        a, b = (
            httpx.Client(base_url=u, verify=tls_pki.context("admin-1"), timeout=30) for u in urls
        )
        before = _by_slot(a.get("/v1/keys").json())[("checkpoint-signing", "ed25519")]
        pq = _by_slot(a.get("/v1/keys").json())[("checkpoint-signing", "ml-dsa-44")]
        _decide_and_receipt(urls[0], tls_pki)
        # Rotated through B; A (started first: the checkpoint leader) must follow.
        new = _rotate(b, before["key_id"])["active"]
        deadline = time.monotonic() + 10
        while (
            _by_slot(a.get("/v1/keys").json())[("checkpoint-signing", "ed25519")]["key_id"]
            != new["key_id"]
        ):
            assert time.monotonic() < deadline, "replica A never followed the rotation"
            time.sleep(0.1)
        d, rec = _decide_and_receipt(urls[0], tls_pki)
        _decide_and_receipt(urls[1], tls_pki)
        a.close()
        b.close()
    # The checkpoint covering a post-rotation decision is signed by the new key alone.
    verify_receipt(
        base64.b64decode(rec["envelope"]), rec["proof"], [new["vkey"], pq["vkey"]], origin=ORIGIN
    )
    report = verify_ledger(postgres_url, [before["vkey"], new["vkey"], pq["vkey"]])
    assert report.checkpoint_size >= d["ledger_index"] + 1
