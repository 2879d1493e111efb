"""Offline verification of what the service hands out: receipts and the whole ledger.

Needs only public material: the log's note verifier key(s) (vkey strings) and,
for per-decision envelopes, a keyring of decision-signing public keys.

- :func:`verify_receipt`: envelope + C2SP tlog-proof@v1 → the checkpoint's
  signatures, the RFC 9162 §2.1.3.2 inclusion proof, then the envelope itself.
- :func:`verify_ledger`: every entry of a database: recomputes every root,
  checks the latest signed checkpoint against it, and every envelope.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rsrp.errors import LedgerError, RsrpError
from rsrp.ledger import (
    Log,
    MemoryTree,
    SignedCheckpoint,
    hash_leaf,
    open_checkpoint,
    verifier_from_vkey,
    verify_inclusion,
)
from rsrp.proof import Keyring, StaticKeyring, VerifiedEnvelope, VerifiedInclusion, verify_envelope

__all__ = ["LedgerReport", "ReceiptError", "parse_tlog_proof", "verify_ledger", "verify_receipt"]

_HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"^index (0|[1-9][0-9]{0,18})$")
_HASH = re.compile(r"^[A-Za-z0-9+/]{43}=$")
_MAX = 64 * 1024


class ReceiptError(LedgerError):
    """A receipt is malformed or does not verify."""


def parse_tlog_proof(text: str) -> tuple[int, list[bytes], bytes]:
    """(index, inclusion hashes, checkpoint note bytes); strict (STYLE.md 11)."""
    if len(text) > _MAX:
        raise ReceiptError("receipt larger than 64 KiB")
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines or lines[0] != _HEADER:
        raise ReceiptError(f"receipt must start with {_HEADER!r} and hold a blank line")
    i = 1
    while i < len(lines) and lines[i].startswith("extra "):
        i += 1
    m = _INDEX.match(lines[i]) if i < len(lines) else None
    if m is None:
        raise ReceiptError("receipt has no valid 'index N' line")
    hashes: list[bytes] = []
    for line in lines[i + 1 :]:
        if not _HASH.match(line):
            raise ReceiptError("receipt inclusion hash is not 32 bytes of base64")
        hashes.append(base64.b64decode(line, validate=True))
    return int(m.group(1)), hashes, note.encode("utf-8")


def _inclusion(signed: SignedCheckpoint, index: int, envelope: bytes) -> VerifiedInclusion:
    return VerifiedInclusion(
        leaf_hash=hash_leaf(envelope),
        leaf_index=index,
        tree_size=signed.checkpoint.size,
        root_hash=signed.checkpoint.root_hash,
        origin=signed.checkpoint.origin,
        checkpoint_key_ids=tuple(f"{s.name}+{s.key_id:08x}" for s in signed.note.verified),
    )


def verify_receipt(
    envelope: bytes,
    receipt: str,
    vkeys: Sequence[str],
    *,
    origin: str | None = None,
    keyring: Keyring | None = None,
) -> VerifiedEnvelope:
    """Verify a receipt offline; raise a LedgerError/ProofError subclass naming the failure."""
    index, hashes, note = parse_tlog_proof(receipt)
    signed = open_checkpoint(note, origin, [verifier_from_vkey(v) for v in vkeys])
    verify_inclusion(
        hash_leaf(envelope), index, signed.checkpoint.size, hashes, signed.checkpoint.root_hash
    )
    return verify_envelope(
        envelope, keyring or StaticKeyring([]), inclusion=_inclusion(signed, index, envelope)
    )


@dataclass(frozen=True, slots=True)
class LedgerReport:
    size: int
    checkpoint_size: int
    root: bytes
    outcomes: dict[str, int]
    evidence: dict[str, int]
    #: Entries after the latest checkpoint: hashed into the recomputed root, but
    #: not yet covered by a signature.
    uncovered: int


def verify_ledger(
    db_url: str, vkeys: Sequence[str], *, keyring: Keyring | None = None
) -> LedgerReport:
    """Recompute the log from its raw entries and verify every envelope against the checkpoint."""
    log = Log.open(db_url)
    try:
        size = log.size
        cp = log.latest_checkpoint()
        if cp is None:
            raise ReceiptError("the ledger has no signed checkpoint")
        signed = open_checkpoint(cp.note, None, [verifier_from_vkey(v) for v in vkeys])
        entries: list[bytes] = []
        start = 0
        while start < size:
            batch = log.backend.read_entries(start, 10_000)
            if not batch:
                raise ReceiptError(f"entry {start} is missing from a log of size {size}")
            for e in batch:
                if e.index != start:
                    raise ReceiptError(f"entry {start} is missing (found {e.index})")
                entries.append(e.data)
                start += 1
    finally:
        log.close()
    tree = MemoryTree.from_entries(entries)
    n = signed.checkpoint.size
    if n > len(entries):
        raise ReceiptError(f"checkpoint covers {n} entries, the log holds {len(entries)}")
    root = tree.root(n)
    if root != signed.checkpoint.root_hash:
        raise ReceiptError(f"recomputed root of {n} entries differs from the signed checkpoint")
    outcomes: Counter[str] = Counter()
    evidence: Counter[str] = Counter()
    ring = keyring or StaticKeyring([])
    for i, data in enumerate(entries[:n]):
        try:
            verify_inclusion(hash_leaf(data), i, n, tree.inclusion_proof(i, n), root)
            v = verify_envelope(data, ring, inclusion=_inclusion(signed, i, data))
        except RsrpError as e:
            raise ReceiptError(f"entry {i}: {e}") from e
        outcomes[v.envelope.decision.name] += 1
        evidence[v.evidence] += 1
    return LedgerReport(len(entries), n, root, dict(outcomes), dict(evidence), len(entries) - n)
