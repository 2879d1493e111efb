"""Exports: signed-note keys against Go's published keys, JWK against PyJWT, PEM SPKI."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from rsrp import crypto
from rsrp.keys import (
    MalformedKeyMaterialError,
    NotAvailableError,
    jwk,
    jwks,
    note_key_hash,
    note_skey,
    note_vkey,
    parse_note_skey,
    parse_note_vkey,
    spki_pem,
)

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "golang-sumdb-note-keys.json").read_text()
)["vectors"]


def _spki(pub: bytes) -> bytes:
    return ed25519.Ed25519PublicKey.from_public_bytes(pub).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_note_vkey_matches_go(v: dict[str, Any]) -> None:
    name, pub = parse_note_vkey(v["vkey"])
    assert name == v["name"]
    assert note_vkey(name, _spki(pub)) == v["vkey"]


def test_note_skey_matches_go_and_derives_the_vkey() -> None:
    v = VECTORS[0]
    name, seed = parse_note_skey(v["skey"])
    assert note_skey(name, seed) == v["skey"]
    pub = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert note_vkey(name, _spki(pub)) == v["vkey"]
    assert note_key_hash(name, pub) == "c74f20a3"


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # hash
        "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # name
        "PeterNeumann+c74f20a3+AhpcAAAAPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type/key
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper hex
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # empty name
        "PeterNeumann+c74f20a3",
        "",
    ],
)
def test_bad_vkeys_are_refused(bad: str) -> None:
    with pytest.raises(MalformedKeyMaterialError):
        parse_note_vkey(bad)


def test_note_vkey_refuses_non_ed25519() -> None:
    der = crypto.generate("ecdsa-p384-sha384").public_key().spki_der()
    with pytest.raises(NotAvailableError, match="Ed25519"):
        note_vkey("log", der)


def _b64url_int(s: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def test_ec_jwk_loads_in_pyjwt_and_matches() -> None:
    sk = crypto.generate("ecdsa-p384-sha384")
    doc = jwk(sk.public_key().spki_der(), kid="k1")
    assert doc["kty"] == "EC" and doc["crv"] == "P-384" and doc["alg"] == "ES384"
    loaded = jwt.PyJWK(doc).key
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    nums = loaded.public_numbers()
    assert (nums.x, nums.y) == (_b64url_int(doc["x"]), _b64url_int(doc["y"]))
    token = jwt.encode({"sub": "a"}, sk.pkcs8_pem(), algorithm="ES384", headers={"kid": "k1"})
    assert jwt.decode(token, key=jwt.PyJWK(doc), algorithms=["ES384"])["sub"] == "a"


def test_okp_jwk_loads_in_pyjwt_and_verifies() -> None:
    sk = crypto.generate("ed25519")
    doc = jwk(sk.public_key().spki_der(), kid="k2")
    assert {k: doc[k] for k in ("kty", "crv", "alg")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
    }
    token = jwt.encode({"sub": "b"}, sk.pkcs8_pem(), algorithm="EdDSA")
    assert jwt.decode(token, key=jwt.PyJWK(doc), algorithms=["EdDSA"])["sub"] == "b"


@pytest.mark.parametrize("alg", ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"])
def test_ml_dsa_jwk_is_akp(alg: str) -> None:
    pub = crypto.generate(alg).public_key()
    doc = jwk(pub.spki_der(), kid="pq")
    assert doc["kty"] == "AKP" and doc["alg"] == alg.upper()
    assert base64.urlsafe_b64decode(doc["pub"] + "=" * (-len(doc["pub"]) % 4)) == pub.raw_bytes()
    assert "=" not in doc["pub"]


def test_composite_jwk_is_marked_as_ours() -> None:
    pub = crypto.generate("mldsa65-ecdsa-p384-sha512").public_key()
    doc = jwks([("c", pub.spki_der())])["keys"][0]
    assert doc["kty"] == "AKP" and doc["alg"].startswith("X-RSRP-")


def test_spki_pem_round_trips() -> None:
    for alg in ("ed25519", "mldsa65-ecdsa-p384-sha512"):
        der = crypto.generate(alg).public_key().spki_der()
        pem = spki_pem(der)
        assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
        assert all(len(line) <= 64 for line in pem.splitlines())
        assert crypto.load_public_key(pem.encode()).spki_der() == der
