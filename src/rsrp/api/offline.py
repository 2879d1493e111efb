"""Offline verification of what the service hands out: receipts and the whole ledger.

Needs only public material: the log's note verifier key(s) (vkey strings) and,
for per-decision envelopes, a keyring of decision-signing public keys.

The vkeys given are the log's keys, and the one acceptance rule of rsrp.ledger
applies (``rsrp.ledger.require_log_signatures``, docs/ledger-checkpoints.md): for each
(key name, signature type) among them, the checkpoint must carry a verified line, so
a stripped ML-DSA-44 line fails when its vkey is given, while the old and the new
Ed25519 key across a rotation are alternatives.

- :func:`verify_receipt`: envelope + C2SP tlog-proof@v1 → ``rsrp.ledger.verify_receipt``
  (checkpoint signatures, RFC 9162 §2.1.3.2 inclusion), then the envelope itself.
- :func:`verify_ledger`: ``rsrp.ledger.audit`` over the database (every leaf, node,
  root and stored checkpoint signature), then every envelope under the latest
  checkpoint through ``rsrp.proof.verify_envelope`` with its inclusion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rsrp.errors import LedgerError, RsrpError
from rsrp.ledger import (
    Log,
    MemoryTree,
    Receipt,
    audit,
    checkpoint_note_verifier,
    hash_leaf,
    open_log_checkpoint,
    parse_tlog_proof,
    verifier_from_vkey,
    verify_inclusion,
)
from rsrp.ledger import verify_receipt as ledger_verify_receipt
from rsrp.proof import Keyring, StaticKeyring, VerifiedEnvelope, VerifiedInclusion, verify_envelope

__all__ = [
    "LedgerReport",
    "ReceiptError",
    "verify_ledger",
    "verify_receipt",
]


class ReceiptError(LedgerError):
    """The ledger or a receipt does not verify as a whole."""


def verify_receipt(
    envelope: bytes,
    tlog_proof: str,
    vkeys: Sequence[str],
    *,
    origin: str | None = None,
    keyring: Keyring | None = None,
) -> VerifiedEnvelope:
    """Verify a decision's receipt offline; raise a LedgerError/ProofError subclass."""
    receipt = Receipt(envelope, parse_tlog_proof(tlog_proof.encode("utf-8")))
    verifiers = [verifier_from_vkey(v) for v in vkeys]
    verified = ledger_verify_receipt(
        receipt, verifiers, None, keyring or StaticKeyring([]), origin=origin
    )
    if verified.envelope is None:  # pragma: no cover - a keyring is always given above
        raise ReceiptError("the envelope was not verified")
    return verified.envelope


@dataclass(frozen=True, slots=True)
class LedgerReport:
    size: int
    checkpoint_size: int
    root: bytes
    outcomes: dict[str, int]
    evidence: dict[str, int]
    #: Entries after the latest checkpoint: in the recomputed tree, not yet signed.
    uncovered: int


def verify_ledger(
    db_url: str, vkeys: Sequence[str], *, keyring: Keyring | None = None
) -> LedgerReport:
    """Audit the whole log and verify every envelope the latest checkpoint covers."""
    verifiers = [verifier_from_vkey(v) for v in vkeys]
    log = Log.open(db_url)
    try:
        latest = log.latest_checkpoint()
        if latest is None:
            raise ReceiptError("the ledger has no signed checkpoint")
        origin = open_log_checkpoint(latest.note, None, verifiers).checkpoint.origin
        report = audit(log.backend, verify_note=checkpoint_note_verifier(origin, verifiers))
        entries = [log.entry(i).data for i in range(latest.size)]
    finally:
        log.close()
    signed = open_log_checkpoint(latest.note, origin, verifiers)
    n = signed.checkpoint.size
    tree = MemoryTree.from_entries(entries)
    root = signed.checkpoint.root_hash
    outcomes: Counter[str] = Counter()
    evidence: Counter[str] = Counter()
    ring = keyring or StaticKeyring([])
    keys = tuple(f"{s.name}+{s.key_id:08x}" for s in signed.note.verified)
    for i, data in enumerate(entries):
        leaf = hash_leaf(data)
        inclusion = VerifiedInclusion(leaf, i, n, root, origin, keys)
        try:
            # audit() recomputed the root from these leaves; the proof ties each to it.
            verify_inclusion(leaf, i, n, tree.inclusion_proof(i, n), root)
            v = verify_envelope(data, ring, inclusion=inclusion)
        except RsrpError as e:
            raise ReceiptError(f"entry {i}: {e}") from e
        outcomes[v.envelope.decision.name] += 1
        evidence[v.evidence] += 1
    return LedgerReport(report.size, n, root, dict(outcomes), dict(evidence), report.size - n)
