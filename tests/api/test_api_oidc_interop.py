"""OIDC against the standards as written, with a real identity provider endpoint.

The "IdP" is a real HTTPS server (uvicorn, TLS from the test PKI) serving a JWK Set
shaped like Keycloak's (an RSA signing key, an RSA encryption key, an EC key);
tokens are Keycloak-shaped access tokens signed with PyJWT. The service fetches the
set over HTTPS (``jwks_ca`` = the test CA) and is itself a real uvicorn server.
Checks: RFC 7515 (alg, crit, typ, kid), RFC 7517 (use, key_ops, alg binding),
RFC 7519 (iss, aud, NumericDate), RFC 8725, RFC 9068, RFC 6750 §3 challenges.
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tests.api.conftest import service_settings
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles, serve_app

from rsrp.api import create_app
from rsrp.api._jwks import MAX_JWKS_BYTES, JwksSource, TokenError, parse_jwks
from rsrp.api._oidc import OidcConfig, OidcVerifier

REALM = "https://127.0.0.1/realms/registry"
AUD = "rsrp-api"
SIG = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ENC = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC256 = ec.generate_private_key(ec.SECP256R1())
OTHER_REALM = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: Any, kid: str, **members: Any) -> dict[str, Any]:
    algo = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
    data: dict[str, Any] = algo.to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, **members}


def keycloak_jwks() -> dict[str, Any]:
    # Keycloak publishes its realm's signing key (use sig) and its encryption key
    # (use enc, alg RSA-OAEP); the latter must never verify a signature.
    return {
        "keys": [
            jwk(SIG, "kc-rs256", alg="RS256", use="sig"),
            jwk(ENC, "kc-enc", alg="RSA-OAEP", use="enc"),
            jwk(EC256, "kc-es256", alg="ES256", use="sig"),
        ]
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "exp": now + 300,
        "iat": now,
        "jti": "onrtac:5f0c",
        "iss": REALM,
        "aud": [AUD, "account"],
        "sub": "9c2a7e0e-6f8c-4a3b-8d1e-1f5d3c0b2a11",
        "typ": "Bearer",
        "azp": "registry-portal",
        "client_id": "registry-portal",
        "scope": "openid profile",
        "preferred_username": "agent-001",
        "realm_access": {"roles": ["default-roles-registry", "offline_access"]},
        "resource_access": {AUD: {"roles": ["rsrp-agent"]}, "account": {"roles": ["view"]}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(
    payload: dict[str, Any] | None = None,
    *,
    key: Any = SIG,
    alg: str = "RS256",
    header: dict[str, Any] | None = None,
) -> str:
    hdr = {"kid": "kc-rs256", "typ": "JWT", **(header or {})}
    hdr = {k: v for k, v in hdr.items() if v is not None}
    # PyJWS, not jwt.encode: the payload goes out as given (hostile claim types included).
    body = json.dumps(payload or claims()).encode()
    return jwt.PyJWS().encode(body, key, algorithm=alg, headers=hdr)


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}."


@dataclass
class Idp:
    """A JWKS endpoint whose answers the tests change."""

    jwks: dict[str, Any] = field(default_factory=keycloak_jwks)
    status: int = 200
    delay_s: float = 0.0
    padding: int = 0
    hits: int = 0

    def app(self) -> Starlette:
        async def certs(_: Request) -> Response:
            self.hits += 1
            if self.delay_s:
                import asyncio

                await asyncio.sleep(self.delay_s)
            if self.status != 200:
                return Response("no", status_code=self.status)
            body = {**self.jwks, "pad": "x" * self.padding} if self.padding else self.jwks
            return JSONResponse(body)

        async def moved(_: Request) -> Response:
            self.hits += 1
            return RedirectResponse("/realms/registry/protocol/openid-connect/certs")

        return Starlette(
            routes=[
                Route("/realms/registry/protocol/openid-connect/certs", certs),
                Route("/moved", moved),
            ]
        )


@dataclass
class Env:
    idp: Idp
    idp_url: str
    url: str
    pki: PkiFiles

    @property
    def jwks_url(self) -> str:
        return f"{self.idp_url}/realms/registry/protocol/openid-connect/certs"

    def call(
        self, bearer: str | None, method: str = "POST", path: str = "/v1/decisions"
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
        with httpx.Client(base_url=self.url, verify=self.pki.context(None), timeout=20) as c:
            if method == "POST":
                return c.post(path, json=BODY, headers=headers)
            return c.get(path, headers=headers)


@pytest.fixture(scope="module")
def env(tls_pki: PkiFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    idp = Idp()
    with serve_app(idp.app(), tls_pki, cert_reqs=ssl.CERT_NONE) as idp_url:
        tmp = tmp_path_factory.mktemp("oidc-interop")
        oidc = {
            "issuer": REALM,
            "audience": AUD,
            "jwks": f"{idp_url}/realms/registry/protocol/openid-connect/certs",
            "jwks_ca": str(tls_pki.ca),
            "jwks_min_refresh_s": 0,
            "algorithms": ["RS256", "PS256", "ES256"],
            "client_roles": AUD,
            "role_map": {"rsrp-agent": "agent", "rsrp-auditor": "auditor"},
        }
        settings = service_settings(
            tmp, server={"client_cert": "optional"}, auth={"principals": {}, "oidc": oidc}
        )
        with serve_app(create_app(settings), tls_pki, cert_reqs=ssl.CERT_OPTIONAL) as url:
            yield Env(idp, idp_url, url, tls_pki)


def test_api_oidc_interop_keycloak_token_with_client_role_decides(env: Env) -> None:
    r = env.call(token())
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "ALLOW"


def test_api_oidc_interop_kid_less_token_with_one_fitting_key(env: Env) -> None:
    # ES256: one key of the set fits, so a token without kid names it (RFC 7515 §4.1.4).
    r = env.call(token(key=EC256, alg="ES256", header={"kid": None}))
    assert r.status_code == 200, r.text


def _challenge(r: httpx.Response) -> str:
    return r.headers["www-authenticate"]


REFUSED = {
    "alg-none": lambda: unsigned({"alg": "none", "kid": "kc-rs256"}, claims()),
    "alg-None": lambda: unsigned({"alg": "None", "kid": "kc-rs256"}, claims()),
    "alg-NONE": lambda: unsigned({"alg": "NONE", "kid": "kc-rs256"}, claims()),
    "alg-nOnE": lambda: unsigned({"alg": "nOnE"}, claims()),
    "alg-not-a-string": lambda: unsigned({"alg": ["RS256"], "kid": "kc-rs256"}, claims()),
    "crit-unknown": lambda: token(header={"crit": ["x-policy"], "x-policy": 1}),
    "crit-registered-name": lambda: token(header={"crit": ["exp"]}),
    "kid-not-a-string": lambda: unsigned({"alg": "RS256", "kid": 7}, claims()),
    "enc-key-kid": lambda: token(key=ENC, header={"kid": "kc-enc"}),
    "alg-bound-to-jwk": lambda: token(alg="PS256"),  # the JWK says alg RS256
    "ec-key-with-rs256": lambda: token(header={"kid": "kc-es256"}),
    "another-realm": lambda: token(
        claims(iss="https://127.0.0.1/realms/other"), key=OTHER_REALM, header={"kid": "other-kc"}
    ),
    "another-realm-iss": lambda: token(claims(iss="https://127.0.0.1/realms/other")),
    "iss-trailing-slash": lambda: token(claims(iss=REALM + "/")),
    "iss-as-array": lambda: token(claims(iss=[REALM])),
    "aud-array-without-us": lambda: token(claims(aud=["account", "broker"])),
    "aud-not-a-string": lambda: token(claims(aud=7)),
    "exp-as-string": lambda: token(claims(exp=str(int(time.time()) + 300))),
    "exp-as-bool": lambda: token(claims(exp=True)),
    "exp-infinite": lambda: token(claims(exp=float("inf"))),
    "nbf-as-bool": lambda: token(claims(nbf=False)),
    "iat-as-string": lambda: token(claims(iat=str(int(time.time())))),
    "iat-in-the-future": lambda: token(claims(iat=int(time.time()) + 3600)),
    "exp-past-leeway": lambda: token(claims(exp=int(time.time()) - 31)),
    "missing-sub": lambda: token(claims(sub=None)),
    "jws-json-or-jwe": lambda: "a.b.c.d.e",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_api_oidc_interop_refuses_with_invalid_token_challenge(env: Env, case: str) -> None:
    r = env.call(REFUSED[case]())
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    challenge = _challenge(r)
    assert challenge.startswith('Bearer realm="rsrp", error="invalid_token"'), challenge
    assert 'error_description="' in challenge
    assert "Traceback" not in r.text and "/work" not in r.text


def test_api_oidc_interop_leeway_admits_small_skew(env: Env) -> None:
    # exp 10 s ago and nbf 10 s ahead are inside the default 30 s leeway.
    now = int(time.time())
    assert env.call(token(claims(exp=now - 10, nbf=now + 10))).status_code == 200


def test_api_oidc_interop_aud_string_and_float_dates(env: Env) -> None:
    now = time.time()
    r = env.call(token(claims(aud=AUD, exp=now + 300.5, iat=now)))
    assert r.status_code == 200, r.text


def test_api_oidc_interop_no_credentials_challenge_has_no_error(env: Env) -> None:
    r = env.call(None)
    assert r.status_code == 401
    assert _challenge(r) == 'Bearer realm="rsrp"'


def test_api_oidc_interop_empty_bearer_is_invalid_request(env: Env) -> None:
    with httpx.Client(base_url=env.url, verify=env.pki.context(None)) as c:
        r = c.get("/v1/incidents", headers={"Authorization": "Bearer"})
    assert r.status_code == 400
    assert 'error="invalid_request"' in _challenge(r)


def test_api_oidc_interop_missing_role_is_insufficient_scope(env: Env) -> None:
    # A valid token whose roles do not include agent: 403 with RFC 6750 insufficient_scope.
    auditor = claims(resource_access={AUD: {"roles": ["rsrp-auditor"]}})
    r = env.call(token(auditor))
    assert r.status_code == 403, r.text
    assert _challenge(r).startswith('Bearer realm="rsrp", error="insufficient_scope"')
    assert env.call(token(auditor), "GET", "/v1/incidents").status_code == 200
    # Client roles of another client are not ours.
    other = claims(resource_access={"account": {"roles": ["rsrp-agent"]}})
    assert env.call(token(other)).status_code == 403


# --- the key set, fetched from the real HTTPS endpoint -----------------------------------


def _source(env: Env, url: str | None = None, **kw: Any) -> JwksSource:
    kw.setdefault("min_refresh_s", 60.0)
    return JwksSource(url or env.jwks_url, ca_file=env.pki.ca, **kw)


def test_api_oidc_interop_unknown_kids_fetch_once_per_interval(env: Env) -> None:
    src = _source(env)
    assert [k.kid for k in src.keys_for("kc-rs256", "RS256")] == ["kc-rs256"]
    for i in range(25):
        with pytest.raises(TokenError, match="unknown key"):
            src.keys_for(f"forged-{i}", "RS256")
    assert src.fetches == 1  # the first load; the unknown kids waited for the interval


def test_api_oidc_interop_failing_idp_is_not_hammered(env: Env) -> None:
    env.idp.status = 503
    try:
        src = _source(env)
        for _ in range(10):
            with pytest.raises(TokenError, match=r"answered 503|unavailable"):
                src.keys_for("kc-rs256", "RS256")
        assert src.fetches == 1
    finally:
        env.idp.status = 200


def test_api_oidc_interop_rotation_and_withdrawal(env: Env) -> None:
    clock = [0.0]
    src = _source(env, min_refresh_s=5.0, max_age_s=60.0, clock=lambda: clock[0])
    src.keys_for("kc-rs256", "RS256")
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env.idp.jwks = {"keys": [jwk(new, "kc-next", alg="RS256", use="sig")]}
    try:
        clock[0] = 10.0  # an unknown kid after the interval: refetched
        assert src.keys_for("kc-next", "RS256")[0].kid == "kc-next"
        with pytest.raises(TokenError, match="unknown key"):
            src.keys_for("kc-rs256", "RS256")  # withdrawn: gone with the new set
    finally:
        env.idp.jwks = keycloak_jwks()
    clock[0] = 100.0  # stale: the next use re-reads it
    assert src.keys_for("kc-rs256", "RS256")[0].kid == "kc-rs256"
    assert src.fetches == 3


def test_api_oidc_interop_oversized_key_set_refused(env: Env) -> None:
    env.idp.padding = MAX_JWKS_BYTES
    try:
        with pytest.raises(TokenError, match="too large"):
            _source(env).keys_for("kc-rs256", "RS256")
    finally:
        env.idp.padding = 0


def test_api_oidc_interop_slow_idp_times_out(env: Env) -> None:
    env.idp.delay_s = 3.0
    try:
        start = time.monotonic()
        with pytest.raises(TokenError, match="unavailable"):
            _source(env, timeout_s=0.5).keys_for("kc-rs256", "RS256")
        assert time.monotonic() - start < 2.5
    finally:
        env.idp.delay_s = 0.0


def test_api_oidc_interop_redirect_not_followed(env: Env) -> None:
    with pytest.raises(TokenError, match="answered 307"):
        _source(env, url=f"{env.idp_url}/moved").keys_for("kc-rs256", "RS256")


def test_api_oidc_interop_untrusted_idp_certificate(env: Env, tmp_path: Path) -> None:
    src = JwksSource(env.jwks_url, min_refresh_s=60.0)  # system trust store: not our test CA
    with pytest.raises(TokenError, match="unavailable"):
        src.keys_for("kc-rs256", "RS256")


# --- JWK members (RFC 7517 §4) and kid-less tokens, on the verifier -------------------------


def _verifier(tmp: Path, keys: list[dict[str, Any]], **kw: Any) -> OidcVerifier:
    path = tmp / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    kw.setdefault("algorithms", ("RS256", "PS256", "ES256", "ES384"))
    return OidcVerifier(OidcConfig(REALM, AUD, str(path), role_map={"rsrp-agent": "agent"}, **kw))


def test_api_oidc_interop_jwk_without_alg_allows_its_family(tmp_path: Path) -> None:
    v = _verifier(tmp_path, [jwk(SIG, "k")])
    for alg in ("RS256", "PS256"):
        assert v.verify(token(alg=alg, header={"kid": "k"})).principal == "agent-001"
    with pytest.raises(TokenError, match="does not match"):
        v.verify(token(key=EC256, alg="ES256", header={"kid": "k"}))


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"use": "enc"}, "unknown key"),
        ({"key_ops": ["encrypt"]}, "unknown key"),
        ({"key_ops": "verify"}, "unknown key"),
        ({"alg": "RS384"}, "does not match"),
        ({"alg": "HS256"}, "unknown key"),
    ],
    ids=["use-enc", "key-ops-encrypt", "key-ops-not-a-list", "alg-other", "alg-unsafe"],
)
def test_api_oidc_interop_jwk_members_bind_the_key(
    tmp_path: Path, members: dict[str, Any], why: str
) -> None:
    keys = [jwk(SIG, "k", **members), jwk(EC256, "spare")]
    v = _verifier(tmp_path, keys)
    with pytest.raises(TokenError, match=why):
        v.verify(token(header={"kid": "k"}))


def test_api_oidc_interop_jwk_curve_binds_ec_algorithm(tmp_path: Path) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    v = _verifier(tmp_path, [jwk(p384, "p384")])
    assert v.verify(token(key=p384, alg="ES384", header={"kid": "p384"})).subject
    # An ES256 header on the P-384 key (same family, wrong curve) is refused.
    forged = unsigned({"alg": "ES256", "kid": "p384"}, claims())
    with pytest.raises(TokenError, match="does not match"):
        v.verify(forged + "AAAA")


def test_api_oidc_interop_private_and_symmetric_members_ignored() -> None:
    private = RSAAlgorithm.to_jwk(SIG, as_dict=True)
    keys = parse_jwks(
        json.dumps(
            {
                "keys": [
                    {**private, "kid": "leaked"},
                    {"kty": "oct", "k": b64(b"secret-secret-secret"), "kid": "hmac"},
                    {"kty": "RSA", "kid": "broken", "n": "AQAB"},
                    jwk(EC256, "ok"),
                ]
            }
        ).encode()
    )
    assert [k.kid for k in keys] == ["ok"]
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key under test
    with pytest.raises(TokenError, match="no usable"):
        parse_jwks(json.dumps({"keys": [jwk(small, "weak")]}).encode())


def test_api_oidc_interop_kid_less_token_with_several_keys(tmp_path: Path) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    v = _verifier(tmp_path, [jwk(SIG, "a"), jwk(other, "b")])
    with pytest.raises(TokenError, match="no key id"):
        v.verify(token(header={"kid": None}))
    one = _verifier(tmp_path, [jwk(SIG, "a")])
    assert one.verify(token(header={"kid": None})).principal == "agent-001"


def test_api_oidc_interop_shared_kid_different_kty(tmp_path: Path) -> None:
    # RFC 7517 §4.5: keys of different kty may share a kid; the header's alg picks one.
    v = _verifier(tmp_path, [jwk(SIG, "same"), jwk(EC256, "same")])
    assert v.verify(token(header={"kid": "same"})).subject
    assert v.verify(token(key=EC256, alg="ES256", header={"kid": "same"})).subject


def test_api_oidc_interop_leeway_is_configurable(tmp_path: Path) -> None:
    late = token(claims(exp=int(time.time()) - 5))
    assert _verifier(tmp_path, [jwk(SIG, "kc-rs256")]).verify(late)
    with pytest.raises(TokenError, match="expired"):
        _verifier(tmp_path, [jwk(SIG, "kc-rs256")], leeway_s=0).verify(late)


def test_api_oidc_interop_typ_at_jwt(tmp_path: Path) -> None:
    v = _verifier(tmp_path, [jwk(SIG, "kc-rs256")], typ="at+jwt")
    for typ in ("at+jwt", "application/at+jwt", "AT+JWT"):
        assert v.verify(token(header={"typ": typ})).subject
    for bad in ("JWT", None):
        with pytest.raises(TokenError, match="token type"):
            v.verify(token(header={"typ": bad}))
    # RFC 9068 §2.2 claims are required for an at+jwt.
    for claim in ("jti", "client_id", "iat"):
        with pytest.raises(TokenError, match=f"claim {claim} is missing"):
            v.verify(token(claims(**{claim: None}), header={"typ": "at+jwt"}))


# --- hostile input: every refusal is a TokenError (401), never a crash (5xx) ---------------


def test_api_oidc_interop_deeply_nested_header_is_refused(tmp_path: Path) -> None:
    v = _verifier(tmp_path, [jwk(SIG, "kc-rs256")])
    with pytest.raises(TokenError, match="malformed"):
        v.verify(b64(b"[" * 5000) + ".e30.")
    with pytest.raises(TokenError, match="malformed"):
        parse_jwks(b"[" * 100_000)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "crit", "b64", "jku", "x"]), _JSON, max_size=5
    ),
    payload=st.dictionaries(
        st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "sub", "realm_access"]), _JSON
    ),
    signature=st.text(max_size=50),
)
def test_api_oidc_interop_hostile_tokens_only_token_errors(
    header: dict[str, Any], payload: dict[str, Any], signature: str
) -> None:
    hostile = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{signature}"
    with pytest.raises(TokenError):
        _HOSTILE.verify(hostile)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_api_oidc_interop_arbitrary_text_only_token_errors(text: str) -> None:
    with pytest.raises(TokenError):
        _HOSTILE.verify(text)


def _hostile_verifier() -> OidcVerifier:
    directory = Path(tempfile.mkdtemp(prefix="rsrp-oidc-hostile-"))
    return _verifier(directory, [jwk(SIG, "kc-rs256"), jwk(EC256, "kc-es256")])


_HOSTILE = _hostile_verifier()


def test_api_oidc_interop_settings_reach_the_verifier(tmp_path: Path) -> None:
    from rsrp.api import load_settings

    (tmp_path / "jwks.json").write_text(json.dumps(keycloak_jwks()))
    config = tmp_path / "rsrp.toml"
    config.write_text(
        f"""
[auth.oidc]
issuer = "{REALM}"
audience = "{AUD}"
jwks = "{tmp_path / "jwks.json"}"
leeway_s = 0
typ = "at+jwt"
client_roles = "{AUD}"
jwks_max_age_s = 120
"""
    )
    settings = load_settings(
        config, **service_settings(tmp_path).model_dump(exclude={"auth", "mode"})
    )
    cfg = create_app(settings).state.service.auth.oidc.config
    assert (cfg.leeway_s, cfg.typ, cfg.client_roles, cfg.max_age_s) == (0, "at+jwt", AUD, 120.0)
