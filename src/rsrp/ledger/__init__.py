"""rsrp.ledger: an RFC 6962 / RFC 9162 transparency log.

Merkle hashing (:mod:`rsrp.ledger.rfc6962`), inclusion and consistency proofs (RFC 9162
§2.1.3-2.1.4), verification that raises a :class:`LedgerError` subclass and never returns a
bool. :class:`Log` stores the log durably in SQLite (default) or PostgreSQL, with group commit,
proofs from O(log n) stored nodes, and the checkpoints the notes layer signs.

>>> from rsrp.ledger import MemoryTree, hash_leaf, verify_inclusion
>>> tree = MemoryTree.from_entries([b"a", b"b", b"c"])
>>> verify_inclusion(hash_leaf(b"b"), 1, 3, tree.inclusion_proof(1, 3), tree.root())

Signed checkpoints (C2SP signed-note + tlog-checkpoint), cosignatures, witnesses,
RFC 3161 timestamps and receipts (the ledger-notes block below):

>>> from rsrp.ledger import generate_key, open_note, sign_note, signer_from_skey
>>> from rsrp.ledger import verifier_from_vkey
>>> skey, vkey = generate_key("rsrp.example/FR")
>>> signed = sign_note("hello\\n", [signer_from_skey(skey)])
>>> open_note(signed, [verifier_from_vkey(vkey)]).text
'hello\\n'
"""

from __future__ import annotations

from rsrp.errors import LedgerError
from rsrp.ledger._audit import AuditReport, audit
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
from rsrp.ledger._storage import AuditSource, Backend, StoredCheckpoint, StoredEntry
from rsrp.ledger._tiles import TilesSource, entries_path, export_tiles, tile_path
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
    "AuditReport",
    "AuditSource",
    "Backend",
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
    "StoredCheckpoint",
    "StoredEntry",
    "TamperError",
    "TilesSource",
    "audit",
    "consistency_proof",
    "entries_path",
    "export_tiles",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "open_backend",
    "root_at",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "tile_path",
    "verify_consistency",
    "verify_inclusion",
]

# --- ledger-notes exports (signed notes, checkpoints, cosignatures) -----------------
from rsrp.ledger._checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    open_checkpoint,
    parse_checkpoint,
)
from rsrp.ledger._checkpoint_audit import checkpoint_note_verifier
from rsrp.ledger._checkpoint_keys import (
    MissingLogSignatureError,
    open_log_checkpoint,
    require_log_signatures,
)
from rsrp.ledger._checkpointer import (
    Checkpointer,
    CheckpointerPolicy,
    CheckpointStore,
    InconsistentTreeError,
    LogView,
    TreeView,
)
from rsrp.ledger._cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    cosignature_timestamp,
)
from rsrp.ledger._note import (
    Note,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    VerifiedNote,
    open_note,
    parse_note,
    sign_note,
)
from rsrp.ledger._note_errors import (
    AmbiguousKeyError,
    MalformedCheckpointError,
    MalformedKeyError,
    MalformedNoteError,
    NoteError,
    OriginMismatchError,
    SignatureInvalidError,
    UnknownKeyError,
)
from rsrp.ledger._note_keys import Ed25519NoteSigner, Ed25519NoteVerifier
from rsrp.ledger._note_keystore import KeyStoreCosigner, KeyStoreNoteSigner
from rsrp.ledger._note_registry import generate_key, signer_from_skey, verifier_from_vkey
from rsrp.ledger._receipt import (
    NotCoveredError,
    VerifiedReceipt,
    build_receipt,
    verify_receipt,
    verify_tlog_proof,
)
from rsrp.ledger._receipt_format import (
    MalformedReceiptError,
    Receipt,
    TlogProof,
    parse_receipt,
    parse_tlog_proof,
)
from rsrp.ledger._timestamp import (
    TimestampError,
    TimestampToken,
    TimestampUnavailableError,
    TimestampVerificationError,
    request_timestamp,
    verify_timestamp,
)
from rsrp.ledger._witness import AddCheckpointRequest, Witness
from rsrp.ledger._witness_errors import (
    CheckpointSignatureError,
    ForkError,
    InconsistentCheckpointError,
    MalformedRequestError,
    OldSizeConflictError,
    RollbackError,
    UnknownLogError,
    UnsupportedCheckpointError,
    WitnessError,
    WitnessPolicyError,
    WitnessUnavailableError,
)
from rsrp.ledger._witness_http import (
    WitnessEndpoint,
    WitnessServer,
    collect_cosignatures,
    publish_checkpoint,
    request_cosignatures,
)
from rsrp.ledger._witness_policy import Threshold, WitnessKey, all_of, any_of, verify_witnesses
from rsrp.ledger._witness_state import WitnessState

__all__ += [
    "AddCheckpointRequest",
    "AmbiguousKeyError",
    "Checkpoint",
    "CheckpointSignatureError",
    "CheckpointStore",
    "Checkpointer",
    "CheckpointerPolicy",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519NoteSigner",
    "Ed25519NoteVerifier",
    "ForkError",
    "InconsistentCheckpointError",
    "InconsistentTreeError",
    "KeyStoreCosigner",
    "KeyStoreNoteSigner",
    "LogView",
    "MalformedCheckpointError",
    "MalformedKeyError",
    "MalformedNoteError",
    "MalformedReceiptError",
    "MalformedRequestError",
    "MissingLogSignatureError",
    "NotCoveredError",
    "Note",
    "NoteError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OldSizeConflictError",
    "OriginMismatchError",
    "Receipt",
    "RollbackError",
    "SignatureInvalidError",
    "SignedCheckpoint",
    "Threshold",
    "TimestampError",
    "TimestampToken",
    "TimestampUnavailableError",
    "TimestampVerificationError",
    "TlogProof",
    "TreeView",
    "UnknownKeyError",
    "UnknownLogError",
    "UnsupportedCheckpointError",
    "VerifiedNote",
    "VerifiedReceipt",
    "Witness",
    "WitnessEndpoint",
    "WitnessError",
    "WitnessKey",
    "WitnessPolicyError",
    "WitnessServer",
    "WitnessState",
    "WitnessUnavailableError",
    "all_of",
    "any_of",
    "build_receipt",
    "checkpoint_note_verifier",
    "collect_cosignatures",
    "cosignature_timestamp",
    "generate_key",
    "open_checkpoint",
    "open_log_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "parse_receipt",
    "parse_tlog_proof",
    "publish_checkpoint",
    "request_cosignatures",
    "request_timestamp",
    "require_log_signatures",
    "sign_note",
    "signer_from_skey",
    "verifier_from_vkey",
    "verify_receipt",
    "verify_timestamp",
    "verify_tlog_proof",
    "verify_witnesses",
]
# --- end ledger-notes exports --------------------------------------------------------
