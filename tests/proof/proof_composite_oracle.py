"""Test-only composite ML-DSA-65 + ECDSA P-384 (draft-ietf-lamps-pq-composite-sigs).

A deliberately plain transcription of the draft's Sign/Verify for
id-MLDSA65-ECDSA-P384-SHA512, over ``cryptography`` primitives, used to make and
check V2 vectors independently of ``rsrp.crypto``:

    M' = Prefix || Label || len(ctx) (1 byte) || ctx || SHA-512(M)
    signature = ML-DSA-65.Sign(M', ctx=Label) || DER ECDSA-P384-SHA384.Sign(M')

ECDSA uses RFC 6979 deterministic nonces so the ECDSA component of a vector can be
regenerated exactly; ML-DSA in ``cryptography`` is hedged (randomised), so that
component is stored and verified instead.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa

PREFIX = b"CompositeAlgorithmSignatures2025"
LABEL = b"COMPSIG-MLDSA65-ECDSA-P384-SHA512"
MLDSA65_SIG = 3309
MLDSA65_PK = 1952
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)


class ComponentInvalid(Exception):  # noqa: N818 - mirrors rsrp.crypto's InvalidSignature(.component)
    def __init__(self, component: str) -> None:
        self.component = component
        super().__init__(f"{component} component does not verify")


def message_representative(message: bytes, ctx: bytes) -> bytes:
    if len(ctx) > 255:
        raise ValueError("ctx longer than 255 bytes")
    return PREFIX + LABEL + bytes([len(ctx)]) + ctx + hashlib.sha512(message).digest()


def keys_from_seed(seed: bytes) -> tuple[mldsa.MLDSA65PrivateKey, ec.EllipticCurvePrivateKey]:
    """Fixed test keys: ML-DSA-65 from the 32-byte seed, the P-384 scalar from SHA-384."""
    scalar = int.from_bytes(hashlib.sha384(b"p384|" + seed).digest(), "big") % (_P384_ORDER - 1) + 1
    return mldsa.MLDSA65PrivateKey.from_seed_bytes(seed), ec.derive_private_key(
        scalar, ec.SECP384R1()
    )


def ecdsa_component(key: ec.EllipticCurvePrivateKey, m_prime: bytes) -> bytes:
    return key.sign(m_prime, ec.ECDSA(hashes.SHA384(), deterministic_signing=True))


def public_key_bytes(pq: mldsa.MLDSA65PublicKey, classical: ec.EllipticCurvePublicKey) -> bytes:
    """Composite public key: mldsaPK || uncompressed P-384 point."""
    return pq.public_bytes_raw() + classical.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


class OracleSigner:
    """A ``Signer`` (rsrp.keys.signer) holding a composite key in memory."""

    def __init__(self, seed: bytes, key_id: str, jurisdiction: str) -> None:
        self._pq, self._ec = keys_from_seed(seed)
        self._key_id = key_id
        self._jurisdiction = jurisdiction

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def algorithm(self) -> str:
        return "mldsa65-ecdsa-p384-sha512"

    @property
    def jurisdiction(self) -> str:
        return self._jurisdiction

    def public_key_der(self) -> bytes:
        return public_key_bytes(self._pq.public_key(), self._ec.public_key())

    def verifier(self) -> OracleVerifier:
        return OracleVerifier(self.public_key_der(), self._key_id)

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        if jurisdiction is not None and jurisdiction != self._jurisdiction:
            raise ValueError(f"key signs for {self._jurisdiction}, not {jurisdiction}")
        m_prime = message_representative(message, context)
        return self._pq.sign(m_prime, LABEL) + ecdsa_component(self._ec, m_prime)


class OracleVerifier:
    def __init__(self, public_key: bytes, key_id: str) -> None:
        self._pq = mldsa.MLDSA65PublicKey.from_public_bytes(public_key[:MLDSA65_PK])
        self._ec = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP384R1(), public_key[MLDSA65_PK:]
        )
        self._key_id = key_id

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def algorithm(self) -> str:
        return "mldsa65-ecdsa-p384-sha512"

    def verify(self, message: bytes, signature: bytes, *, context: bytes = b"") -> None:
        m_prime = message_representative(message, context)
        try:
            self._pq.verify(signature[:MLDSA65_SIG], m_prime, LABEL)
        except InvalidSignature as e:
            raise ComponentInvalid("ml-dsa") from e
        try:
            self._ec.verify(signature[MLDSA65_SIG:], m_prime, ec.ECDSA(hashes.SHA384()))
        except InvalidSignature as e:
            raise ComponentInvalid("ecdsa") from e
