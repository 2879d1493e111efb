"""Test helper: a log with entries and checkpoints signed through the real notes layer."""

from __future__ import annotations

from dataclasses import dataclass

from rsrp.ledger import (
    Checkpointer,
    Log,
    generate_key,
    signer_from_skey,
    verifier_from_vkey,
)

ORIGIN = "rsrp.example/FR/test"


@dataclass(frozen=True)
class SignedLog:
    vkey: str
    roots: dict[int, bytes]


def fill_and_sign(log: Log, sizes: list[int], seed: int = 0) -> SignedLog:
    """Append entries up to each size in ``sizes`` and sign a checkpoint at each."""
    skey, vkey = generate_key(ORIGIN)
    cpr = Checkpointer(ORIGIN, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)])
    roots = {}
    for size in sizes:
        log.append_many([f"e{seed}-{i}".encode() for i in range(log.size, size)])
        signed = cpr.checkpoint()
        roots[size] = signed.checkpoint.root_hash
    return SignedLog(vkey, roots)
