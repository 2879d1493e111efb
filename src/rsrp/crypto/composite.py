"""Composite ML-DSA: id-MLDSA65-ECDSA-P384-SHA512 (draft-ietf-lamps-pq-composite-sigs-19).

The message representative (draft §2.4 "Prefix, Label, and CTX")::

    M' = Prefix || Label || len(ctx) || ctx || SHA-512(M)

ML-DSA-65 signs M' with its FIPS 204 context set to Label; ECDSA P-384 with
SHA-384 signs M'. Encodings (draft §4 "Serialization"):

* public key  = ML-DSA-65 pk (1952 bytes) || uncompressed P-384 point (97 bytes)
* signature   = ML-DSA-65 sig (3309 bytes) || DER Ecdsa-Sig-Value (RFC 3279)
* private key = ML-DSA seed (32 bytes) || ECPrivateKey DER (RFC 5915, named
  curve, no publicKey field)

In X.509 the algorithm is OID 1.3.6.1.5.5.7.6.46 with absent parameters (§6).

>>> sk = CompositePrivateKey.generate()
>>> sig = sk.sign(b"hello", ctx=b"app")
>>> sk.public_key().verify(b"hello", sig, ctx=b"app")
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import exceptions as cx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey, MLDSA65PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rsrp.crypto import _der
from rsrp.crypto._errors import CryptoError, InvalidSignature, MalformedKey
from rsrp.crypto._hashing import sha512

__all__ = [
    "ALGORITHM",
    "ECDSA_MAX_SIG_LEN",
    "LABEL",
    "MLDSA_PK_LEN",
    "MLDSA_SIG_LEN",
    "OID",
    "PREFIX",
    "PUBLIC_KEY_LEN",
    "CompositePrivateKey",
    "CompositePublicKey",
    "combine_signatures",
    "message_representative",
    "split_signature",
]

#: Our algorithm name (same string as ``rsrp.keys`` and the proof envelope use).
ALGORITHM = "mldsa65-ecdsa-p384-sha512"
#: id-MLDSA65-ECDSA-P384-SHA512 (draft §7, "Algorithm Identifiers and Parameters").
OID = "1.3.6.1.5.5.7.6.46"
#: ASCII "CompositeAlgorithmSignatures2025" (draft §2.4).
PREFIX = b"CompositeAlgorithmSignatures2025"
LABEL = b"COMPSIG-MLDSA65-ECDSA-P384-SHA512"
MAX_CTX_LEN = 255

MLDSA_PK_LEN = 1952
MLDSA_SIG_LEN = 3309
MLDSA_SEED_LEN = 32
_P384_POINT_LEN = 97  # 0x04 || X (48) || Y (48)
_P384_SCALAR_LEN = 48
PUBLIC_KEY_LEN = MLDSA_PK_LEN + _P384_POINT_LEN
#: SEQUENCE(2+1) { INTEGER(2+49), INTEGER(2+49) } at most.
ECDSA_MAX_SIG_LEN = 104
_SECP384R1_OID = "1.3.132.0.34"

_ALG_ID = _der.encode(_der.SEQUENCE, _der.encode_oid(OID))
_ECDSA = ec.ECDSA(hashes.SHA384())


def message_representative(message: bytes, ctx: bytes = b"") -> bytes:
    """M' = Prefix || Label || len(ctx) || ctx || SHA-512(M) (draft §2.4).

    Requires ``len(ctx) <= 255`` (draft §3.2 step 1).
    """
    if len(ctx) > MAX_CTX_LEN:
        raise CryptoError(f"composite context is {len(ctx)} bytes; at most {MAX_CTX_LEN}")
    return PREFIX + LABEL + bytes([len(ctx)]) + ctx + sha512(message)


def combine_signatures(mldsa_sig: bytes, ecdsa_der: bytes) -> bytes:
    """SerializeSignatureValue: mldsaSig || ecdsaSig (draft §4.3)."""
    if len(mldsa_sig) != MLDSA_SIG_LEN:
        raise CryptoError(f"ML-DSA-65 signature must be {MLDSA_SIG_LEN} bytes")
    return mldsa_sig + ecdsa_der


def split_signature(sig: bytes) -> tuple[bytes, bytes]:
    """DeserializeSignatureValue (draft §4.3): ``(mldsa_sig, ecdsa_der)``.

    Raises InvalidSignature(component="encoding") when the lengths cannot be right.
    """
    ecdsa_len = len(sig) - MLDSA_SIG_LEN
    if not 8 <= ecdsa_len <= ECDSA_MAX_SIG_LEN:
        raise InvalidSignature(
            f"composite signature has {len(sig)} bytes; expected {MLDSA_SIG_LEN} + "
            f"8..{ECDSA_MAX_SIG_LEN}",
            component="encoding",
        )
    return sig[:MLDSA_SIG_LEN], sig[MLDSA_SIG_LEN:]


def _p384_from_point(point: bytes) -> ec.EllipticCurvePublicKey:
    if len(point) != _P384_POINT_LEN or point[0] != 0x04:
        raise MalformedKey("ECDSA P-384 public key must be a 97-byte uncompressed point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), point)
    except ValueError as e:
        raise MalformedKey(f"ECDSA P-384 public key is not on the curve: {e}") from e


def _p384_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@dataclass(frozen=True, slots=True, eq=False)
class CompositePublicKey:
    """A composite public key; compare keys with :meth:`public_bytes`."""

    mldsa: MLDSA65PublicKey
    ecdsa: ec.EllipticCurvePublicKey

    algorithm = ALGORITHM
    #: DER AlgorithmIdentifier (OID, parameters absent).
    ALG_ID = _ALG_ID

    @classmethod
    def from_bytes(cls, data: bytes) -> CompositePublicKey:
        """DeserializePublicKey (draft §4.1); the P-384 point must be uncompressed."""
        if len(data) != PUBLIC_KEY_LEN:
            raise MalformedKey(
                f"composite public key must be {PUBLIC_KEY_LEN} bytes, got {len(data)}"
            )
        try:
            pq = MLDSA65PublicKey.from_public_bytes(data[:MLDSA_PK_LEN])
        except ValueError as e:
            raise MalformedKey(f"ML-DSA-65 public key: {e}") from e
        return cls(pq, _p384_from_point(data[MLDSA_PK_LEN:]))

    def public_bytes(self) -> bytes:
        """SerializePublicKey: mldsaPK || ecdsaPK (draft §4.1)."""
        return self.mldsa.public_bytes_raw() + _p384_point(self.ecdsa)

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo with the draft's OID, parameters absent (draft §6.1)."""
        return _der.encode_spki(_ALG_ID, self.public_bytes())

    @classmethod
    def from_spki_der(cls, der: bytes) -> CompositePublicKey:
        """Parse a SubjectPublicKeyInfo that must carry OID 1.3.6.1.5.5.7.6.46."""
        return cls.from_bytes(
            _der.decode_spki(der, _ALG_ID, f"id-MLDSA65-ECDSA-P384-SHA512 ({OID})")
        )

    def verify(self, message: bytes, signature: bytes, ctx: bytes = b"") -> None:
        """Composite-ML-DSA.Verify (draft §3.3): both components must verify.

        Raises InvalidSignature whose ``component`` is ``"ml-dsa"``, ``"ecdsa"``
        or ``"encoding"``.
        """
        m_prime = message_representative(message, ctx)
        pq_sig, ec_sig = split_signature(signature)
        try:
            self.mldsa.verify(pq_sig, m_prime, LABEL)
        except cx.InvalidSignature:
            raise InvalidSignature(
                "composite signature: ML-DSA-65 component does not verify", component="ml-dsa"
            ) from None
        try:
            self.ecdsa.verify(ec_sig, m_prime, _ECDSA)
        except cx.InvalidSignature:
            raise InvalidSignature(
                "composite signature: ECDSA P-384 component does not verify", component="ecdsa"
            ) from None


def _ec_private_key_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    """RFC 5915 ECPrivateKey, version 1, named curve, publicKey absent (draft §4)."""
    scalar = key.private_numbers().private_value.to_bytes(_P384_SCALAR_LEN, "big")
    body = (
        _der.encode(_der.INTEGER, b"\x01")
        + _der.encode(_der.OCTET_STRING, scalar)
        + _der.encode(_der.CONTEXT_0, _der.encode_oid(_SECP384R1_OID))
    )
    return _der.encode(_der.SEQUENCE, body)


def _ec_private_key_from_der(der: bytes) -> ec.EllipticCurvePrivateKey:
    fields = _der.read_all(_der.read_one(der, _der.SEQUENCE).value)
    curve_param = _der.encode(_der.CONTEXT_0, _der.encode_oid(_SECP384R1_OID))
    if (
        len(fields) not in (3, 4)
        or fields[0].raw != _der.encode(_der.INTEGER, b"\x01")
        or fields[1].tag != _der.OCTET_STRING
        or len(fields[1].value) != _P384_SCALAR_LEN
        or fields[2].raw != curve_param
    ):
        raise MalformedKey("ECPrivateKey must be version 1, 48-byte key, curve secp384r1")
    try:
        key = ec.derive_private_key(int.from_bytes(fields[1].value, "big"), ec.SECP384R1())
    except ValueError as e:
        raise MalformedKey(f"ECDSA P-384 private scalar out of range: {e}") from e
    # The draft omits publicKey; if a producer included it anyway it must match.
    if len(fields) == 4:
        pub = _der.read_one(fields[3].value, _der.BIT_STRING).value
        if fields[3].tag != _der.CONTEXT_1 or pub != b"\x00" + _p384_point(key.public_key()):
            raise MalformedKey("ECPrivateKey publicKey does not match the private key")
    return key


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CompositePrivateKey:
    """A composite private key: an ML-DSA-65 seed and an ECDSA P-384 key."""

    mldsa: MLDSA65PrivateKey
    ecdsa: ec.EllipticCurvePrivateKey

    algorithm = ALGORITHM

    def __repr__(self) -> str:
        return "CompositePrivateKey(<secret>)"

    @classmethod
    def generate(cls) -> CompositePrivateKey:
        """KeyGen (draft §3.1): two fresh, independent component keys.

        A pairwise-consistency test (sign then verify) runs before the key is returned.
        """
        key = cls(MLDSA65PrivateKey.generate(), ec.generate_private_key(ec.SECP384R1()))
        key.pairwise_consistency_test()
        return key

    @classmethod
    def from_components(
        cls, mldsa_private: MLDSA65PrivateKey, ecdsa_private: ec.EllipticCurvePrivateKey
    ) -> CompositePrivateKey:
        """Assemble a key from component keys (e.g. an unwrapped ML-DSA seed and an HSM-less EC
        key). The draft forbids reusing component keys elsewhere (draft §9.4)."""
        if not isinstance(mldsa_private, MLDSA65PrivateKey):
            raise MalformedKey("ML-DSA component must be an ML-DSA-65 private key")
        if not isinstance(ecdsa_private, ec.EllipticCurvePrivateKey) or not isinstance(
            ecdsa_private.curve, ec.SECP384R1
        ):
            raise MalformedKey("ECDSA component must be a P-384 private key")
        return cls(mldsa_private, ecdsa_private)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompositePrivateKey:
        """DeserializePrivateKey (draft §4.2): seed (32 bytes) || ECPrivateKey DER."""
        if len(data) <= MLDSA_SEED_LEN:
            raise MalformedKey("composite private key too short")
        try:
            pq = MLDSA65PrivateKey.from_seed_bytes(data[:MLDSA_SEED_LEN])
        except ValueError as e:
            raise MalformedKey(f"ML-DSA-65 seed: {e}") from e
        return cls(pq, _ec_private_key_from_der(data[MLDSA_SEED_LEN:]))

    def private_bytes(self) -> bytes:
        """SerializePrivateKey (draft §4.2): mldsaSeed || ECPrivateKey DER (no publicKey)."""
        return self.mldsa.private_bytes_raw() + _ec_private_key_der(self.ecdsa)

    def pkcs8_der(self) -> bytes:
        """OneAsymmetricKey v0 (RFC 5958) with the composite OID and privateKey =
        :meth:`private_bytes` (draft §6.4); the optional publicKey is omitted."""
        return _der.encode_one_asymmetric_key(_ALG_ID, self.private_bytes())

    @classmethod
    def from_pkcs8_der(cls, der: bytes) -> CompositePrivateKey:
        """Parse a OneAsymmetricKey (v0 or v1) carrying the composite OID."""
        what = f"id-MLDSA65-ECDSA-P384-SHA512 ({OID})"
        return cls.from_bytes(_der.decode_one_asymmetric_key(der, _ALG_ID, what))

    def public_key(self) -> CompositePublicKey:
        return CompositePublicKey(self.mldsa.public_key(), self.ecdsa.public_key())

    def sign(self, message: bytes, ctx: bytes = b"") -> bytes:
        """Composite-ML-DSA.Sign (draft §3.2). ML-DSA uses hedged (randomised) signing."""
        m_prime = message_representative(message, ctx)
        return combine_signatures(self.mldsa.sign(m_prime, LABEL), self.ecdsa.sign(m_prime, _ECDSA))

    def pairwise_consistency_test(self) -> None:
        """Sign and verify a fixed message (FIPS 140-3 IG 10.3.A); SelfTestFailure if not."""
        from rsrp.crypto._errors import SelfTestFailure

        msg = b"rsrp pairwise consistency test"
        try:
            self.public_key().verify(msg, self.sign(msg))
        except InvalidSignature as e:
            raise SelfTestFailure(f"composite key pairwise-consistency test failed: {e}") from e
