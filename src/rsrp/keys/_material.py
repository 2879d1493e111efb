"""Software key material over :mod:`rsrp.crypto`, with its errors translated.

``rsrp.crypto`` has its own exception hierarchy (it imports nothing of ours);
this is the key-plane boundary where :class:`rsrp.crypto.CryptoError` becomes a
:class:`KeyStoreError` subclass (``raise ... from e``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rsrp import crypto
from rsrp.keys._errors import (
    KeyStoreError,
    MalformedKeyMaterialError,
    NotAvailableError,
    SignatureInvalidError,
)

__all__ = ["crypto_errors", "generate_material", "load_pkcs8", "load_public"]

T = TypeVar("T")


@contextmanager
def crypto_errors(what: str) -> Iterator[None]:
    """Translate :class:`rsrp.crypto.CryptoError` into our family for ``what``."""
    try:
        yield
    except crypto.InvalidSignature as e:
        raise SignatureInvalidError(f"{e} (component: {e.component})") from e
    except crypto.UnsupportedAlgorithm as e:
        raise NotAvailableError(f"{what}: {e}") from e
    except crypto.MalformedKey as e:
        raise MalformedKeyMaterialError(f"{what}: {e}") from e
    except crypto.CryptoError as e:
        raise KeyStoreError(f"{what}: {e}") from e


def _call(what: str, fn: Callable[[], T]) -> T:
    with crypto_errors(what):
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover - for mypy's flow analysis


def generate_material(algorithm: str) -> crypto.PrivateKey:
    """A fresh private key (``rsrp.crypto.generate`` runs the pairwise-consistency test)."""
    if algorithm not in crypto.ALGORITHMS:
        raise NotAvailableError(f"algorithm {algorithm!r} is not available in the software store")
    return _call(f"generating {algorithm}", lambda: crypto.generate(algorithm))


def load_pkcs8(der: bytes) -> crypto.PrivateKey:
    """Parse an unencrypted PKCS#8 / OneAsymmetricKey (DER or PEM) of a supported algorithm."""
    key = _call("PKCS#8 private key", lambda: crypto.load_private_key(der))
    _call("PKCS#8 private key", lambda: key.algorithm)
    return key


def load_public(data: bytes) -> crypto.PublicKey:
    """Parse a PEM/DER SubjectPublicKeyInfo or X.509 certificate."""
    return _call("public key", lambda: crypto.load_public_key(data))
