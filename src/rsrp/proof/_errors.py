"""Proof-stage errors: one ``ProofError`` subclass per reason a verifier can give."""

from __future__ import annotations

from rsrp.errors import ProofError

__all__ = [
    "FieldMismatchError",
    "HashMismatchError",
    "KeyNotValidAtEvaluationTimeError",
    "MalformedEnvelopeError",
    "NeedsInclusionProofError",
    "SignatureInvalidError",
    "SigningFailedError",
    "UnknownDecisionError",
    "UnknownKeyError",
    "UnsupportedAlgorithmError",
    "UnsupportedVersionError",
]


class MalformedEnvelopeError(ProofError):
    """The bytes are not a well-formed envelope (truncated, trailing bytes, bad length, …)."""


class UnsupportedVersionError(ProofError):
    """The envelope (or encoding) version is not one this verifier implements."""


class UnknownDecisionError(ProofError):
    """The decision code is not 1 ALLOW, 2 BLOCK, 3 WARN or 4 APPROVAL_REQUIRED."""


class UnknownKeyError(ProofError):
    """No public key in the keyring matches the envelope's signer key id."""


class KeyNotValidAtEvaluationTimeError(ProofError):
    """The signer key exists but was not valid when the decision was evaluated."""


class SignatureInvalidError(ProofError):
    """A signature does not verify; ``component`` names which one failed."""

    def __init__(self, component: str, detail: str = "") -> None:
        self.component = component
        message = f"signature invalid ({component})"
        super().__init__(f"{message}: {detail}" if detail else message)


class HashMismatchError(ProofError):
    """An envelope hash differs from the one recomputed from the supplied policy or input."""

    def __init__(self, field: str, expected: bytes, got: bytes) -> None:
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(f"{field} mismatch: expected {expected.hex()}, envelope has {got.hex()}")


class FieldMismatchError(ProofError):
    """A non-hash field (jurisdiction, request id, …) differs from the expected value."""

    def __init__(self, field: str, expected: str, got: str) -> None:
        self.field = field
        super().__init__(f"{field} mismatch: expected {expected!r}, envelope has {got!r}")


class NeedsInclusionProofError(ProofError):
    """A batch-mode envelope is unsigned: only a verified ledger inclusion makes it valid."""


class SigningFailedError(ProofError):
    """The signer refused or failed to sign the envelope."""


class UnsupportedAlgorithmError(UnsupportedVersionError):
    """The signature algorithm code is not one this verifier implements."""
