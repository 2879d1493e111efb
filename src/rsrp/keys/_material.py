"""Software key material: generate, serialise (PKCS#8), sign, decapsulate.

All primitives come from ``cryptography`` and ``rsrp.crypto``; this module only
maps our algorithm names to them and translates their errors into
:class:`KeyStoreError` subclasses at the key-plane boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, x25519

from rsrp.keys._errors import MalformedKeyMaterial, NotAvailable

__all__ = ["SoftwareKey", "generate_material", "load_pkcs8", "spki_of"]

_ML_DSA: dict[str, Any] = {
    "ml-dsa-44": mldsa.MLDSA44PrivateKey,
    "ml-dsa-65": mldsa.MLDSA65PrivateKey,
    "ml-dsa-87": mldsa.MLDSA87PrivateKey,
}
_ECDSA = ec.ECDSA(hashes.SHA384())
_DER = serialization.Encoding.DER


def _check_no_context(algorithm: str, context: bytes) -> None:
    # Pure Ed25519 (RFC 8032 §5.1) and ECDSA have no context input; silently ignoring
    # one would let a caller believe a domain separation exists that does not.
    if context:
        raise NotAvailable(f"{algorithm} signatures take no context string")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SoftwareKey:
    """A private key held in process memory, with our algorithm name."""

    algorithm: str
    key: Any

    def __repr__(self) -> str:
        return f"SoftwareKey({self.algorithm}, <secret>)"

    def pkcs8_der(self) -> bytes:
        if self.algorithm == "mldsa65-ecdsa-p384-sha512":
            der: bytes = self.key.pkcs8_der()
            return der
        out: bytes = self.key.private_bytes(
            _DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return out

    def public_key_der(self) -> bytes:
        if self.algorithm == "mldsa65-ecdsa-p384-sha512":
            der: bytes = self.key.public_key().spki_der()
            return der
        out: bytes = self.key.public_key().public_bytes(
            _DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return out

    def sign(self, message: bytes, context: bytes = b"") -> bytes:
        alg = self.algorithm
        if alg == "ed25519":
            _check_no_context(alg, context)
            sig: bytes = self.key.sign(message)
        elif alg == "ecdsa-p384-sha384":
            _check_no_context(alg, context)
            sig = self.key.sign(message, _ECDSA)
        elif alg in _ML_DSA:
            sig = self.key.sign(message, context) if context else self.key.sign(message)
        elif alg == "mldsa65-ecdsa-p384-sha512":
            sig = self.key.sign(message, context)
        else:
            raise NotAvailable(f"{alg} keys do not sign")
        return sig

    def decapsulate(self, ciphertext: bytes) -> bytes:
        alg = self.algorithm
        try:
            if alg == "x25519":
                if len(ciphertext) != 32:
                    raise MalformedKeyMaterial("X25519 ciphertext must be a 32-byte public key")
                peer = x25519.X25519PublicKey.from_public_bytes(ciphertext)
                shared: bytes = self.key.exchange(peer)
            elif alg == "ml-kem-768":
                shared = self.key.decapsulate(ciphertext)
            else:
                raise NotAvailable(f"{alg} keys do not decapsulate")
        except ValueError as e:
            raise MalformedKeyMaterial(f"{alg} decapsulation failed: {e}") from e
        return shared


def _composite() -> Any:
    try:
        from rsrp.crypto import composite
    except ImportError as e:
        raise NotAvailable("composite ML-DSA-65 + ECDSA P-384 is not available in this build") from e
    return composite.CompositePrivateKey


def generate_material(algorithm: str) -> SoftwareKey:
    """A fresh private key of ``algorithm`` from the OS CSPRNG (via ``cryptography``)."""
    if algorithm == "ed25519":
        return SoftwareKey(algorithm, ed25519.Ed25519PrivateKey.generate())
    if algorithm == "ecdsa-p384-sha384":
        return SoftwareKey(algorithm, ec.generate_private_key(ec.SECP384R1()))
    if algorithm in _ML_DSA:
        return SoftwareKey(algorithm, _ML_DSA[algorithm].generate())
    if algorithm == "mldsa65-ecdsa-p384-sha512":
        return SoftwareKey(algorithm, _composite().generate())
    if algorithm == "x25519":
        return SoftwareKey(algorithm, x25519.X25519PrivateKey.generate())
    if algorithm == "ml-kem-768":
        return SoftwareKey(algorithm, mlkem.MLKEM768PrivateKey.generate())
    raise NotAvailable(f"algorithm {algorithm!r} is not available in the software store")


def _algorithm_of(key: object) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP384R1):
            raise MalformedKeyMaterial(f"EC curve {key.curve.name} is not supported (want P-384)")
        return "ecdsa-p384-sha384"
    for name, cls in _ML_DSA.items():
        if isinstance(key, cls):
            return name
    if isinstance(key, x25519.X25519PrivateKey):
        return "x25519"
    if isinstance(key, mlkem.MLKEM768PrivateKey):
        return "ml-kem-768"
    raise MalformedKeyMaterial(f"unsupported private key type {type(key).__name__}")


def load_pkcs8(der: bytes) -> SoftwareKey:
    """Parse an unencrypted PKCS#8 (RFC 5958) private key of any supported algorithm."""
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as e:
        try:
            return SoftwareKey("mldsa65-ecdsa-p384-sha512", _composite().from_pkcs8_der(der))
        except Exception:
            raise MalformedKeyMaterial(f"not a supported PKCS#8 private key: {e}") from e
    except Exception as e:  # cryptography's UnsupportedAlgorithm
        raise MalformedKeyMaterial(f"not a supported PKCS#8 private key: {e}") from e
    return SoftwareKey(_algorithm_of(key), key)


def spki_of(material: SoftwareKey) -> bytes:
    return material.public_key_der()
