"""rsrp.ledger: an RFC 6962 / RFC 9162 transparency log.

Merkle hashing (:mod:`rsrp.ledger.rfc6962`), inclusion and consistency proofs (RFC 9162
§2.1.3-2.1.4), verification that raises a :class:`LedgerError` subclass and never returns a
bool. :class:`Log` stores the log durably in SQLite (default) or PostgreSQL, with group commit,
proofs from O(log n) stored nodes, and the checkpoints the notes layer signs.

>>> from rsrp.ledger import MemoryTree, hash_leaf, verify_inclusion
>>> tree = MemoryTree.from_entries([b"a", b"b", b"c"])
>>> verify_inclusion(hash_leaf(b"b"), 1, 3, tree.inclusion_proof(1, 3), tree.root())
"""

from __future__ import annotations

from rsrp.errors import LedgerError
from rsrp.ledger._errors import (
    CheckpointError,
    InvalidSizeError,
    MalformedHashError,
    MerkleProofError,
    ProofLengthError,
    RootMismatchError,
    StorageError,
    TamperError,
)
from rsrp.ledger._log import MAX_ENTRY_SIZE, Log, open_backend
from rsrp.ledger._memory import MemoryTree
from rsrp.ledger._proofs import NodeSource, consistency_proof, inclusion_proof, root_at
from rsrp.ledger._storage import Backend, Checkpoint, StoredEntry
from rsrp.ledger._verify import (
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from rsrp.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE, hash_children, hash_leaf

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_ENTRY_SIZE",
    "Backend",
    "Checkpoint",
    "CheckpointError",
    "InvalidSizeError",
    "LedgerError",
    "Log",
    "MalformedHashError",
    "MemoryTree",
    "MerkleProofError",
    "NodeSource",
    "ProofLengthError",
    "RootMismatchError",
    "StorageError",
    "StoredEntry",
    "TamperError",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "open_backend",
    "root_at",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
