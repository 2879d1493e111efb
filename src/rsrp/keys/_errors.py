"""The key plane's exceptions: one family (:class:`rsrp.errors.KeyStoreError`), one
subclass per reason a caller may want to handle differently (STYLE.md point 9)."""

from __future__ import annotations

from rsrp.errors import ConfigError, KeyStoreError

__all__ = [
    "InvalidKeyURIError",
    "InvalidTransitionError",
    "JournalError",
    "JurisdictionError",
    "KeyDestroyedError",
    "KeyExistsError",
    "KeyFileCorruptError",
    "KeyNotUsableError",
    "KeyNotValidAt",
    "KeyNotValidAtError",
    "KeyPolicyError",
    "KeyStoreError",
    "MalformedKeyMaterialError",
    "NotAvailableError",
    "SignatureInvalidError",
    "UnknownKey",
    "UnknownKeyError",
    "WrongPassphraseError",
    "WrongPinError",
]


class UnknownKeyError(KeyStoreError):
    """No key with this id exists in the store or keyring."""


class KeyExistsError(KeyStoreError):
    """A key with this id already exists; key ids are never reused."""


class InvalidTransitionError(KeyStoreError):
    """The lifecycle change is not allowed from the key's current state (NIST SP 800-57)."""


class KeyNotUsableError(KeyStoreError):
    """The key exists but may not perform this operation now (state, validity window, purpose)."""


class KeyDestroyedError(KeyNotUsableError):
    """The key's private material has been destroyed."""


class KeyNotValidAtError(KeyStoreError):
    """The public key was not valid for verification at the requested time."""


class JurisdictionError(KeyStoreError):
    """A key was asked to act for another jurisdiction than its own, or a node does not
    serve the key's jurisdiction."""


class WrongPassphraseError(KeyStoreError):
    """The passphrase does not open this key file (or the file was altered: GCM cannot tell)."""


class WrongPinError(KeyStoreError):
    """The token refused the user PIN."""


class KeyFileCorruptError(KeyStoreError):
    """A key file is structurally invalid (bad magic, header, sizes)."""


class MalformedKeyMaterialError(KeyStoreError):
    """Imported or exported key bytes could not be parsed."""


class InvalidKeyURIError(KeyStoreError):
    """A ``file:`` or ``pkcs11:`` (RFC 7512) store URI is malformed or unsafe."""


class NotAvailableError(KeyStoreError):
    """The back-end, module, mechanism or algorithm is not available in this build."""


class JournalError(KeyStoreError):
    """The key-event journal is malformed or its hash chain is broken."""


class SignatureInvalidError(KeyStoreError):
    """A signature did not verify; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"signature invalid: {reason}")
        self.reason = reason


class KeyPolicyError(ConfigError):
    """The key policy (production mode) forbids this store, key or configuration."""


# The names the key-plane contract uses (issue 3); the classes carry the Error suffix.
UnknownKey = UnknownKeyError
KeyNotValidAt = KeyNotValidAtError
