"""The identity provider's JWK Set: fetched, cached, and the key a token may use.

A key verifies a JWS only if its own members allow the header's ``alg``
(RFC 8725 §3.1, "use appropriate algorithms"; RFC 7517 §4.2-4.4): ``kty``/``crv``
fit the algorithm (RSA → RS*/PS*, EC P-256/P-384/P-521 → ES256/ES384/ES512,
OKP Ed25519/Ed448 → EdDSA), its ``alg`` member, when present, is that exact
algorithm, its ``use`` is ``sig`` and its ``key_ops`` include ``verify`` when
present. Symmetric (``oct``) keys, keys carrying private members and RSA keys
under 2048 bits (RFC 7518 §3.3) are ignored, as RFC 7517 §5 asks for members a
recipient does not understand.

The set is re-read when a token names a ``kid`` it lacks, or once it is older
than ``max_age_s`` (so a key the provider withdrew stops verifying), never more
often than once per ``min_refresh_s`` whatever the traffic (no refetch storm
against a slow or failing provider). An URL is fetched with a total deadline and
a size cap, without following redirects; a failed refresh keeps the last good set.
"""

from __future__ import annotations

import json
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jwt import PyJWTError
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from rsrp.errors import ServiceError

__all__ = ["MAX_JWKS_BYTES", "SAFE_ALGORITHMS", "Jwk", "JwksSource", "TokenError"]

log = logging.getLogger("rsrp.api.oidc")

_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_ALGORITHM = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_OKP_CURVES = frozenset({"Ed25519", "Ed448"})
#: Asymmetric JWS algorithms we accept (RFC 7518 §3.3-3.5, RFC 8037 §3.1).
SAFE_ALGORITHMS = _RSA_ALGORITHMS | frozenset(_EC_ALGORITHM.values()) | {"EdDSA"}
#: A key set larger than this is refused (Keycloak's has a handful of keys, ~3 KiB).
MAX_JWKS_BYTES = 512 * 1024
_MIN_RSA_BITS = 2048


class TokenError(ServiceError):
    """A bearer token was refused; the message says why (never echoes the token)."""


@dataclass(frozen=True, slots=True)
class Jwk:
    """One usable verification key of the set."""

    kid: str | None
    kty: str
    crv: str | None
    alg: str | None
    key: Any  # a cryptography public key object

    def allows(self, alg: str) -> bool:
        """Whether this key may verify a JWS whose header names ``alg`` (module docstring)."""
        if self.alg is not None and self.alg != alg:
            return False
        if self.kty == "RSA":
            return alg in _RSA_ALGORITHMS
        if self.kty == "EC":
            return _EC_ALGORITHM.get(self.crv or "") == alg
        return self.kty == "OKP" and alg == "EdDSA" and self.crv in _OKP_CURVES


def _usable(raw: Mapping[str, Any]) -> Jwk | None:
    """The key, or None for a member we must ignore (module docstring)."""
    kty, kid, alg = raw.get("kty"), raw.get("kid"), raw.get("alg")
    use, ops, crv = raw.get("use"), raw.get("key_ops"), raw.get("crv")
    if use is not None and use != "sig":
        return None
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    if "d" in raw or (kid is not None and not isinstance(kid, str)):
        return None
    if alg is not None and alg not in SAFE_ALGORITHMS:
        return None
    loaders: dict[Any, Callable[[str], Any]] = {
        "RSA": RSAAlgorithm.from_jwk,
        "EC": ECAlgorithm.from_jwk,
        "OKP": OKPAlgorithm.from_jwk,
    }
    if (
        not isinstance(kty, str)
        or kty not in loaders
        or (crv is not None and not isinstance(crv, str))
    ):
        return None
    try:
        key = loaders[kty](json.dumps(dict(raw)))
    except (PyJWTError, ValueError, TypeError, KeyError):  # ignored, RFC 7517 §5
        return None
    if kty == "RSA" and key.key_size < _MIN_RSA_BITS:
        return None
    return Jwk(kid=kid, kty=kty, crv=crv, alg=alg, key=key)


def parse_jwks(data: bytes) -> tuple[Jwk, ...]:
    """The usable keys of a JWK Set document (RFC 7517 §5); TokenError if none."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise TokenError("the identity provider's key set is malformed") from e
    members = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(members, list):
        raise TokenError("the identity provider's key set is malformed")
    keys = tuple(k for k in (_usable(m) for m in members if isinstance(m, dict)) if k)
    if not keys:
        raise TokenError("the identity provider's key set has no usable signing key")
    return keys


class JwksSource:
    """A cached JWK Set, re-read on an unknown kid or when stale (rate-limited)."""

    def __init__(
        self,
        location: str,
        *,
        min_refresh_s: float,
        max_age_s: float = 600.0,
        timeout_s: float = 5.0,
        ca_file: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.location = location
        self.min_refresh_s = min_refresh_s
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s
        self.ca_file = ca_file
        self.clock = clock
        self.fetches = 0  # attempts, successful or not (observable in tests)
        self._keys: tuple[Jwk, ...] = ()
        self._loaded_at = -math.inf
        self._attempted_at = -math.inf
        self._lock = threading.Lock()  # one fetch at a time

    def _fetch(self) -> bytes:
        self.fetches += 1
        if not self.location.startswith(("https://", "http://")):
            try:
                with Path(self.location).open("rb") as f:
                    data = f.read(MAX_JWKS_BYTES + 1)
            except OSError as e:
                raise TokenError("the identity provider's key set is unavailable") from e
            if len(data) > MAX_JWKS_BYTES:
                raise TokenError("the identity provider's key set is too large")
            return data
        verify: ssl.SSLContext | bool = True
        if self.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(self.ca_file))
        deadline = time.monotonic() + self.timeout_s
        buf = bytearray()
        try:
            with (
                httpx.Client(timeout=self.timeout_s, verify=verify, follow_redirects=False) as c,
                c.stream("GET", self.location, headers={"accept": "application/json"}) as resp,
            ):
                if resp.status_code != 200:
                    raise TokenError(f"the identity provider answered {resp.status_code} for keys")
                for chunk in resp.iter_bytes():
                    buf += chunk
                    if len(buf) > MAX_JWKS_BYTES:
                        raise TokenError("the identity provider's key set is too large")
                    if time.monotonic() > deadline:  # a provider trickling bytes
                        raise TokenError("the identity provider's key set timed out")
        except httpx.HTTPError as e:
            raise TokenError("the identity provider's key set is unavailable") from e
        return bytes(buf)

    def _refresh(self, *, wait: bool) -> None:
        """Re-read the set unless one was attempted within ``min_refresh_s``."""
        if not self._lock.acquire(blocking=wait):
            return  # another thread is fetching; use the current set meanwhile
        try:
            if self.clock() - self._attempted_at < self.min_refresh_s:
                return
            self._attempted_at = self.clock()
            try:
                keys = parse_jwks(self._fetch())
            except TokenError as e:
                if not self._keys:
                    raise
                log.warning("JWKS refresh failed, keeping the previous keys: %s", e)
                return
            self._keys, self._loaded_at = keys, self.clock()
        finally:
            self._lock.release()

    def keys_for(self, kid: str | None, alg: str) -> list[Jwk]:
        """The keys that may verify a token with header ``kid`` (None: absent) and ``alg``."""
        for attempt in (0, 1):
            keys = self._keys
            named = [k for k in keys if k.kid == kid] if kid is not None else list(keys)
            usable = [k for k in named if k.allows(alg)]
            stale = self.clock() - self._loaded_at >= self.max_age_s
            if attempt or (named and usable and not stale):
                break
            # An unknown kid waits for the (rate-limited) refresh; a stale set with
            # the key present is refreshed by one caller while the others go on.
            self._refresh(wait=not (named and usable))
        if not keys:
            raise TokenError("the identity provider's key set is unavailable")
        if kid is not None:
            if not named:
                raise TokenError("token signed by an unknown key")
            if not usable:
                raise TokenError("token algorithm does not match its key")
        elif len(usable) != 1:
            raise TokenError(
                f"token has no key id (kid) and the key set has {len(usable)} keys for {alg}"
            )
        return usable
