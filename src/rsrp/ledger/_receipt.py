"""Receipts: build from the log once a checkpoint covers an entry; verify offline.

Verification follows c2sp.org/tlog-proof §Verifying a tlog proof, in order:

1. the leaf hash is RFC 6962 ``SHA-256(0x00 || envelope bytes)``;
2. the checkpoint is signed by the log: a verified line for each (name, signature
   type) of the configured log keys (:mod:`rsrp.ledger._checkpoint_keys`), and the
   expected origin;
3. the witnesses' cosignatures satisfy the witness policy;
4. the inclusion proof binds the leaf to the checkpoint root (RFC 9162 §2.1.3.2);

then, when trust anchors are given, the RFC 3161 time-stamp over the checkpoint
text and the envelope itself (``rsrp.proof.verify_envelope``, which accepts a
batch-mode envelope only with the inclusion verified here). Each step raises its
own :class:`LedgerError` (or ``ProofError`` for the envelope); nothing returns False.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509

from rsrp.errors import ConfigError
from rsrp.ledger._checkpoint import Checkpoint, SignedCheckpoint
from rsrp.ledger._checkpoint_keys import open_log_checkpoint
from rsrp.ledger._errors import CheckpointError
from rsrp.ledger._log import Log
from rsrp.ledger._note import NoteVerifier
from rsrp.ledger._note_registry import verifier_from_vkey
from rsrp.ledger._receipt_format import Receipt, TlogProof, parse_receipt, parse_tlog_proof
from rsrp.ledger._storage import StoredCheckpoint
from rsrp.ledger._timestamp import TimestampToken, TimestampVerificationError, verify_timestamp
from rsrp.ledger._verify import verify_inclusion
from rsrp.ledger._witness_policy import Threshold, verify_witnesses
from rsrp.ledger.rfc6962 import hash_leaf

if TYPE_CHECKING:
    from rsrp.proof import Expectation, Keyring, VerifiedEnvelope

__all__ = [
    "NotCoveredError",
    "VerifiedReceipt",
    "build_receipt",
    "verify_receipt",
    "verify_tlog_proof",
]


class NotCoveredError(CheckpointError):
    """No stored checkpoint covers the entry yet (wait for the next checkpoint)."""


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """What a verified receipt establishes. ``None`` fields were not checked (no anchor given)."""

    index: int
    leaf_hash: bytes
    checkpoint: Checkpoint
    log_keys: tuple[str, ...]
    witnesses: frozenset[str]
    timestamp: dt.datetime | None
    envelope: VerifiedEnvelope | None


def build_receipt(log: Log, index: int, *, checkpoint: StoredCheckpoint | None = None) -> Receipt:
    """The receipt of entry ``index`` under ``checkpoint`` (default: the latest stored one).

    The note carries every stored signature and witness cosignature; the RFC 3161
    token is included when the checkpoint has one.
    """
    cp = checkpoint or log.latest_checkpoint()
    if cp is None or index >= cp.size:
        raise NotCoveredError(f"entry {index} is not covered by a stored checkpoint yet")
    entry = log.entry(index)
    proof = tuple(log.inclusion_proof(index, cp.size))
    note = cp.note + (cp.cosignatures or b"")
    stamp = cp.timestamp_token.decode("ascii") if cp.timestamp_token else None
    return Receipt(entry.data, TlogProof(index, proof, note), stamp)


def _verifiers(keys: Sequence[str | NoteVerifier]) -> list[NoteVerifier]:
    out = [verifier_from_vkey(k) if isinstance(k, str) else k for k in keys]
    if not out:
        raise ConfigError("receipt verification needs at least one log vkey")
    return out


def verify_tlog_proof(
    proof: bytes | TlogProof,
    leaf_hash: bytes,
    vkeys: Sequence[str | NoteVerifier],
    witness_policy: Threshold | None,
    *,
    origin: str | None = None,
) -> tuple[SignedCheckpoint, frozenset[str]]:
    """Steps 2-4 of c2sp.org/tlog-proof §Verifying a tlog proof, for any log's proof.

    ``leaf_hash`` is step 1 (application specific). Returns the log-signed checkpoint
    and the witnesses whose cosignatures verified; raises on any failure.
    """
    p = proof if isinstance(proof, TlogProof) else parse_tlog_proof(proof)
    # Step 2: every log key group (name, signature type) must have signed it.
    signed = open_log_checkpoint(p.checkpoint, origin, _verifiers(vkeys))
    cp = signed.checkpoint
    witnesses = verify_witnesses(p.checkpoint, witness_policy) if witness_policy else frozenset()
    verify_inclusion(leaf_hash, p.index, cp.size, p.proof, cp.root_hash)
    return signed, witnesses


def verify_receipt(
    receipt: bytes | Receipt,
    vkeys: Sequence[str | NoteVerifier],
    witness_policy: Threshold | None,
    keyring: Keyring | None = None,
    *,
    origin: str | None = None,
    tsa_roots: Sequence[x509.Certificate] = (),
    expect: Expectation | None = None,
) -> VerifiedReceipt:
    """Verify a receipt offline with public keys only (see the module docstring for order).

    ``witness_policy=None`` means the caller deliberately requires no witness.
    With ``tsa_roots`` the time-stamp is required and verified; with ``keyring``
    the envelope is verified by ``rsrp.proof.verify_envelope``.
    """
    r = receipt if isinstance(receipt, Receipt) else parse_receipt(receipt)
    leaf = hash_leaf(r.envelope)
    signed, witnesses = verify_tlog_proof(r.proof, leaf, vkeys, witness_policy, origin=origin)
    cp = signed.checkpoint
    when = None
    if tsa_roots:
        if r.timestamp is None:
            raise TimestampVerificationError("a time-stamp is required but the receipt has none")
        when = verify_timestamp(TimestampToken.decode(r.timestamp), cp.body_bytes(), tsa_roots)
    log_keys = tuple(f"{s.name}+{s.key_id:08x}" for s in signed.note.verified)
    envelope = None
    if keyring is not None:
        # Imported here: rsrp.proof sits beside rsrp.ledger, and only this step needs it.
        from rsrp.proof import VerifiedInclusion, verify_envelope

        inclusion = VerifiedInclusion(
            leaf, r.proof.index, cp.size, cp.root_hash, cp.origin, log_keys
        )
        envelope = verify_envelope(r.envelope, keyring, expect, inclusion=inclusion)
    return VerifiedReceipt(r.proof.index, leaf, cp, log_keys, witnesses, when, envelope)
