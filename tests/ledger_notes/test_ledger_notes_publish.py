"""The log publishes checkpoints with witness cosignatures; ``audit`` checks them with our hook."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.tsa import LocalTSA
from tests.ledger_notes.ledger_notes_helpers import ORIGIN, make_witness

from rsrp.ledger import (
    Checkpoint,
    Log,
    TamperError,
    audit,
    generate_key,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._checkpoint_audit import checkpoint_note_verifier
from rsrp.ledger._checkpointer import Checkpointer
from rsrp.ledger._timestamp import request_timestamp
from rsrp.ledger._witness_http import WitnessEndpoint, WitnessServer, publish_checkpoint
from rsrp.ledger._witness_policy import Threshold


def test_publish_audit_and_tamper(tmp_path: Path, tsa: LocalTSA) -> None:
    skey, vkey = generate_key(ORIGIN)
    w1, k1, _, _ = make_witness(tmp_path, "witness.example/a", vkey)
    w2, k2, _, _ = make_witness(tmp_path, "witness.example/b", vkey, "cosignature-ed25519")
    s1, s2 = WitnessServer(w1).start(), WitnessServer(w2).start()
    eps = [WitnessEndpoint(s1.url, k1.verifiers), WitnessEndpoint(s2.url, k2.verifiers)]
    policy = Threshold(2, (k1, k2))
    check = checkpoint_note_verifier(
        ORIGIN, [verifier_from_vkey(vkey)], witness_policy=policy, tsa_roots=[tsa.root]
    )
    try:
        with Log.open(tmp_path / "log.db") as log:
            c = Checkpointer(
                ORIGIN,
                log,
                log,
                [signer_from_skey(skey)],
                [verifier_from_vkey(vkey)],
                timestamper=lambda t: request_timestamp(tsa.url, t).encode().encode(),
            )
            sizes: dict[str, int] = {}
            for batch in range(3):
                log.append_many([f"entry {batch}-{i}".encode() for i in range(5 + batch)])
                signed = c.checkpoint()
                _, failures = publish_checkpoint(
                    log, signed.checkpoint.size, eps, known_sizes=sizes
                )
                assert failures == {}
            # Re-publishing replaces each witness's line instead of piling them up.
            publish_checkpoint(log, signed.checkpoint.size, eps)
            stored = log.latest_checkpoint()
            assert stored is not None and stored.cosignatures is not None
            assert stored.cosignatures.count(b"\xe2\x80\x94 ") == 2
            report = audit(log.backend, verify_note=check)
            assert report.size == 18
            # A checkpoint row whose note is signed by another key is caught.
            other_skey, _ = generate_key(ORIGIN)
            first = log.checkpoints()[0]
            forged = sign_note(
                Checkpoint(ORIGIN, first.size, first.root).body(), [signer_from_skey(other_skey)]
            )
            log.update_checkpoint(first.size, note=forged)
            with pytest.raises(TamperError, match=f"checkpoint at size {first.size}"):
                audit(log.backend, verify_note=check)
    finally:
        s1.stop()
        s2.stop()
