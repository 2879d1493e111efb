"""OIDC bearer tokens against a JWKS file, on a real TLS server (client cert optional)."""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from tests.api.conftest import service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app
from rsrp.api._oidc import OidcConfig, OidcVerifier, TokenError
from rsrp.errors import ConfigError

ISS, AUD = "https://idp.example/realms/rsrp", "rsrp-api"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
ROGUE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(alg: Any, key: Any, kid: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = alg.to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, "alg": name, "use": "sig"}


def write_jwks(path: Path, *, extra: list[dict[str, Any]] | None = None) -> None:
    keys = [
        _jwk(RSAAlgorithm, RSA_KEY, "rsa-1", "RS256"),
        _jwk(ECAlgorithm, EC_KEY, "ec-1", "ES256"),
        _jwk(OKPAlgorithm, ED_KEY, "ed-1", "EdDSA"),
        *(extra or []),
    ]
    path.write_text(json.dumps({"keys": keys}))


def token(
    key: Any = RSA_KEY,
    alg: str = "RS256",
    kid: str = "rsa-1",
    roles: tuple[str, ...] = ("rsrp-agent",),
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISS,
        "aud": AUD,
        "sub": "f3b1c0de",
        "preferred_username": "agent-001",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "realm_access": {"roles": list(roles)},
        **claims,
    }
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def oidc_server(
    tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("oidc")
    jwks = tmp / "jwks.json"
    write_jwks(jwks)
    settings = service_settings(
        tmp,
        server={"client_cert": "optional"},
        auth={
            "principals": {},
            "oidc": {"issuer": ISS, "audience": AUD, "jwks": str(jwks), "jwks_min_refresh_s": 0},
        },
    )
    app = create_app(settings)
    with serve_app(app, tls_pki, cert_reqs=ssl.CERT_OPTIONAL) as url:
        yield url, jwks


def _post(url: str, pki: PkiFiles, bearer: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    with httpx.Client(base_url=url, verify=pki.context(None), timeout=10) as c:
        return c.post("/v1/decisions", json=BODY, headers=headers)


@pytest.mark.parametrize(
    ("key", "alg", "kid"),
    [(RSA_KEY, "RS256", "rsa-1"), (EC_KEY, "ES256", "ec-1"), (ED_KEY, "EdDSA", "ed-1")],
    ids=["RS256", "ES256", "EdDSA"],
)
def test_api_oidc_valid_token_decides(
    oidc_server: tuple[str, Path], tls_pki: PkiFiles, key: Any, alg: str, kid: str
) -> None:
    r = _post(oidc_server[0], tls_pki, token(key, alg, kid))
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "ALLOW"


def _alg_none() -> str:
    header = _b64(json.dumps({"alg": "none", "kid": "rsa-1", "typ": "JWT"}).encode())
    body = _b64(
        json.dumps({"iss": ISS, "aud": AUD, "sub": "x", "exp": int(time.time()) + 60}).encode()
    )
    return f"{header}.{body}."


def _hs256_confusion() -> str:
    # The classic confusion attack: HMAC keyed with the RSA public key's PEM.
    from cryptography.hazmat.primitives import serialization

    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())
    body = _b64(
        json.dumps({"iss": ISS, "aud": AUD, "sub": "x", "exp": int(time.time()) + 60}).encode()
    )
    sig = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(sig)}"


BAD = {
    "wrong-signature": (lambda: token(ROGUE), "signature invalid"),
    "expired": (lambda: token(exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200), "expired"),
    "not-yet-valid": (lambda: token(nbf=int(time.time()) + 3600), "not yet valid"),
    "alg-none": (_alg_none, "algorithm 'none' is not allowed"),
    "hs256-confusion": (_hs256_confusion, "algorithm 'HS256' is not allowed"),
    "wrong-audience": (lambda: token(aud="someone-else"), "audience"),
    "wrong-issuer": (lambda: token(iss="https://evil.example"), "issuer"),
    "unknown-kid": (lambda: token(kid="nope"), "unknown key"),
    "key-alg-mismatch": (lambda: token(EC_KEY, "ES256", "rsa-1"), "does not match its key"),
    "garbage": (lambda: "not.a.jwt", "malformed"),
    "missing-exp": (lambda: token(exp=None), "rejected"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_api_oidc_rejects(oidc_server: tuple[str, Path], tls_pki: PkiFiles, case: str) -> None:
    make, reason = BAD[case]
    tok = make()
    if case == "missing-exp":
        # PyJWT drops None-valued claims only if we remove them; rebuild without exp.
        payload = jwt.decode(tok, options={"verify_signature": False})
        payload.pop("exp")
        tok = jwt.encode(payload, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    r = _post(oidc_server[0], tls_pki, tok)
    assert r.status_code == 401, r.text
    assert reason in r.json()["detail"]
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_api_oidc_no_credentials_is_401(oidc_server: tuple[str, Path], tls_pki: PkiFiles) -> None:
    r = _post(oidc_server[0], tls_pki, None)
    assert r.status_code == 401
    assert "client certificate or a bearer token" in r.json()["detail"]


def test_api_oidc_roles_come_from_realm_access(
    oidc_server: tuple[str, Path], tls_pki: PkiFiles
) -> None:
    r = _post(oidc_server[0], tls_pki, token(roles=("rsrp-auditor", "offline_access")))
    assert r.status_code == 403
    with httpx.Client(base_url=oidc_server[0], verify=tls_pki.context(None)) as c:
        r = c.get(
            "/v1/incidents", headers={"Authorization": f"Bearer {token(roles=('rsrp-auditor',))}"}
        )
    assert r.status_code == 200


def test_api_oidc_unknown_kid_refreshes_jwks(
    oidc_server: tuple[str, Path], tls_pki: PkiFiles
) -> None:
    url, jwks = oidc_server
    new = ec.generate_private_key(ec.SECP256R1())
    assert _post(url, tls_pki, token(new, "ES256", "rotated")).status_code == 401
    write_jwks(jwks, extra=[_jwk(ECAlgorithm, new, "rotated", "ES256")])
    r = _post(url, tls_pki, token(new, "ES256", "rotated"))
    assert r.status_code == 200, r.text


def test_api_oidc_config_refuses_unsafe_algorithms(tmp_path: Path) -> None:
    for algs in (("HS256",), ("none",), ()):
        with pytest.raises(ConfigError):
            OidcConfig(ISS, AUD, str(tmp_path / "j.json"), algorithms=algs)
    with pytest.raises(ConfigError, match="loopback"):
        OidcConfig(ISS, AUD, "http://idp.example/jwks")
    OidcConfig(ISS, AUD, "http://127.0.0.1:8080/jwks")


def test_api_oidc_oversized_token(tmp_path: Path) -> None:
    write_jwks(tmp_path / "j.json")
    v = OidcVerifier(OidcConfig(ISS, AUD, str(tmp_path / "j.json")))
    with pytest.raises(TokenError, match="too large"):
        v.verify("a" * 10_000)
