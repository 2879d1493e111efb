"""AES-256-GCM (NIST SP 800-38D) with fixed 96-bit nonces and 128-bit tags."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rsrp.crypto._errors import CryptoError, DecryptionError

__all__ = ["KEY_LEN", "NONCE_LEN", "TAG_LEN", "aes256gcm_open", "aes256gcm_seal"]

KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16


def _check(key: bytes, nonce: bytes) -> AESGCM:
    if len(key) != KEY_LEN:
        raise CryptoError(f"AES-256-GCM key must be {KEY_LEN} bytes, got {len(key)}")
    if len(nonce) != NONCE_LEN:
        raise CryptoError(f"AES-256-GCM nonce must be {NONCE_LEN} bytes, got {len(nonce)}")
    return AESGCM(key)


def aes256gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """GCM-AE (SP 800-38D §7.1): ciphertext || 16-byte tag. Never reuse (key, nonce)."""
    return _check(key, nonce).encrypt(nonce, plaintext, aad)


def aes256gcm_open(key: bytes, nonce: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """GCM-AD (SP 800-38D §7.2); DecryptionError if the tag does not authenticate."""
    aead = _check(key, nonce)
    if len(sealed) < TAG_LEN:
        raise DecryptionError("AES-256-GCM ciphertext shorter than its tag")
    try:
        return aead.decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise DecryptionError("AES-256-GCM authentication failed") from None
