"""Who is calling and what they may do: mTLS peer or OIDC bearer → Identity with roles.

A bearer token, when present, names the caller (the certificate then only
identifies the calling system). Without one, the verified client certificate's
principal is the caller; its roles come from ``auth.principals`` or else from the
agent's level in the registry (AGENT → agent, SUPERVISOR → agent + supervisor,
AUDITOR → auditor). Unknown principals get no role.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rsrp.api._oidc import OidcVerifier, TokenError
from rsrp.api._tls import TLS_PEER_KEY, PeerCertificate
from rsrp.context import Level, Registry
from rsrp.errors import RsrpError, ServiceError

__all__ = [
    "AuthError",
    "Authenticator",
    "Identity",
    "RateLimitedError",
    "RateLimiter",
    "Role",
]


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


_LEVEL_ROLES = {
    Level.AGENT: frozenset({Role.AGENT}),
    Level.SUPERVISOR: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Level.AUDITOR: frozenset({Role.AUDITOR}),
}


class AuthError(ServiceError):
    """No acceptable credentials: HTTP 401, or 400 for a malformed bearer request.

    ``bearer_error`` is the RFC 6750 §3.1 error code for the ``WWW-Authenticate``
    challenge: ``invalid_token`` (a token was sent and refused), ``invalid_request``
    (malformed), or None when the request carried no credentials (§3.1: then no code).
    """

    def __init__(self, message: str, bearer_error: str | None = None) -> None:
        super().__init__(message)
        self.bearer_error = bearer_error


class RateLimitedError(ServiceError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("rate limit exceeded")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Identity:
    principal: str
    roles: frozenset[Role]
    method: str  # "mtls" or "oidc"


class Authenticator:
    def __init__(
        self,
        registry: Registry,
        principals: Mapping[str, list[str]],
        oidc: OidcVerifier | None,
    ) -> None:
        self.registry = registry
        self.principals = {p: frozenset(Role(r) for r in rs) for p, rs in principals.items()}
        self.oidc = oidc

    def _cert_roles(self, principal: str) -> frozenset[Role]:
        if principal in self.principals:
            return self.principals[principal]
        try:
            agent = self.registry.agent(principal)
        except RsrpError:
            return frozenset()
        return _LEVEL_ROLES[agent.level] if agent.enabled else frozenset()

    def authenticate(
        self, extensions: Mapping[str, Any] | None, authorization: str | None
    ) -> Identity:
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer":
                raise AuthError("Authorization must be 'Bearer <token>'")
            if not token.strip():
                raise AuthError("the Bearer token is empty", "invalid_request")
            if self.oidc is None:
                raise AuthError("bearer tokens are not accepted by this service", "invalid_token")
            try:
                tok = self.oidc.verify(token.strip())
            except TokenError as e:
                raise AuthError(str(e), "invalid_token") from e
            roles = frozenset(Role(r) for r in tok.roles if r in Role.__members__.values())
            return Identity(tok.principal, roles, "oidc")
        tls = (extensions or {}).get("tls")
        peer = tls.get(TLS_PEER_KEY) if isinstance(tls, Mapping) else None
        if not isinstance(peer, PeerCertificate):
            refused = tls.get("client_cert_error") if isinstance(tls, Mapping) else None
            raise AuthError(refused or "a client certificate or a bearer token is required")
        return Identity(peer.principal, self._cert_roles(peer.principal), "mtls")


class RateLimiter:
    """Token bucket per principal: ``rate`` tokens/s, at most ``burst`` banked."""

    def __init__(self, rate: float, burst: int, max_principals: int = 100_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_principals = max_principals
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, principal: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(principal, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[principal] = (tokens, now)
                raise RateLimitedError((1.0 - tokens) / self.rate)
            if len(self._buckets) >= self.max_principals and principal not in self._buckets:
                # Forget full buckets first: they carry no state worth keeping.
                full = [p for p, (t, _) in self._buckets.items() if t >= self.burst]
                for p in full[: len(full) // 2 + 1]:
                    del self._buckets[p]
            self._buckets[principal] = (tokens - 1.0, now)
