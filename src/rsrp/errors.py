"""The rsrp exception hierarchy.

Every error a user can see derives from :class:`RsrpError` and carries a message
they can act on. Each pipeline stage has one family; a stage re-raises what it
catches from a lower stage as its own family with ``raise ... from e``. The CLI
maps families to exit codes, the API to HTTP problems. ``rsrp.crypto`` imports
nothing of ours, so its errors (``rsrp.crypto.CryptoError``) are translated at
the key-plane boundary into :class:`KeyStoreError` subclasses.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ContextError",
    "KeyStoreError",
    "LedgerError",
    "PolicyError",
    "ProofError",
    "RsrpError",
    "ServiceError",
]


class RsrpError(Exception):
    """Base of every error rsrp raises on purpose."""

    #: Process exit code the CLI uses for this family.
    exit_code: int = 1


class ConfigError(RsrpError):
    """A configuration file or setting is invalid or unsafe for the mode."""

    exit_code = 2


class PolicyError(RsrpError):
    """A policy bundle or an input to it is invalid."""


class ContextError(RsrpError):
    """Agents, missions or counters could not be resolved."""


class KeyStoreError(RsrpError):
    """A key could not be created, found, used or changed."""


class ProofError(RsrpError):
    """A decision envelope is malformed or does not verify."""


class LedgerError(RsrpError):
    """The transparency log is inconsistent, unavailable or a proof fails."""


class ServiceError(RsrpError):
    """The decision service could not process a request."""
