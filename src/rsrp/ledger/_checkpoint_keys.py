"""Which log keys a checkpoint must carry: the one acceptance rule for receipts and audits.

c2sp.org/signed-note lets a verifier accept a note once *any* known key verifies
(and ``rsrp note verify`` does exactly that, as a generic note tool). A checkpoint
is stricter (c2sp.org/tlog-proof §Verifying, step 2: "signed by the log"): the log
signs each checkpoint with several keys of different signature types (its Ed25519
note key, type 0x01, and its ML-DSA-44 tlog-cosignature key, type 0x06), and a note
missing one of them, e.g. a stripped post-quantum line, must not pass just because
the other verified. Keys of the *same* name and signature type are alternatives:
the old and new key across a rotation. So:

    For every (key name, signature type) among the given log keys, at least one
    of those keys has a verified signature line on the note.

Witness keys are not log keys: they are counted by a witness policy
(:mod:`rsrp.ledger._witness_policy`, k of n), never through this rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from rsrp.ledger._checkpoint import SignedCheckpoint, open_checkpoint
from rsrp.ledger._cosignature import CosignatureVerifier
from rsrp.ledger._errors import CheckpointError
from rsrp.ledger._note import NoteSignature, NoteVerifier
from rsrp.ledger._note_keys import ALG_ED25519, Ed25519NoteVerifier

__all__ = ["MissingLogSignatureError", "open_log_checkpoint", "require_log_signatures"]


class MissingLogSignatureError(CheckpointError):
    """A log key group (name, signature type) has no verified line on the checkpoint."""


def signature_type(v: NoteVerifier) -> str:
    """The signed-note signature type of a verifier, as hex (``01``, ``06``, ``ff…``)."""
    if isinstance(v, Ed25519NoteVerifier):
        return f"{ALG_ED25519:02x}"
    if isinstance(v, CosignatureVerifier):
        return v.kind.type_bytes.hex()
    return type(v).__name__  # another verifier class: a group of its own


def require_log_signatures(
    verified: Sequence[NoteSignature], verifiers: Sequence[NoteVerifier]
) -> None:
    """Raise :class:`MissingLogSignatureError` unless each (name, type) group of
    ``verifiers`` has a line among ``verified`` (the lines ``open_note`` checked)."""
    got = {(s.name, s.key_id) for s in verified}
    groups: dict[tuple[str, str], list[NoteVerifier]] = {}
    for v in verifiers:
        groups.setdefault((v.name, signature_type(v)), []).append(v)
    missing = [
        f"{name} (type 0x{kind}: " + ", ".join(f"{v.key_id:08x}" for v in vs) + ")"
        for (name, kind), vs in groups.items()
        if not any((v.name, v.key_id) in got for v in vs)
    ]
    if missing:
        raise MissingLogSignatureError(
            "the checkpoint has no verified signature line from log key " + "; ".join(missing)
        )


def open_log_checkpoint(
    data: bytes, origin: str | None, verifiers: Sequence[NoteVerifier]
) -> SignedCheckpoint:
    """:func:`open_checkpoint`, then :func:`require_log_signatures` over the log's keys."""
    signed = open_checkpoint(data, origin, verifiers)
    require_log_signatures(signed.note.verified, verifiers)
    return signed
