"""OIDC bearer tokens: JWS verification against a JWKS (RFC 7515/7517/7519, RFC 8725).

Checks, in order: the compact form and its JOSE header — ``alg`` in the
allow-list (asymmetric only; ``none`` in any spelling and ``HS*`` never), no
``crit`` (RFC 7515 §4.1.11: we understand no extension, so a token naming one
is refused), ``typ`` when configured (RFC 7515 §4.1.9, compared without case and
``application/`` prefix; RFC 9068 ``at+jwt`` also requires its claims), ``kid``
a string when present; then the key (rsrp.api._jwks: bound to the header's
``alg``; a token without ``kid`` only when one key fits); the signature; ``iss``
(exact), ``aud`` (a string or an array holding ours), ``exp``/``nbf``/``iat``
with ``leeway_s``, each a JSON number (RFC 7519 §2 NumericDate: never a string
or a boolean). Roles come from Keycloak's ``realm_access.roles`` and, when
``client_roles`` names a client, ``resource_access.<client>.roles``, through
one role map.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from rsrp.api._jwks import SAFE_ALGORITHMS, JwksSource, TokenError
from rsrp.errors import ConfigError

__all__ = [
    "SAFE_ALGORITHMS",
    "JwksSource",
    "OidcConfig",
    "OidcVerifier",
    "TokenError",
    "TokenIdentity",
]

_MAX_TOKEN = 8192
_NUMERIC_DATES = ("exp", "nbf", "iat")
#: RFC 9068 §2.2: the claims a JWT access token carries.
_AT_JWT_CLAIMS = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    audience: str
    #: A local JWKS file path or an https:// URL (http:// only on loopback).
    jwks: str
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    principal_claim: str = "preferred_username"
    #: Keycloak realm (and client) role → rsrp role.
    role_map: Mapping[str, str] = field(default_factory=dict)
    leeway_s: int = 30
    min_refresh_s: float = 30.0
    max_age_s: float = 600.0
    #: Required JOSE ``typ`` (e.g. ``at+jwt``, RFC 9068); None: not checked.
    typ: str | None = None
    #: Also map ``resource_access.<client_roles>.roles`` (Keycloak client roles).
    client_roles: str | None = None
    #: CA bundle for an https JWKS URL (default: the system's trust store).
    jwks_ca: Path | None = None

    def __post_init__(self) -> None:
        bad = set(self.algorithms) - SAFE_ALGORITHMS
        if bad or not self.algorithms:
            raise ConfigError(
                f"oidc.algorithms: {', '.join(sorted(bad)) or 'empty'} not allowed; "
                f"use asymmetric algorithms from {', '.join(sorted(SAFE_ALGORITHMS))}"
            )
        if not 0 <= self.leeway_s <= 300:
            raise ConfigError("oidc.leeway_s must be between 0 and 300 seconds")
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


def _media_type(value: str) -> str:
    """RFC 7515 §4.1.9: ``typ`` compares case-insensitively, ``application/`` optional."""
    v = value.lower()
    return v[len("application/") :] if v.startswith("application/") else v


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed token (not a compact JWS)")
    try:
        raw = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4))
        header = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as e:  # deep nesting: RecursionError
        raise TokenError("malformed token header") from e
    if not isinstance(header, dict):
        raise TokenError("malformed token header")
    return header


def _numeric_dates(claims: Mapping[str, Any]) -> None:
    for name in _NUMERIC_DATES:
        if name not in claims:
            continue
        value = claims[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise TokenError(f"token claim {name} is not a NumericDate (RFC 7519 §2)")


class OidcVerifier:
    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self.jwks = JwksSource(
            config.jwks,
            min_refresh_s=config.min_refresh_s,
            max_age_s=config.max_age_s,
            ca_file=config.jwks_ca,
        )
        self._typ = _media_type(config.typ) if config.typ else None
        self._require = ["exp", "iss", "aud", "sub"]
        if self._typ == "at+jwt":
            self._require = _AT_JWT_CLAIMS

    def _check_header(self, header: Mapping[str, Any]) -> tuple[str, str | None]:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.config.algorithms:
            raise TokenError(f"token algorithm {str(alg)[:16]!r} is not allowed")
        if "crit" in header:
            raise TokenError("token has critical header parameters this service does not support")
        if self._typ is not None:
            typ = header.get("typ")
            if not isinstance(typ, str) or _media_type(typ) != self._typ:
                raise TokenError(f"token type is not {self.config.typ}")
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise TokenError("token key id (kid) is not a non-empty string")
        return alg, kid

    def _decode(self, token: str, alg: str, kid: str | None) -> dict[str, Any]:
        cfg = self.config
        for jwk in self.jwks.keys_for(kid, alg):
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    jwk.key,
                    algorithms=[alg],
                    audience=cfg.audience,
                    issuer=cfg.issuer,
                    leeway=cfg.leeway_s,
                    options={"require": self._require, "enforce_minimum_key_length": True},
                )
            except jwt.InvalidSignatureError:
                continue  # several keys may share a kid (RFC 7517 §4.5)
            except jwt.ExpiredSignatureError as e:
                raise TokenError("token expired") from e
            except jwt.ImmatureSignatureError as e:
                claim = "iat" if "(iat)" in str(e) else "nbf"
                raise TokenError(f"token not yet valid ({claim})") from e
            except jwt.InvalidAudienceError as e:
                raise TokenError("token audience is not this service") from e
            except jwt.InvalidIssuerError as e:
                raise TokenError("token issuer is not trusted") from e
            except jwt.MissingRequiredClaimError as e:
                raise TokenError(f"token rejected: claim {e.claim} is missing") from e
            except jwt.PyJWTError as e:
                raise TokenError(f"token rejected: {type(e).__name__}") from e
            except RecursionError as e:  # a payload nested beyond the parser's depth
                raise TokenError("malformed token payload") from e
            return claims
        raise TokenError("token signature invalid")

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[str]:
        raw: list[Any] = []
        realm = claims.get("realm_access")
        if isinstance(realm, dict) and isinstance(realm.get("roles"), list):
            raw += realm["roles"]
        client = self.config.client_roles
        resource = claims.get("resource_access")
        if client is not None and isinstance(resource, dict):
            entry = resource.get(client)
            if isinstance(entry, dict) and isinstance(entry.get("roles"), list):
                raw += entry["roles"]
        role_map = self.config.role_map
        return frozenset(role_map[r] for r in raw if isinstance(r, str) and r in role_map)

    def verify(self, token: str) -> TokenIdentity:
        """Verify a compact JWS bearer token; raise TokenError with the reason."""
        if len(token) > _MAX_TOKEN:
            raise TokenError("token too large")
        alg, kid = self._check_header(_header(token))
        claims = self._decode(token, alg, kid)
        _numeric_dates(claims)
        cfg = self.config
        principal = claims.get(cfg.principal_claim) or claims.get("sub")
        if not isinstance(principal, str) or not principal:
            raise TokenError(f"token has no {cfg.principal_claim} claim")
        return TokenIdentity(principal=principal, roles=self._roles(claims), subject=claims["sub"])
