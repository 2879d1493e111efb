"""The ledger's error families, all :class:`rsrp.errors.LedgerError` subclasses.

Proof verification raises one of the :class:`MerkleProofError` subclasses with the numbers or
hashes that disagree; storage and audit failures carry the first bad index.
"""

from __future__ import annotations

from rsrp.errors import LedgerError

__all__ = [
    "CheckpointError",
    "InvalidSizeError",
    "MalformedHashError",
    "MerkleProofError",
    "ProofLengthError",
    "RootMismatchError",
    "StorageError",
    "TamperError",
]


class MerkleProofError(LedgerError):
    """An inclusion or consistency proof is malformed or does not verify."""


class InvalidSizeError(MerkleProofError):
    """Tree sizes or a leaf index are out of range (e.g. ``index >= size``, ``size1 > size2``)."""


class ProofLengthError(MerkleProofError):
    """A proof has the wrong number of hashes for the given index and sizes."""

    def __init__(self, got: int, want: int) -> None:
        super().__init__(f"wrong proof length: got {got} hashes, want {want}")
        self.got = got
        self.want = want


class MalformedHashError(MerkleProofError):
    """A hash is not 32 bytes (or not bytes at all)."""


class RootMismatchError(MerkleProofError):
    """The root computed from a proof differs from the expected root."""

    def __init__(self, expected: bytes, got: bytes) -> None:
        super().__init__(
            f"root mismatch: expected {expected.hex()}, computed {got.hex()}",
        )
        self.expected = expected
        self.got = got


class StorageError(LedgerError):
    """The storage back-end failed or holds something it never should."""


class CheckpointError(LedgerError):
    """A checkpoint does not match the log it claims to describe."""


class TamperError(LedgerError):
    """An audit found the log altered; ``index`` is the first bad entry (or tree size)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index
