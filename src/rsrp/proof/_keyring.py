"""Public keys a verifier trusts: the ``Keyring`` protocol and a static implementation.

``rsrp.keys`` provides the production keyring (``keyring.verifier(key_id, at=...)``);
:class:`StaticKeyring` serves the CLI's ``--public-key PEM`` and tests. It loads
``<key id>.pem`` files: one ``PUBLIC KEY`` block (any ``rsrp.crypto.load_public_key``
type; the composite for V2) or two blocks, Ed25519 then ML-DSA, for an R-SRP V1
hybrid key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from rsrp.crypto import CryptoError, PublicKey, load_public_key
from rsrp.errors import ConfigError
from rsrp.keys.signer import Verifier
from rsrp.proof._errors import KeyNotValidAtEvaluationTimeError, UnknownKeyError
from rsrp.proof._v1_keys import HybridV1Verifier

__all__ = ["CryptoKeyVerifier", "KeyEntry", "Keyring", "ListableKeyring", "StaticKeyring"]

_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)
_MAX_PEM = 64 * 1024


class Keyring(Protocol):
    def verifier(self, key_id: str, *, at: dt.datetime | None = None) -> Verifier: ...


@runtime_checkable
class ListableKeyring(Keyring, Protocol):
    """A keyring that can list its key ids (needed for V1, which carries only a key id hash)."""

    def key_ids(self) -> Iterable[str]: ...


@dataclass(frozen=True, slots=True)
class KeyEntry:
    verifier: Verifier
    #: Validity window, inclusive start and exclusive end; None is unbounded.
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None


class StaticKeyring:
    """An in-memory keyring with validity windows."""

    def __init__(self, entries: Iterable[KeyEntry] = ()) -> None:
        self._entries: dict[str, KeyEntry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: KeyEntry) -> None:
        self._entries[entry.verifier.key_id] = entry

    def key_ids(self) -> Iterable[str]:
        return tuple(self._entries)

    def verifier(self, key_id: str, *, at: dt.datetime | None = None) -> Verifier:
        """The key's verifier; ``at`` None skips the window check (V1 carries no time)."""
        entry = self._entries.get(key_id)
        if entry is None:
            raise UnknownKeyError(f"no public key with id {key_id!r} in the keyring")
        if at is not None and (
            (entry.not_before is not None and at < entry.not_before)
            or (entry.not_after is not None and at >= entry.not_after)
        ):
            raise KeyNotValidAtEvaluationTimeError(
                f"key {key_id!r} is valid {entry.not_before}..{entry.not_after}, "
                f"not at {at.isoformat()}"
            )
        return entry.verifier

    @classmethod
    def from_pem(cls, pem: bytes, key_id: str) -> StaticKeyring:
        return cls([KeyEntry(verifier_from_pem(pem, key_id))])

    @classmethod
    def from_dir(cls, directory: Path) -> StaticKeyring:
        """Every ``<key id>.pem`` in ``directory``."""
        files = sorted(directory.glob("*.pem"))
        if not files:
            raise ConfigError(f"no *.pem public keys in {directory}")
        return cls(KeyEntry(verifier_from_pem(f.read_bytes(), f.stem)) for f in files)


def verifier_from_pem(pem: bytes, key_id: str) -> Verifier:
    """One PEM block: any ``rsrp.crypto`` key; two blocks: an R-SRP V1 hybrid key."""
    if len(pem) > _MAX_PEM:
        raise ConfigError(f"public key file for {key_id!r} is larger than {_MAX_PEM} bytes")
    try:
        keys = [load_public_key(block) for block in _PEM_BLOCK.findall(pem)]
    except CryptoError as e:
        raise ConfigError(f"public key {key_id!r} could not be loaded: {e}") from e
    if len(keys) == 1:
        return CryptoKeyVerifier(keys[0], key_id)
    if len(keys) == 2:
        classical, pq = keys[0].key, keys[1].key
        if isinstance(classical, ed25519.Ed25519PublicKey) and isinstance(
            pq, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
        ):
            return HybridV1Verifier(classical, pq, key_id)
    raise ConfigError(
        f"{key_id!r}: expected one PUBLIC KEY block, or two (Ed25519 then ML-DSA) for a V1 "
        f"hybrid key; found {len(keys)}"
    )


@dataclass(frozen=True, slots=True)
class CryptoKeyVerifier:
    """A ``Verifier`` over an ``rsrp.crypto.PublicKey`` (composite, ECDSA, ML-DSA, Ed25519)."""

    key: PublicKey
    key_id: str

    @property
    def algorithm(self) -> str:
        return self.key.algorithm

    def verify(self, message: bytes, signature: bytes, *, context: bytes = b"") -> None:
        """Raises ``rsrp.crypto.InvalidSignature`` (with ``.component``) on failure."""
        self.key.verify(message, signature, context)
