"""X-Wing, the hybrid KEM X25519 + ML-KEM-768 (draft-connolly-cfrg-xwing-kem-10).

Keys and ciphertexts (draft §5)::

    sk (32-byte seed) -> SHAKE256(sk, 96 bytes) = d || z || sk_X
    (pk_M, sk_M) = ML-KEM-768.KeyGen_internal(d, z); pk_X = X25519(sk_X, base)
    pk = pk_M (1184) || pk_X (32);  ct = ct_M (1088) || ct_X (32)
    ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel)

ML-KEM-768 and X25519 are ``cryptography``'s. ``cryptography`` 50 cannot
derandomise ML-KEM encapsulation, so this module offers no ``EncapsulateDerand``;
the draft's vectors are checked through key generation from the seed and
decapsulation (and, in the tests, against kyber-py for the derandomised path).

>>> sk = XWingPrivateKey.generate()
>>> ss, ct = sk.public_key().encapsulate()
>>> sk.decapsulate(ct) == ss
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from rsrp.crypto import _der
from rsrp.crypto._errors import DecryptionError, MalformedKey, SelfTestFailure
from rsrp.crypto._hashing import sha3_256, shake256

__all__ = [
    "ALGORITHM",
    "CIPHERTEXT_LEN",
    "LABEL",
    "OID",
    "PUBLIC_KEY_LEN",
    "SEED_LEN",
    "XWingPrivateKey",
    "XWingPublicKey",
    "combiner",
]

ALGORITHM = "x-wing"
#: id-XWing (draft §7.3, "Use in X.509 Public Key Infrastructure").
OID = "1.3.6.1.4.1.62253.25722"
#: XWingLabel, ASCII ``\./`` ``/^\`` (draft §5.3).
LABEL = bytes.fromhex("5c2e2f2f5e5c")
SEED_LEN = 32
_PK_M_LEN = 1184
_CT_M_LEN = 1088
PUBLIC_KEY_LEN = _PK_M_LEN + 32
CIPHERTEXT_LEN = _CT_M_LEN + 32
_ALG_ID = _der.encode(_der.SEQUENCE, _der.encode_oid(OID))


def combiner(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    """SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel) (draft §5.3)."""
    for name, v in (("ss_M", ss_m), ("ss_X", ss_x), ("ct_X", ct_x), ("pk_X", pk_x)):
        if len(v) != 32:
            raise MalformedKey(f"X-Wing combiner: {name} must be 32 bytes")
    return sha3_256(ss_m + ss_x + ct_x + pk_x + LABEL)


@dataclass(frozen=True, slots=True, eq=False)
class XWingPublicKey:
    """An X-Wing encapsulation key; compare with :meth:`public_bytes`."""

    mlkem: MLKEM768PublicKey
    x25519: X25519PublicKey

    algorithm = ALGORITHM
    ALG_ID = _ALG_ID

    @classmethod
    def from_bytes(cls, data: bytes) -> XWingPublicKey:
        """Parse pk_M || pk_X (1216 bytes, draft §5.1)."""
        if len(data) != PUBLIC_KEY_LEN:
            raise MalformedKey(f"X-Wing public key must be {PUBLIC_KEY_LEN} bytes, got {len(data)}")
        try:
            # from_public_bytes runs the FIPS 203 §7.2 modulus check on pk_M.
            pk_m = MLKEM768PublicKey.from_public_bytes(data[:_PK_M_LEN])
        except ValueError as e:
            raise MalformedKey(f"ML-KEM-768 encapsulation key: {e}") from e
        return cls(pk_m, X25519PublicKey.from_public_bytes(data[_PK_M_LEN:]))

    def public_bytes(self) -> bytes:
        return self.mlkem.public_bytes_raw() + self.x25519.public_bytes_raw()

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo with id-XWing, parameters absent (draft §7.3.1)."""
        return _der.encode_spki(_ALG_ID, self.public_bytes())

    @classmethod
    def from_spki_der(cls, der: bytes) -> XWingPublicKey:
        return cls.from_bytes(_der.decode_spki(der, _ALG_ID, f"id-XWing ({OID})"))

    def encapsulate(self) -> tuple[bytes, bytes]:
        """Encapsulate (draft §5.4): returns ``(shared_secret, ciphertext)``."""
        ek_x = X25519PrivateKey.generate()
        ct_x = ek_x.public_key().public_bytes_raw()
        pk_x = self.x25519.public_bytes_raw()
        try:
            ss_x = ek_x.exchange(self.x25519)
        except ValueError as e:  # all-zero output: pk_X is a low-order point
            raise MalformedKey(f"X-Wing public key has a degenerate X25519 part: {e}") from e
        ss_m, ct_m = self.mlkem.encapsulate()
        return combiner(ss_m, ss_x, ct_x, pk_x), ct_m + ct_x


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class XWingPrivateKey:
    """An X-Wing decapsulation key: the 32-byte seed and its expansion (draft §5.2)."""

    seed: bytes
    mlkem: MLKEM768PrivateKey
    x25519: X25519PrivateKey
    #: pk_X, cached as the draft allows (§5.5), so decapsulation does one X25519, not two.
    pk_x: bytes

    algorithm = ALGORITHM

    def __repr__(self) -> str:
        return "XWingPrivateKey(<secret>)"

    @classmethod
    def from_seed(cls, seed: bytes) -> XWingPrivateKey:
        """GenerateKeyPairDerand / expandDecapsulationKey (draft §5.2)."""
        if len(seed) != SEED_LEN:
            raise MalformedKey(f"X-Wing seed must be {SEED_LEN} bytes, got {len(seed)}")
        expanded = shake256(seed, 96)
        # cryptography's ML-KEM seed is d || z (FIPS 203 Algorithm 16 inputs).
        sk_m = MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        sk_x = X25519PrivateKey.from_private_bytes(expanded[64:96])
        return cls(seed, sk_m, sk_x, sk_x.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> XWingPrivateKey:
        """GenerateKeyPair (draft §5.2) followed by an encaps/decaps consistency test."""
        key = cls.from_seed(os.urandom(SEED_LEN))
        ss, ct = key.public_key().encapsulate()
        if key.decapsulate(ct) != ss:
            raise SelfTestFailure("X-Wing pairwise-consistency test failed")
        return key

    def private_bytes(self) -> bytes:
        """The decapsulation key as serialised by the draft: the 32-byte seed."""
        return self.seed

    def pkcs8_der(self) -> bytes:
        """OneAsymmetricKey v0, id-XWing, privateKey = raw seed, no publicKey (draft §7.3.2)."""
        return _der.encode_one_asymmetric_key(_ALG_ID, self.seed)

    @classmethod
    def from_pkcs8_der(cls, der: bytes) -> XWingPrivateKey:
        return cls.from_seed(_der.decode_one_asymmetric_key(der, _ALG_ID, f"id-XWing ({OID})"))

    def public_key(self) -> XWingPublicKey:
        return XWingPublicKey(self.mlkem.public_key(), self.x25519.public_key())

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """Decapsulate (draft §5.5). ML-KEM rejects implicitly; a malformed length or a
        degenerate X25519 share raises DecryptionError."""
        if len(ciphertext) != CIPHERTEXT_LEN:
            raise DecryptionError(
                f"X-Wing ciphertext must be {CIPHERTEXT_LEN} bytes, got {len(ciphertext)}"
            )
        ct_m, ct_x = ciphertext[:_CT_M_LEN], ciphertext[_CT_M_LEN:]
        ss_m = self.mlkem.decapsulate(ct_m)
        try:
            ss_x = self.x25519.exchange(X25519PublicKey.from_public_bytes(ct_x))
        except ValueError as e:
            raise DecryptionError(f"X-Wing ciphertext has a degenerate X25519 share: {e}") from e
        return combiner(ss_m, ss_x, ct_x, self.pk_x)
