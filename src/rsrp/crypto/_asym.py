"""Algorithm-agnostic public and private keys: parse, serialise, sign, verify.

One name per algorithm, shared with ``rsrp.keys`` and the proof envelope:
``ed25519``, ``ecdsa-p384-sha384``, ``ml-dsa-44``, ``ml-dsa-65``, ``ml-dsa-87``,
``mldsa65-ecdsa-p384-sha512`` (the composite) and ``x-wing`` (the hybrid KEM,
for data-encryption keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

from cryptography import exceptions as cx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rsrp.crypto import _der, _pem, composite, xwing
from rsrp.crypto._errors import (
    CryptoError,
    InvalidSignature,
    MalformedKey,
    SelfTestFailure,
    UnsupportedAlgorithm,
)

__all__ = [
    "ALGORITHMS",
    "KEM_ALGORITHMS",
    "SIGNATURE_ALGORITHMS",
    "PrivateKey",
    "PublicKey",
    "generate",
    "load_private_key",
    "load_public_key",
]

ED25519: Final = "ed25519"
ECDSA_P384: Final = "ecdsa-p384-sha384"
ML_DSA_44: Final = "ml-dsa-44"
ML_DSA_65: Final = "ml-dsa-65"
ML_DSA_87: Final = "ml-dsa-87"
COMPOSITE: Final = composite.ALGORITHM
X_WING: Final = xwing.ALGORITHM

SIGNATURE_ALGORITHMS: Final = (ED25519, ECDSA_P384, ML_DSA_44, ML_DSA_65, ML_DSA_87, COMPOSITE)
KEM_ALGORITHMS: Final = (X_WING,)
ALGORITHMS: Final = SIGNATURE_ALGORITHMS + KEM_ALGORITHMS

_MLDSA_PUB: dict[str, type] = {
    ML_DSA_44: mldsa.MLDSA44PublicKey,
    ML_DSA_65: mldsa.MLDSA65PublicKey,
    ML_DSA_87: mldsa.MLDSA87PublicKey,
}
_MLDSA_PRIV: dict[str, type] = {
    ML_DSA_44: mldsa.MLDSA44PrivateKey,
    ML_DSA_65: mldsa.MLDSA65PrivateKey,
    ML_DSA_87: mldsa.MLDSA87PrivateKey,
}
_ECDSA: Final = ec.ECDSA(hashes.SHA384())
_PCT_MESSAGE: Final = b"rsrp pairwise consistency test"

_MlDsaPub: TypeAlias = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
_MlDsaPriv: TypeAlias = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
_Pub: TypeAlias = (
    ed25519.Ed25519PublicKey
    | ec.EllipticCurvePublicKey
    | _MlDsaPub
    | composite.CompositePublicKey
    | xwing.XWingPublicKey
)
_Priv: TypeAlias = (
    ed25519.Ed25519PrivateKey
    | ec.EllipticCurvePrivateKey
    | _MlDsaPriv
    | composite.CompositePrivateKey
    | xwing.XWingPrivateKey
)


def _algorithm_of(key: _Pub | _Priv) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return ED25519
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP384R1):
            raise UnsupportedAlgorithm(
                f"ECDSA curve {key.curve.name} is not supported (P-384 only)"
            )
        return ECDSA_P384
    for name in (ML_DSA_44, ML_DSA_65, ML_DSA_87):
        if isinstance(key, _MLDSA_PUB[name] | _MLDSA_PRIV[name]):
            return name
    if isinstance(key, composite.CompositePublicKey | composite.CompositePrivateKey):
        return COMPOSITE
    if isinstance(key, xwing.XWingPublicKey | xwing.XWingPrivateKey):
        return X_WING
    raise UnsupportedAlgorithm(f"unsupported key type {type(key).__name__}")


def _no_context(algorithm: str, context: bytes) -> None:
    # Ed25519 (pure) and ECDSA have no context input; silently dropping one would
    # let a signature made for one context verify in another.
    if context:
        raise UnsupportedAlgorithm(f"{algorithm} does not support a signature context")


def _check_context(context: bytes) -> None:
    if len(context) > 255:
        raise CryptoError(f"context is {len(context)} bytes; at most 255 (FIPS 204 §5.2)")


@dataclass(frozen=True, slots=True, eq=False)
class PublicKey:
    """A public key of one of :data:`ALGORITHMS`; compare with :meth:`spki_der`."""

    key: _Pub

    @property
    def algorithm(self) -> str:
        return _algorithm_of(self.key)

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7; composite per its draft §6)."""
        if isinstance(self.key, composite.CompositePublicKey | xwing.XWingPublicKey):
            return self.key.spki_der()
        return self.key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    def spki_pem(self) -> bytes:
        return _pem.pem_encode("PUBLIC KEY", self.spki_der())

    def raw_bytes(self) -> bytes:
        """The bare key: Ed25519 32 bytes, P-384 uncompressed point, ML-DSA pk (FIPS 204
        §7.2), composite mldsaPK || ecdsaPK, X-Wing pk_M || pk_X."""
        k = self.key
        if isinstance(k, composite.CompositePublicKey | xwing.XWingPublicKey):
            return k.public_bytes()
        if isinstance(k, ec.EllipticCurvePublicKey):
            return k.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return k.public_bytes_raw()

    def verify(self, message: bytes, signature: bytes, context: bytes = b"") -> None:
        """Verify or raise :class:`InvalidSignature` (never returns False)."""
        k = self.key
        _check_context(context)
        if isinstance(k, composite.CompositePublicKey):
            k.verify(message, signature, context)
            return
        if isinstance(k, xwing.XWingPublicKey):
            raise UnsupportedAlgorithm("x-wing is a KEM; it cannot verify signatures")
        component = "ml-dsa"
        try:
            if isinstance(k, ed25519.Ed25519PublicKey):
                component = ED25519
                _no_context(ED25519, context)
                k.verify(signature, message)
            elif isinstance(k, ec.EllipticCurvePublicKey):
                component = "ecdsa"
                _no_context(ECDSA_P384, context)
                k.verify(signature, message, _ECDSA)
            else:
                k.verify(signature, message, context)
        except (cx.InvalidSignature, ValueError):
            raise InvalidSignature(
                f"{self.algorithm} signature does not verify", component=component
            ) from None

    def encapsulate(self) -> tuple[bytes, bytes]:
        """X-Wing Encapsulate (draft-connolly-cfrg-xwing-kem §5.4): ``(ss, ct)``."""
        if not isinstance(self.key, xwing.XWingPublicKey):
            raise UnsupportedAlgorithm(f"{self.algorithm} is not a KEM")
        return self.key.encapsulate()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PrivateKey:
    """A private key of one of :data:`ALGORITHMS`."""

    key: _Priv

    def __repr__(self) -> str:
        return f"PrivateKey({self.algorithm}, <secret>)"

    @property
    def algorithm(self) -> str:
        return _algorithm_of(self.key)

    @classmethod
    def generate(cls, algorithm: str) -> PrivateKey:
        """Fresh key; a pairwise-consistency test runs first (FIPS 140-3 IG 10.3.A)."""
        return generate(algorithm)

    def public_key(self) -> PublicKey:
        return PublicKey(self.key.public_key())

    def sign(self, message: bytes, context: bytes = b"") -> bytes:
        """Sign ``message``; ``context`` is the FIPS 204 / composite ctx (max 255 bytes)."""
        k = self.key
        _check_context(context)
        if isinstance(k, composite.CompositePrivateKey):
            return k.sign(message, context)
        if isinstance(k, xwing.XWingPrivateKey):
            raise UnsupportedAlgorithm("x-wing is a KEM; it cannot sign")
        if isinstance(k, ed25519.Ed25519PrivateKey):
            _no_context(ED25519, context)
            return k.sign(message)
        if isinstance(k, ec.EllipticCurvePrivateKey):
            _no_context(ECDSA_P384, context)
            return k.sign(message, _ECDSA)
        return k.sign(message, context)

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """X-Wing Decapsulate (draft-connolly-cfrg-xwing-kem §5.5)."""
        if not isinstance(self.key, xwing.XWingPrivateKey):
            raise UnsupportedAlgorithm(f"{self.algorithm} is not a KEM")
        return self.key.decapsulate(ciphertext)

    def pkcs8_der(self) -> bytes:
        """PKCS#8 / OneAsymmetricKey DER, unencrypted (RFC 5958). ML-DSA uses the seed
        form (RFC 9881); composite and X-Wing their drafts' private-key encodings."""
        k = self.key
        if isinstance(k, composite.CompositePrivateKey | xwing.XWingPrivateKey):
            return k.pkcs8_der()
        return k.private_bytes(
            Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def pkcs8_pem(self) -> bytes:
        return _pem.pem_encode("PRIVATE KEY", self.pkcs8_der())

    def pairwise_consistency_test(self) -> None:
        """Sign+verify (signatures) or encaps+decaps (KEM); raise SelfTestFailure."""
        try:
            if isinstance(self.key, xwing.XWingPrivateKey):
                ss, ct = self.public_key().encapsulate()
                if self.decapsulate(ct) != ss:
                    raise SelfTestFailure("x-wing pairwise-consistency test: secrets differ")
                return
            self.public_key().verify(_PCT_MESSAGE, self.sign(_PCT_MESSAGE))
        except CryptoError as e:
            if isinstance(e, SelfTestFailure):
                raise
            raise SelfTestFailure(f"{self.algorithm} pairwise-consistency test failed: {e}") from e


def generate(algorithm: str) -> PrivateKey:
    """Generate a key of ``algorithm`` (one of :data:`ALGORITHMS`) and run its PCT."""
    key: _Priv
    if algorithm == ED25519:
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == ECDSA_P384:
        key = ec.generate_private_key(ec.SECP384R1())
    elif algorithm == ML_DSA_44:
        key = mldsa.MLDSA44PrivateKey.generate()
    elif algorithm == ML_DSA_65:
        key = mldsa.MLDSA65PrivateKey.generate()
    elif algorithm == ML_DSA_87:
        key = mldsa.MLDSA87PrivateKey.generate()
    elif algorithm == COMPOSITE:
        key = composite.CompositePrivateKey.generate()
    elif algorithm == X_WING:
        key = xwing.XWingPrivateKey.generate()
    else:
        raise UnsupportedAlgorithm(f"unknown algorithm {algorithm!r}; one of {ALGORITHMS}")
    out = PrivateKey(key)
    if algorithm not in (COMPOSITE, X_WING):  # their own generate() already ran the PCT
        out.pairwise_consistency_test()
    return out


def _spki_oid(spki: bytes) -> bytes:
    """The AlgorithmIdentifier element of a SubjectPublicKeyInfo / OneAsymmetricKey."""
    fields = _der.read_all(_der.read_one(spki, _der.SEQUENCE).value)
    if len(fields) < 2:
        raise MalformedKey("key structure too short")
    alg = fields[0] if fields[0].tag == _der.SEQUENCE else fields[1]
    return alg.raw


def _to_der(data: bytes, labels: tuple[str, ...]) -> tuple[str, bytes]:
    if data.lstrip()[:5] == b"-----":
        label, der = _pem.pem_decode(data)
        if label not in labels:
            raise MalformedKey(f"PEM label {label!r}; expected one of {labels}")
        return label, der
    return "", data


def load_public_key(data: bytes) -> PublicKey:
    """Load a PEM or DER SubjectPublicKeyInfo, or a PEM/DER X.509 certificate.

    The composite (OID 1.3.6.1.5.5.7.6.46) and X-Wing SPKIs are parsed here, the
    rest by ``cryptography``. Trailing bytes and unsupported algorithms are refused.
    """
    label, der = _to_der(data, ("PUBLIC KEY", "CERTIFICATE"))
    if len(der) > _der.MAX_INPUT:
        raise MalformedKey("key input too large")
    fields = _der.read_all(_der.read_one(der, _der.SEQUENCE).value)
    is_cert = label == "CERTIFICATE" or (len(fields) == 3 and fields[0].tag == _der.SEQUENCE)
    spki = _pem.spki_from_certificate(der) if is_cert else der
    alg_id = _spki_oid(spki)
    if alg_id == composite.CompositePublicKey.ALG_ID:
        return PublicKey(composite.CompositePublicKey.from_spki_der(spki))
    if alg_id == xwing.XWingPublicKey.ALG_ID:
        return PublicKey(xwing.XWingPublicKey.from_spki_der(spki))
    try:
        key = serialization.load_der_public_key(spki)
    except cx.UnsupportedAlgorithm as e:
        raise UnsupportedAlgorithm(f"unsupported public key algorithm: {e}") from e
    except ValueError as e:
        raise MalformedKey(f"SubjectPublicKeyInfo does not parse: {e}") from e
    if not isinstance(key, _Pub):
        raise UnsupportedAlgorithm(f"unsupported public key type {type(key).__name__}")
    out = PublicKey(key)
    _ = out.algorithm  # refuses EC curves other than P-384
    return out


def load_private_key(data: bytes) -> PrivateKey:
    """Load an unencrypted PKCS#8 / OneAsymmetricKey, PEM ("PRIVATE KEY") or DER."""
    _, der = _to_der(data, ("PRIVATE KEY",))
    alg_id = _spki_oid(der)
    if alg_id == composite.CompositePublicKey.ALG_ID:
        return PrivateKey(composite.CompositePrivateKey.from_pkcs8_der(der))
    if alg_id == xwing.XWingPublicKey.ALG_ID:
        return PrivateKey(xwing.XWingPrivateKey.from_pkcs8_der(der))
    try:
        key = serialization.load_der_private_key(der, password=None)
    except cx.UnsupportedAlgorithm as e:
        raise UnsupportedAlgorithm(f"unsupported private key algorithm: {e}") from e
    except (ValueError, TypeError) as e:
        raise MalformedKey(f"PKCS#8 private key does not parse: {e}") from e
    if not isinstance(key, _Priv):
        raise UnsupportedAlgorithm(f"unsupported private key type {type(key).__name__}")
    out = PrivateKey(key)
    _ = out.algorithm
    return out
