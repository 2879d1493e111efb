"""rsrp.ledger: the transparency log.

Signed checkpoints (C2SP signed-note + tlog-checkpoint), cosignatures, witnesses,
RFC 3161 timestamps and receipts come from the ledger-notes block below.

    >>> from rsrp.ledger import generate_key, signer_from_skey, verifier_from_vkey
    >>> from rsrp.ledger import open_note, sign_note
    >>> skey, vkey = generate_key("rsrp.example/FR")
    >>> signed = sign_note("hello\\n", [signer_from_skey(skey)])
    >>> open_note(signed, [verifier_from_vkey(vkey)]).text
    'hello\\n'
"""

__all__: list[str] = []

# --- ledger-notes exports (signed notes, checkpoints, cosignatures) -----------------
from rsrp.ledger._checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    open_checkpoint,
    parse_checkpoint,
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
    CheckpointError,
    MalformedCheckpointError,
    MalformedKeyError,
    MalformedNoteError,
    NoteError,
    OriginMismatchError,
    SignatureInvalidError,
    UnknownKeyError,
)
from rsrp.ledger._note_keys import Ed25519NoteSigner, Ed25519NoteVerifier
from rsrp.ledger._note_registry import generate_key, signer_from_skey, verifier_from_vkey

__all__ += [
    "AmbiguousKeyError",
    "Checkpoint",
    "CheckpointError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519NoteSigner",
    "Ed25519NoteVerifier",
    "MalformedCheckpointError",
    "MalformedKeyError",
    "MalformedNoteError",
    "Note",
    "NoteError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OriginMismatchError",
    "SignatureInvalidError",
    "SignedCheckpoint",
    "UnknownKeyError",
    "VerifiedNote",
    "cosignature_timestamp",
    "generate_key",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "sign_note",
    "signer_from_skey",
    "verifier_from_vkey",
]
# --- end ledger-notes exports --------------------------------------------------------
