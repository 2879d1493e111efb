"""Public-key export formats: PEM SubjectPublicKeyInfo, JWK/JWKS, C2SP signed-note keys.

* PEM: RFC 7468 §13 "PUBLIC KEY" around the SubjectPublicKeyInfo DER (RFC 5280).
* JWK (RFC 7517): P-384 as ``kty=EC`` (RFC 7518 §6.2, ``alg=ES384``); Ed25519 as
  ``kty=OKP`` (RFC 8037 §2, ``alg=EdDSA``); ML-DSA as ``kty=AKP`` with ``alg`` and
  ``pub`` (RFC 9964, formerly draft-ietf-cose-dilithium). The composite has no JOSE
  registration: we emit ``kty=AKP``, ``alg=X-RSRP-MLDSA65-ECDSA-P384-SHA512`` and
  ``pub`` = mldsaPK || ecdsaPK (draft-ietf-lamps-pq-composite-sigs §4.1) — ours,
  not a standard; JOSE libraries will ignore it.
* Signed-note keys (golang.org/x/mod/sumdb/note, C2SP signed-note): verifier key
  ``<name>+<hash>+<base64(0x01 || pub)>`` and signer key
  ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>`` where hash is the first 4
  bytes of SHA-256(name || 0x0A || 0x01 || pub), as 8 lower-case hex digits.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from rsrp import crypto
from rsrp.keys._errors import MalformedKeyMaterialError, NotAvailableError
from rsrp.keys._material import load_public

__all__ = [
    "jwk",
    "jwks",
    "note_key_hash",
    "note_skey",
    "note_vkey",
    "parse_note_skey",
    "parse_note_vkey",
    "spki_pem",
]

_COMPOSITE_JOSE_ALG = "X-RSRP-MLDSA65-ECDSA-P384-SHA512"
_ML_DSA_JOSE = {"ml-dsa-44": "ML-DSA-44", "ml-dsa-65": "ML-DSA-65", "ml-dsa-87": "ML-DSA-87"}
_NOTE_ED25519 = 0x01
_HASH = re.compile(r"^[0-9a-f]{8}\Z")


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def spki_pem(der: bytes) -> str:
    """RFC 7468 textual encoding of a SubjectPublicKeyInfo (64-character lines)."""
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def jwk(spki_der: bytes, *, kid: str) -> dict[str, Any]:
    """A public JWK for a signature key (see the module docstring for each key type)."""
    pub = load_public(spki_der)
    raw = pub.raw_bytes()
    alg = pub.algorithm
    base: dict[str, Any] = {"kid": kid, "use": "sig"}
    if alg == "ecdsa-p384-sha384":
        return base | {
            "kty": "EC",
            "crv": "P-384",
            "alg": "ES384",
            "x": _b64url(raw[1:49]),
            "y": _b64url(raw[49:97]),
        }
    if alg == "ed25519":
        return base | {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": _b64url(raw)}
    if alg in _ML_DSA_JOSE:
        return base | {"kty": "AKP", "alg": _ML_DSA_JOSE[alg], "pub": _b64url(raw)}
    if alg == crypto.composite.ALGORITHM:
        return base | {"kty": "AKP", "alg": _COMPOSITE_JOSE_ALG, "pub": _b64url(raw)}
    raise NotAvailableError(f"no JWK form for {alg} keys in this build")


def jwks(keys: list[tuple[str, bytes]]) -> dict[str, Any]:
    """A JWK Set (RFC 7517 §5) from ``(kid, SubjectPublicKeyInfo DER)`` pairs."""
    return {"keys": [jwk(der, kid=kid) for kid, der in keys]}


def _check_name(name: str) -> None:
    # golang.org/x/mod/sumdb/note isValidName: non-empty, no '+', no white space.
    if not name or "+" in name or any(c.isspace() for c in name):
        raise MalformedKeyMaterialError(f"invalid note key name {name!r}")


def note_key_hash(name: str, pub: bytes) -> str:
    """First 4 bytes of SHA-256(name || '\\n' || 0x01 || pub), 8 hex digits."""
    _check_name(name)
    h = hashlib.sha256(name.encode() + b"\n" + bytes([_NOTE_ED25519]) + pub).digest()
    return h[:4].hex()


def _ed25519_raw(spki_der: bytes) -> bytes:
    pub = load_public(spki_der)
    if pub.algorithm != "ed25519":
        raise NotAvailableError(f"signed-note keys are Ed25519; this key is {pub.algorithm}")
    return pub.raw_bytes()


def note_vkey(name: str, spki_der: bytes) -> str:
    """The verifier-key string ``name+hash+base64(0x01 || pub)`` of an Ed25519 key."""
    pub = _ed25519_raw(spki_der)
    key = base64.b64encode(bytes([_NOTE_ED25519]) + pub).decode()
    return f"{name}+{note_key_hash(name, pub)}+{key}"


def note_skey(name: str, seed: bytes) -> str:
    """The signer-key string ``PRIVATE+KEY+name+hash+base64(0x01 || seed)``."""
    if len(seed) != 32:
        raise MalformedKeyMaterialError("an Ed25519 seed is 32 bytes")
    pub = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    key = base64.b64encode(bytes([_NOTE_ED25519]) + seed).decode()
    return f"PRIVATE+KEY+{name}+{note_key_hash(name, pub)}+{key}"


def _split_key(text: str, what: str) -> tuple[str, str, bytes]:
    name, sep1, rest = text.partition("+")
    khash, sep2, b64 = rest.partition("+")
    if not (sep1 and sep2) or not _HASH.match(khash):
        raise MalformedKeyMaterialError(f"malformed note {what} key")
    _check_name(name)
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError as e:
        raise MalformedKeyMaterialError(f"note {what} key is not base64") from e
    if len(raw) != 33 or raw[0] != _NOTE_ED25519:
        raise MalformedKeyMaterialError(f"note {what} key is not an Ed25519 (type 0x01) key")
    return name, khash, raw[1:]


def parse_note_vkey(vkey: str) -> tuple[str, bytes]:
    """``(name, raw Ed25519 public key)``; checks the key hash."""
    name, khash, pub = _split_key(vkey, "verifier")
    if note_key_hash(name, pub) != khash:
        raise MalformedKeyMaterialError("note verifier key hash does not match the key")
    return name, pub


def parse_note_skey(skey: str) -> tuple[str, bytes]:
    """``(name, Ed25519 seed)``; checks the key hash against the derived public key."""
    if not skey.startswith("PRIVATE+KEY+"):
        raise MalformedKeyMaterialError("note signer key must start with PRIVATE+KEY+")
    name, khash, seed = _split_key(skey[len("PRIVATE+KEY+") :], "signer")
    pub = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    if note_key_hash(name, pub) != khash:
        raise MalformedKeyMaterialError("note signer key hash does not match the key")
    return name, seed
