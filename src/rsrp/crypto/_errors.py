"""The ``rsrp.crypto`` exception hierarchy.

``rsrp.crypto`` imports nothing else of rsrp (DESIGN.md, "Dependencies point one
way"), so it has its own root, :class:`CryptoError`; the key plane translates it
into ``rsrp.errors.KeyStoreError`` at its boundary.
"""

from __future__ import annotations

__all__ = [
    "CryptoError",
    "DecryptionError",
    "InvalidSignature",
    "MalformedKey",
    "SelfTestFailure",
    "UnsupportedAlgorithm",
]


class CryptoError(Exception):
    """Base of every error raised on purpose by :mod:`rsrp.crypto`."""


class InvalidSignature(CryptoError):  # noqa: N818 - contract name (issue 3)
    """A signature did not verify.

    ``component`` names the part that failed: ``"ml-dsa"``, ``"ecdsa"``,
    ``"ed25519"``, or ``"encoding"`` when the signature could not even be split
    or parsed. For a composite signature this tells an operator which half broke.
    """

    def __init__(self, message: str, *, component: str) -> None:
        super().__init__(message)
        self.component = component


class UnsupportedAlgorithm(CryptoError):  # noqa: N818 - contract name (issue 3)
    """The algorithm, curve or operation is not one rsrp supports."""


class MalformedKey(CryptoError):  # noqa: N818 - contract name (issue 3)
    """Key bytes (raw, DER, PEM, certificate) could not be parsed strictly."""


class DecryptionError(CryptoError):
    """A ciphertext failed authentication or is malformed; nothing was released."""


class SelfTestFailure(CryptoError):  # noqa: N818 - contract name (issue 3)
    """A known-answer or pairwise-consistency self-test failed: refuse to serve."""
