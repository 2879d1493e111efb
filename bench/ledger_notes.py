"""Figures for checkpoints, cosignatures, witnesses and receipts (prints, never asserts).

Run: PYTHONPATH=src python bench/ledger_notes.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rsrp.ledger import (
    Checkpoint,
    Log,
    MemoryTree,
    generate_key,
    hash_leaf,
    open_note,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._checkpointer import Checkpointer
from rsrp.ledger._receipt import build_receipt, verify_receipt
from rsrp.ledger._witness import AddCheckpointRequest, Witness, format_add_checkpoint
from rsrp.ledger._witness_state import WitnessState

ORIGIN = "rsrp.example/FR"


def timeit(label: str, fn: Callable[[], object], n: int) -> None:
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    per = (time.perf_counter() - start) / n
    print(f"{label:<58} {per * 1e6:10.1f} µs/op  ({1 / per:10.0f} op/s)")


def main() -> None:
    skey, vkey = generate_key(ORIGIN)
    ml_skey, ml_vkey = generate_key(ORIGIN, "cosignature-mldsa44")
    ed = signer_from_skey(skey)
    ml = signer_from_skey(ml_skey)
    verifiers = [verifier_from_vkey(vkey), verifier_from_vkey(ml_vkey)]
    body = Checkpoint(ORIGIN, 1_000_000, hash_leaf(b"root")).body()
    note_ed = sign_note(body, [ed])
    note_both = sign_note(body, [ed, ml])
    timeit("sign checkpoint note (Ed25519, type 0x01)", lambda: sign_note(body, [ed]), 2000)
    timeit(
        "sign checkpoint note + ML-DSA-44 cosignature (0x06)",
        lambda: sign_note(body, [ed, ml]),
        300,
    )
    timeit("open note, 1 Ed25519 signature", lambda: open_note(note_ed, verifiers[:1]), 2000)
    timeit("open note, Ed25519 + ML-DSA-44", lambda: open_note(note_both, verifiers), 1000)

    with tempfile.TemporaryDirectory() as tmp:
        w_skey, _ = generate_key("witness.example/b", "cosignature-mldsa44")
        witness = Witness(
            WitnessState(Path(tmp) / "w.db"),
            [signer_from_skey(w_skey)],
            {ORIGIN: [verifier_from_vkey(vkey)]},
        )
        tree = MemoryTree()
        state = {"size": 0}

        def grow_and_cosign() -> None:
            old = state["size"]
            tree.append_leaf_hashes([hash_leaf(old.to_bytes(8, "big"))])
            note = sign_note(Checkpoint(ORIGIN, tree.size, tree.root()).body(), [ed])
            proof = tuple(tree.consistency_proof(old, tree.size)) if old else ()
            witness.add_checkpoint(format_add_checkpoint(AddCheckpointRequest(old, proof, note)))
            state["size"] = tree.size

        timeit(
            "witness add-checkpoint (verify, proof, ML-DSA-44, SQLite FULL)", grow_and_cosign, 200
        )

        with Log.open(Path(tmp) / "log.db") as log:
            log.append_many([i.to_bytes(8, "big") * 16 for i in range(100_000)])
            Checkpointer(ORIGIN, log, log, [ed, ml], verifiers).checkpoint()
            receipt = build_receipt(log, 54_321).to_bytes()
            timeit(
                "build receipt at 100,000 entries (SQLite)", lambda: build_receipt(log, 777), 500
            )
        timeit(
            "verify receipt offline (log sigs + inclusion, no envelope)",
            lambda: verify_receipt(receipt, [vkey, ml_vkey], None),
            1000,
        )


if __name__ == "__main__":
    main()
