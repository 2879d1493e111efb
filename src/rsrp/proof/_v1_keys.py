"""Keys for R-SRP V1 envelopes: Ed25519, and the hybrid Ed25519 + ML-DSA pair.

The hybrid mirrors R-SRP crates/pqcrypto/src/hybrid.rs: both components sign
``b"rsrp-hybrid-signature-v1" || u32 len || message`` (ML-DSA with the empty FIPS 204
context, as liboqs signs), and the signature is ``u16 64 || ed25519 || ml-dsa``.
Two Ed25519 seed derivations exist in R-SRP: the published fixture used
``SHA-256(secret)``, the current code HKDF-SHA256 (salt ``rsrp-security-core-ed25519-v1``,
info ``signing-seed``); both are here so either can be reproduced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rsrp.proof._errors import SignatureInvalidError, SigningFailedError
from rsrp.proof._v1 import MLDSA_LEVELS, hybrid_payload, split_hybrid_signature

__all__ = [
    "Ed25519Signer",
    "Ed25519Verifier",
    "HybridV1Signer",
    "HybridV1Verifier",
    "MLDSAPrivateKey",
    "MLDSAPublicKey",
    "ed25519_from_secret",
    "mldsa_level_code",
]

MLDSAPrivateKey = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
MLDSAPublicKey = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey

_HKDF_SALT = b"rsrp-security-core-ed25519-v1"
_HKDF_INFO = b"signing-seed"


def ed25519_from_secret(
    secret: bytes, derivation: Literal["hkdf", "sha256"] = "hkdf"
) -> ed25519.Ed25519PrivateKey:
    """R-SRP ``Ed25519KeyPair::derive_from_secret`` (``hkdf``, current code) or the
    fixture's older ``SHA-256(secret)`` seed (``sha256``). Test and interop use only."""
    if derivation == "sha256":
        seed = hashlib.sha256(secret).digest()
    else:
        seed = HKDF(hashes.SHA256(), 32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(secret)
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def mldsa_level_code(key: MLDSAPrivateKey | MLDSAPublicKey) -> int:
    """2, 3 or 5 for ML-DSA-44, -65, -87 (V1 ``level_code``)."""
    if isinstance(key, mldsa.MLDSA44PrivateKey | mldsa.MLDSA44PublicKey):
        return 2
    if isinstance(key, mldsa.MLDSA65PrivateKey | mldsa.MLDSA65PublicKey):
        return 3
    return 5


def _spki(key: ed25519.Ed25519PublicKey | MLDSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _no_context(context: bytes) -> None:
    if context:
        raise SigningFailedError("V1 signatures take no context string")


class _KeyInfo:
    __slots__ = ("_jurisdiction", "_key_id")

    def __init__(self, key_id: str, jurisdiction: str) -> None:
        self._key_id = key_id
        self._jurisdiction = jurisdiction

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def jurisdiction(self) -> str:
        return self._jurisdiction

    def _check_jurisdiction(self, jurisdiction: str | None) -> None:
        if jurisdiction is not None and jurisdiction != self._jurisdiction:
            raise SigningFailedError(
                f"key {self._key_id} signs for {self._jurisdiction!r}, not {jurisdiction!r}"
            )


class Ed25519Signer(_KeyInfo):
    """A ``Signer`` over an in-memory Ed25519 key (V1 envelopes, tests, benchmarks)."""

    __slots__ = ("_key",)

    def __init__(self, key: ed25519.Ed25519PrivateKey, key_id: str, jurisdiction: str = "") -> None:
        super().__init__(key_id, jurisdiction)
        self._key = key

    @property
    def algorithm(self) -> str:
        return "ed25519"

    def public_key_der(self) -> bytes:
        return _spki(self._key.public_key())

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        _no_context(context)
        self._check_jurisdiction(jurisdiction)
        return self._key.sign(message)


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    key: ed25519.Ed25519PublicKey
    key_id: str

    @property
    def algorithm(self) -> str:
        return "ed25519"

    def verify(self, message: bytes, signature: bytes, *, context: bytes = b"") -> None:
        try:
            self.key.verify(signature, message)
        except InvalidSignature as e:
            raise SignatureInvalidError("ed25519") from e


class HybridV1Signer(_KeyInfo):
    """R-SRP ``HybridSigner``: Ed25519 + ML-DSA over the prefixed payload."""

    __slots__ = ("_classical", "_pq")

    def __init__(
        self,
        classical: ed25519.Ed25519PrivateKey,
        pq: MLDSAPrivateKey,
        key_id: str,
        jurisdiction: str = "",
    ) -> None:
        super().__init__(key_id, jurisdiction)
        self._classical = classical
        self._pq = pq

    @property
    def level_code(self) -> int:
        return mldsa_level_code(self._pq)

    @property
    def algorithm(self) -> str:
        return "ed25519+" + MLDSA_LEVELS[self.level_code][0]

    def public_key_der(self) -> bytes:
        """Ed25519 SubjectPublicKeyInfo DER followed by the ML-DSA one (both self-delimiting)."""
        return _spki(self._classical.public_key()) + _spki(self._pq.public_key())

    def verifier(self) -> HybridV1Verifier:
        return HybridV1Verifier(self._classical.public_key(), self._pq.public_key(), self.key_id)

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        """``message`` is the V1 ``signing_bytes``; returns the framed hybrid signature."""
        _no_context(context)
        self._check_jurisdiction(jurisdiction)
        payload = hybrid_payload(message)
        classical = self._classical.sign(payload)
        pq = self._pq.sign(payload)
        return len(classical).to_bytes(2, "big") + classical + pq


@dataclass(frozen=True, slots=True)
class HybridV1Verifier:
    """Both components must verify; the error names the one(s) that did not."""

    classical: ed25519.Ed25519PublicKey
    pq: MLDSAPublicKey
    key_id: str

    @property
    def level_code(self) -> int:
        return mldsa_level_code(self.pq)

    @property
    def algorithm(self) -> str:
        return "ed25519+" + MLDSA_LEVELS[self.level_code][0]

    def verify(self, message: bytes, signature: bytes, *, context: bytes = b"") -> None:
        classical, pq = split_hybrid_signature(signature, self.level_code)
        payload = hybrid_payload(message)
        failed = []
        try:
            self.classical.verify(classical, payload)
        except InvalidSignature:
            failed.append("ed25519")
        try:
            self.pq.verify(pq, payload)
        except InvalidSignature:
            failed.append("ml-dsa")
        if failed:
            raise SignatureInvalidError("+".join(failed))
