"""Hash functions and HKDF, all from ``cryptography`` (FIPS 180-4, FIPS 202, RFC 5869)."""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rsrp.crypto._errors import CryptoError

__all__ = ["HashName", "hkdf", "sha3_256", "sha256", "sha384", "sha512", "shake256"]

HashName = Literal["sha256", "sha384", "sha512"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def sha256(data: bytes) -> bytes:
    """SHA-256 (FIPS 180-4 §6.2)."""
    return _digest(hashes.SHA256(), data)


def sha384(data: bytes) -> bytes:
    """SHA-384 (FIPS 180-4 §6.5)."""
    return _digest(hashes.SHA384(), data)


def sha512(data: bytes) -> bytes:
    """SHA-512 (FIPS 180-4 §6.4)."""
    return _digest(hashes.SHA512(), data)


def sha3_256(data: bytes) -> bytes:
    """SHA3-256 (FIPS 202 §6.1)."""
    return _digest(hashes.SHA3_256(), data)


def shake256(data: bytes, length: int) -> bytes:
    """SHAKE256 with ``length`` output bytes (FIPS 202 §6.2)."""
    if length <= 0:
        raise CryptoError(f"shake256 output length must be positive, got {length}")
    return _digest(hashes.SHAKE256(digest_size=length), data)


def hkdf(
    ikm: bytes,
    *,
    length: int,
    salt: bytes | None = None,
    info: bytes = b"",
    algorithm: HashName = "sha256",
) -> bytes:
    """HKDF extract-and-expand (RFC 5869 §2); ``salt=None`` means HashLen zero bytes.

    Requires ``0 < length <= 255 * HashLen`` (RFC 5869 §2.3).
    """
    try:
        hash_cls = _HASHES[algorithm]
    except KeyError:
        raise CryptoError(f"hkdf: unsupported hash {algorithm!r}") from None
    limit = 255 * hash_cls().digest_size
    if not 0 < length <= limit:
        raise CryptoError(f"hkdf: length must be in 1..{limit}, got {length}")
    return HKDF(algorithm=hash_cls(), length=length, salt=salt, info=info).derive(ikm)
