"""The signing interface every key store implements (STYLE.md point 8).

A proof or ledger component never sees key material: it holds a ``Signer``
chosen by URI (``file:...`` for the software store, ``pkcs11:...`` per RFC 7512
for an HSM) and a ``Verifier`` from a keyring of exported public keys.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Signer", "Verifier"]


@runtime_checkable
class Signer(Protocol):
    @property
    def key_id(self) -> str: ...

    @property
    def algorithm(self) -> str:
        """Algorithm name, e.g. ``ed25519``, ``ecdsa-p384-sha384``, ``ml-dsa-44``,
        ``mldsa65-ecdsa-p384-sha512`` (the composite)."""
        ...

    @property
    def jurisdiction(self) -> str: ...

    def public_key_der(self) -> bytes:
        """SubjectPublicKeyInfo DER of the public key."""
        ...

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        """Sign ``message``; refuses (KeyStoreError) when ``jurisdiction`` is given and is not
        the key's, or when the key is not active."""
        ...


@runtime_checkable
class Verifier(Protocol):
    @property
    def key_id(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    def verify(self, message: bytes, signature: bytes, *, context: bytes = b"") -> None:
        """Raise on an invalid signature; never return False."""
        ...
