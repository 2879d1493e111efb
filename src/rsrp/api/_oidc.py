"""OIDC bearer tokens: JWS verification against a JWKS (RFC 7515/7517/7519).

Checks, in order: header algorithm in the allow-list (asymmetric only, never
``none`` or ``HS*``), a known ``kid`` (an unknown kid refreshes the JWKS, at most
once per ``min_refresh_s``), signature, ``iss``, ``aud``, ``exp``, ``nbf``. Roles
come from Keycloak's ``realm_access.roles`` through a configured map.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from rsrp.errors import ConfigError, ServiceError

__all__ = [
    "SAFE_ALGORITHMS",
    "JwksSource",
    "OidcConfig",
    "OidcVerifier",
    "TokenError",
    "TokenIdentity",
]

#: Asymmetric JWS algorithms we accept (RFC 7518 §3, RFC 8037 §3.1).
SAFE_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"})
_MAX_TOKEN = 8192


class TokenError(ServiceError):
    """A bearer token was refused; the message says why (never echoes the token)."""


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    audience: str
    #: A local JWKS file path or an https:// URL (http:// only on loopback).
    jwks: str
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    principal_claim: str = "preferred_username"
    #: Keycloak realm role → rsrp role.
    role_map: Mapping[str, str] = field(default_factory=dict)
    leeway_s: int = 30
    min_refresh_s: float = 30.0

    def __post_init__(self) -> None:
        bad = set(self.algorithms) - SAFE_ALGORITHMS
        if bad or not self.algorithms:
            raise ConfigError(
                f"oidc.algorithms: {', '.join(sorted(bad)) or 'empty'} not allowed; "
                f"use asymmetric algorithms from {', '.join(sorted(SAFE_ALGORITHMS))}"
            )
        if self.jwks.startswith("http://"):
            host = urllib.parse.urlsplit(self.jwks).hostname or ""
            try:
                loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise ConfigError("oidc.jwks: plain http is allowed on loopback only")


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    principal: str
    roles: frozenset[str]
    subject: str


class JwksSource:
    """A cached JWKS, re-read on an unknown kid (rate-limited)."""

    def __init__(self, location: str, min_refresh_s: float) -> None:
        self.location = location
        self.min_refresh_s = min_refresh_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _fetch(self) -> Any:
        try:
            if self.location.startswith(("https://", "http://")):
                resp = httpx.get(self.location, timeout=5.0)
                resp.raise_for_status()
                return resp.json()
            return json.loads(Path(self.location).read_text(encoding="utf-8"))
        except (OSError, httpx.HTTPError, ValueError) as e:
            raise TokenError("the identity provider's key set is unavailable") from e

    def _refresh(self) -> None:
        data = self._fetch()
        try:
            keyset = jwt.PyJWKSet.from_dict(data)
        except jwt.PyJWTError as e:
            raise TokenError("the identity provider's key set is malformed") from e
        self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
        self._loaded_at = time.monotonic()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._loaded_at >= self.min_refresh_s:
                self._refresh()
            found = self._keys.get(kid)
        if found is None:
            raise TokenError("token signed by an unknown key")
        return found


class OidcVerifier:
    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self.jwks = JwksSource(config.jwks, config.min_refresh_s)

    def verify(self, token: str) -> TokenIdentity:
        """Verify a compact JWS bearer token; raise TokenError with the reason."""
        cfg = self.config
        if len(token) > _MAX_TOKEN:
            raise TokenError("token too large")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise TokenError("malformed token") from e
        alg = header.get("alg")
        if alg not in cfg.algorithms:
            raise TokenError(f"token algorithm {str(alg)[:16]!r} is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("token has no key id")
        jwk = self.jwks.key(kid)
        if jwk.algorithm_name != alg:
            raise TokenError("token algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                jwk.key,
                algorithms=[alg],
                audience=cfg.audience,
                issuer=cfg.issuer,
                leeway=cfg.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"], "verify_nbf": True},
            )
        except jwt.ExpiredSignatureError as e:
            raise TokenError("token expired") from e
        except jwt.ImmatureSignatureError as e:
            raise TokenError("token not yet valid (nbf)") from e
        except jwt.InvalidAudienceError as e:
            raise TokenError("token audience is not this service") from e
        except jwt.InvalidIssuerError as e:
            raise TokenError("token issuer is not trusted") from e
        except jwt.InvalidSignatureError as e:
            raise TokenError("token signature invalid") from e
        except jwt.PyJWTError as e:
            raise TokenError(f"token rejected: {type(e).__name__}") from e
        principal = claims.get(cfg.principal_claim) or claims.get("sub")
        if not isinstance(principal, str) or not principal:
            raise TokenError(f"token has no {cfg.principal_claim} claim")
        realm = claims.get("realm_access")
        raw_roles = realm.get("roles", []) if isinstance(realm, dict) else []
        roles = frozenset(
            cfg.role_map[r] for r in raw_roles if isinstance(r, str) and r in cfg.role_map
        )
        return TokenIdentity(principal=principal, roles=roles, subject=str(claims["sub"]))
