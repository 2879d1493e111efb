"""Hybrid public-key encryption to an X-Wing key, format ``rsrp-hybrid-encryption-v1``.

X-Wing (draft-connolly-cfrg-xwing-kem-10) → HKDF-SHA256 (RFC 5869) →
AES-256-GCM (SP 800-38D), with a caller-supplied header bound as associated data.
The byte format is specified in docs/hybrid-encryption.md::

    sealed = version (0x01) || suite (0x01) || kem_ct (1120) || aes_ct || tag (16)
    key || nonce = HKDF-SHA256(ikm=ss, salt="", info=INFO || version || suite || kem_ct, L=44)
    aad = INFO || version || suite || u32be(len(header)) || header

The header is not stored in ``sealed``: the caller keeps it (for example the
record id, jurisdiction and key id) and must present the same bytes to open.

>>> from rsrp.crypto.xwing import XWingPrivateKey
>>> sk = XWingPrivateKey.generate()
>>> sealed = seal(sk.public_key(), b"IBAN FR76...", b"record-42|FR")
>>> open(sk, sealed, b"record-42|FR")
b'IBAN FR76...'
"""

from __future__ import annotations

import struct

from rsrp.crypto._aead import KEY_LEN, NONCE_LEN, TAG_LEN, aes256gcm_open, aes256gcm_seal
from rsrp.crypto._asym import PrivateKey, PublicKey
from rsrp.crypto._errors import CryptoError, DecryptionError, UnsupportedAlgorithm
from rsrp.crypto._hashing import hkdf
from rsrp.crypto.xwing import CIPHERTEXT_LEN, XWingPrivateKey, XWingPublicKey

__all__ = [
    "INFO",
    "MAX_HEADER",
    "OVERHEAD",
    "SUITE_XWING_HKDF_SHA256_AES256GCM",
    "VERSION",
    "open",
    "seal",
]

VERSION = 1
#: X-Wing + HKDF-SHA256 + AES-256-GCM, the only suite of version 1.
SUITE_XWING_HKDF_SHA256_AES256GCM = 1
INFO = b"rsrp-hybrid-encryption-v1"
MAX_HEADER = 0xFFFF_FFFF
_PREFIX = bytes([VERSION, SUITE_XWING_HKDF_SHA256_AES256GCM])
#: Bytes added to the plaintext: version, suite, KEM ciphertext and GCM tag.
OVERHEAD = len(_PREFIX) + CIPHERTEXT_LEN + TAG_LEN


def _xwing_public(pk: XWingPublicKey | PublicKey) -> XWingPublicKey:
    key = pk.key if isinstance(pk, PublicKey) else pk
    if not isinstance(key, XWingPublicKey):
        raise UnsupportedAlgorithm("hybrid encryption needs an x-wing recipient key")
    return key


def _xwing_private(sk: XWingPrivateKey | PrivateKey) -> XWingPrivateKey:
    key = sk.key if isinstance(sk, PrivateKey) else sk
    if not isinstance(key, XWingPrivateKey):
        raise UnsupportedAlgorithm("hybrid decryption needs an x-wing private key")
    return key


def _key_nonce(ss: bytes, kem_ct: bytes) -> tuple[bytes, bytes]:
    okm = hkdf(ss, length=KEY_LEN + NONCE_LEN, salt=None, info=INFO + _PREFIX + kem_ct)
    return okm[:KEY_LEN], okm[KEY_LEN:]


def _aad(header: bytes) -> bytes:
    if len(header) > MAX_HEADER:
        raise CryptoError("header longer than 2^32-1 bytes")
    return INFO + _PREFIX + struct.pack(">I", len(header)) + header


def seal(recipient_pk: XWingPublicKey | PublicKey, plaintext: bytes, header: bytes) -> bytes:
    """Encrypt ``plaintext`` to ``recipient_pk``, binding ``header`` (docs/hybrid-encryption.md).

    Each call encapsulates afresh, so the derived AES key is used exactly once and
    the HKDF-derived nonce can never repeat under it.
    """
    ss, kem_ct = _xwing_public(recipient_pk).encapsulate()
    key, nonce = _key_nonce(ss, kem_ct)
    return _PREFIX + kem_ct + aes256gcm_seal(key, nonce, plaintext, _aad(header))


# Named after the recipe (seal/open); it shadows the builtin only inside this module.
def open(recipient_sk: XWingPrivateKey | PrivateKey, sealed: bytes, header: bytes) -> bytes:
    """Decrypt :func:`seal` output; DecryptionError on any tampering, wrong key or header."""
    if len(sealed) < OVERHEAD:
        raise DecryptionError(f"sealed message too short: {len(sealed)} < {OVERHEAD} bytes")
    if sealed[0] != VERSION:
        raise DecryptionError(f"unsupported hybrid-encryption version {sealed[0]}")
    if sealed[1] != SUITE_XWING_HKDF_SHA256_AES256GCM:
        raise DecryptionError(f"unsupported hybrid-encryption suite {sealed[1]}")
    kem_ct = sealed[2 : 2 + CIPHERTEXT_LEN]
    ss = _xwing_private(recipient_sk).decapsulate(kem_ct)
    key, nonce = _key_nonce(ss, kem_ct)
    try:
        return aes256gcm_open(key, nonce, sealed[2 + CIPHERTEXT_LEN :], _aad(header))
    except DecryptionError:
        raise DecryptionError(
            "hybrid decryption failed: wrong key, wrong header or tampered message"
        ) from None
