"""Signed policy bundles: who approved the rules a decision was made under.

A bundle signature is a detached file next to the bundle (``policy.rsrp.sig``)::

    {"format": "rsrp-bundle-signature/1", "bundle": id, "version": v,
     "jurisdiction": j, "policy_hash": hex, "key_id": k, "algorithm": alg,
     "signed_at": RFC 3339, "signature": base64}

The JSON is only a container. What is signed is the canonical encoding
(docs/canonical-hashing.md) of ``["rsrp-bundle-signature-v1", bundle, version,
jurisdiction, policy_hash, signed_at, key_id, algorithm]`` under the signature
context ``rsrp-policy-bundle-v1`` for ML-DSA (FIPS 204 §5.2 ``ctx``) and the
composite (draft-ietf-lamps-pq-composite-sigs ``ctx``); pure Ed25519 and ECDSA
take no context, and the domain string inside the message separates them.
Binding ``policy_hash`` (docs/policy-language.md, Hashes) rather than the
file's bytes means a comment or a reordering needs no new signature, while any
change of meaning does; it is also the value every decision envelope carries,
so an auditor can tie an envelope to a signed bundle.

Verification needs only a :class:`rsrp.keys.Keyring` of exported public keys:
the key must be a ``policy-signing`` key of the bundle's jurisdiction that was
allowed to sign at ``signed_at``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rsrp.canonical import canonical_bytes
from rsrp.errors import PolicyError, RsrpError
from rsrp.keys import Keyring, KeyStoreError, Purpose
from rsrp.keys.signer import Signer

if TYPE_CHECKING:
    from rsrp.policy._engine import Engine

__all__ = [
    "SIGNATURE_CONTEXT",
    "SIGNATURE_FORMAT",
    "BundleSignature",
    "BundleSignatureError",
    "sign_bundle",
    "verify_bundle",
]

SIGNATURE_FORMAT = "rsrp-bundle-signature/1"
SIGNATURE_CONTEXT = b"rsrp-policy-bundle-v1"
_DOMAIN = "rsrp-bundle-signature-v1"
_MAX_FILE = 64 * 1024
_NO_CONTEXT = ("ed25519", "ecdsa-p384-sha384")
_FIELDS = (
    "format",
    "bundle",
    "version",
    "jurisdiction",
    "policy_hash",
    "key_id",
    "algorithm",
    "signed_at",
    "signature",
)
_HEX32 = re.compile(r"[0-9a-f]{64}\Z")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z\Z")


class BundleSignatureError(PolicyError):
    """A bundle signature is malformed, does not match the bundle, or does not verify."""


@dataclass(frozen=True, slots=True)
class BundleSignature:
    """One detached signature over a bundle's identity and ``policy_hash``."""

    bundle: str
    version: str
    jurisdiction: str
    policy_hash: bytes
    key_id: str
    algorithm: str
    signed_at: datetime
    signature: bytes

    def message(self) -> bytes:
        """The exact bytes the key signs (module docstring)."""
        return canonical_bytes(
            [
                _DOMAIN,
                self.bundle,
                self.version,
                self.jurisdiction,
                self.policy_hash,
                _format_time(self.signed_at),
                self.key_id,
                self.algorithm,
            ]
        )

    def to_json(self) -> str:
        obj = {
            "format": SIGNATURE_FORMAT,
            "bundle": self.bundle,
            "version": self.version,
            "jurisdiction": self.jurisdiction,
            "policy_hash": self.policy_hash.hex(),
            "key_id": self.key_id,
            "algorithm": self.algorithm,
            "signed_at": _format_time(self.signed_at),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }
        return json.dumps(obj, indent=2) + "\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> BundleSignature:
        """Parse a signature file strictly; any deviation raises BundleSignatureError."""
        if len(data) > _MAX_FILE:
            raise BundleSignatureError(f"bundle signature larger than {_MAX_FILE} bytes")
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise BundleSignatureError(f"bundle signature is not JSON: {e}") from None
        if not isinstance(obj, dict) or sorted(obj) != sorted(_FIELDS):
            raise BundleSignatureError(
                f"bundle signature must be an object with exactly the fields {', '.join(_FIELDS)}"
            )
        if not all(isinstance(obj[k], str) and obj[k] for k in _FIELDS):
            raise BundleSignatureError("every bundle signature field must be a non-empty string")
        if obj["format"] != SIGNATURE_FORMAT:
            raise BundleSignatureError(f"not an {SIGNATURE_FORMAT} file: {obj['format']!r}")
        if not _HEX32.match(obj["policy_hash"]):
            raise BundleSignatureError("policy_hash must be 64 lower-case hex digits")
        if not _TIME.match(obj["signed_at"]):
            raise BundleSignatureError("signed_at must be an RFC 3339 UTC time ending in Z")
        try:
            signature = base64.b64decode(obj["signature"], validate=True)
            signed_at = datetime.fromisoformat(obj["signed_at"].replace("Z", "+00:00"))
        except (binascii.Error, ValueError) as e:
            raise BundleSignatureError(f"bundle signature field is malformed: {e}") from None
        return cls(
            bundle=obj["bundle"],
            version=obj["version"],
            jurisdiction=obj["jurisdiction"],
            policy_hash=bytes.fromhex(obj["policy_hash"]),
            key_id=obj["key_id"],
            algorithm=obj["algorithm"],
            signed_at=signed_at.astimezone(UTC),
            signature=signature,
        )


def _context(algorithm: str) -> bytes:
    # Pure Ed25519 and ECDSA take no context; the domain string inside the signed
    # message separates these signatures from every other use of the key.
    return b"" if algorithm in _NO_CONTEXT else SIGNATURE_CONTEXT


def _format_time(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sign_bundle(engine: Engine, signer: Signer, *, at: datetime | None = None) -> BundleSignature:
    """Sign ``engine``'s bundle with ``signer`` (which refuses another jurisdiction)."""
    b = engine.bundle
    unsigned = BundleSignature(
        bundle=b.id,
        version=b.version,
        jurisdiction=b.jurisdiction,
        policy_hash=engine.policy_hash,
        key_id=signer.key_id,
        algorithm=signer.algorithm,
        signed_at=(at or datetime.now(UTC)).astimezone(UTC),
        signature=b"",
    )
    try:
        sig = signer.sign(
            unsigned.message(), context=_context(signer.algorithm), jurisdiction=b.jurisdiction
        )
    except RsrpError as e:
        raise BundleSignatureError(f"cannot sign bundle {b.id} {b.version}: {e}") from e
    return dataclasses.replace(unsigned, signature=sig)


def verify_bundle(engine: Engine, signature: BundleSignature, keyring: Keyring) -> None:
    """Raise :class:`BundleSignatureError` unless ``signature`` is a valid signature
    over ``engine``'s bundle by a policy-signing key of its jurisdiction in ``keyring``."""
    b = engine.bundle
    expected = {
        "bundle": (signature.bundle, b.id),
        "version": (signature.version, b.version),
        "jurisdiction": (signature.jurisdiction, b.jurisdiction),
        "policy_hash": (signature.policy_hash.hex(), engine.policy_hash.hex()),
    }
    for name, (got, want) in expected.items():
        if got != want:
            raise BundleSignatureError(
                f"signature is for {name} {got!r} but the bundle has {want!r}: "
                "the bundle changed after it was signed, or this is another bundle's signature"
            )
    try:
        entry = keyring.entry(signature.key_id)
        info = entry.info
        if info.purpose != Purpose.POLICY_SIGNING:
            raise BundleSignatureError(
                f"key {info.key_id} is a {info.purpose.value} key, not a policy-signing key"
            )
        if info.jurisdiction != b.jurisdiction:
            raise BundleSignatureError(
                f"key {info.key_id} belongs to {info.jurisdiction}; the bundle is for "
                f"{b.jurisdiction}"
            )
        if info.algorithm != signature.algorithm:
            raise BundleSignatureError(
                f"signature says {signature.algorithm} but key {info.key_id} is {info.algorithm}"
            )
        verifier = keyring.verifier(signature.key_id, at=signature.signed_at)
        verifier.verify(signature.message(), signature.signature, context=_context(info.algorithm))
    except KeyStoreError as e:
        raise BundleSignatureError(f"bundle {b.id} {b.version}: {e}") from e
