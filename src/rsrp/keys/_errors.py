"""The key plane's exceptions: one family (:class:`rsrp.errors.KeyStoreError`), one
subclass per reason a caller may want to handle differently (STYLE.md point 9)."""

from __future__ import annotations

from rsrp.errors import ConfigError, KeyStoreError

__all__ = [
    "InvalidKeyURI",
    "InvalidTransition",
    "JournalError",
    "JurisdictionError",
    "KeyDestroyed",
    "KeyExists",
    "KeyFileCorrupt",
    "KeyNotUsable",
    "KeyNotValidAt",
    "KeyPolicyError",
    "KeyStoreError",
    "MalformedKeyMaterial",
    "NotAvailable",
    "SignatureInvalid",
    "UnknownKey",
    "WrongPassphrase",
    "WrongPin",
]


class UnknownKey(KeyStoreError):
    """No key with this id exists in the store or keyring."""


class KeyExists(KeyStoreError):
    """A key with this id already exists; key ids are never reused."""


class InvalidTransition(KeyStoreError):
    """The lifecycle change is not allowed from the key's current state (NIST SP 800-57)."""


class KeyNotUsable(KeyStoreError):
    """The key exists but may not perform this operation now (state, validity window, purpose)."""


class KeyDestroyed(KeyNotUsable):
    """The key's private material has been destroyed."""


class KeyNotValidAt(KeyStoreError):
    """The public key was not valid for verification at the requested time."""


class JurisdictionError(KeyStoreError):
    """A key was asked to act for a jurisdiction that is not its own, or a node does not serve it."""


class WrongPassphrase(KeyStoreError):
    """The passphrase does not open this key file (or the file was altered: GCM cannot tell)."""


class WrongPin(KeyStoreError):
    """The token refused the user PIN."""


class KeyFileCorrupt(KeyStoreError):
    """A key file is structurally invalid (bad magic, header, sizes)."""


class MalformedKeyMaterial(KeyStoreError):
    """Imported or exported key bytes could not be parsed."""


class InvalidKeyURI(KeyStoreError):
    """A ``file:`` or ``pkcs11:`` (RFC 7512) store URI is malformed or unsafe."""


class NotAvailable(KeyStoreError):
    """The back-end, module, mechanism or algorithm is not available in this build."""


class JournalError(KeyStoreError):
    """The key-event journal is malformed or its hash chain is broken."""


class SignatureInvalid(KeyStoreError):
    """A signature did not verify; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"signature invalid: {reason}")
        self.reason = reason


class KeyPolicyError(ConfigError):
    """The key policy (production mode) forbids this store, key or configuration."""
