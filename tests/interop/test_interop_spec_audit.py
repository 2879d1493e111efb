"""Divergences found auditing rsrp.ledger against the C2SP texts and their reference code.

Each test pins the behaviour of the spec (and of torchwood / Go's x/mod / tessera where the
spec leaves room) on a point where rsrp used to differ; docs/ledger-checkpoints.md lists them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from rsrp.ledger import (
    Checkpoint,
    UnsupportedCheckpointError,
    Witness,
    WitnessServer,
    WitnessState,
    generate_key,
    open_note,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._witness import AddCheckpointRequest, format_add_checkpoint

ORIGIN = "example.com/log"
WITNESS = "witness.example/w1"
ROOT = hashlib.sha256(b"root").digest()


def _log_note(extensions: tuple[str, ...]) -> tuple[bytes, str]:
    skey, vkey = generate_key(ORIGIN)
    body = Checkpoint(ORIGIN, 5, ROOT, extensions).body()
    return sign_note(body, [signer_from_skey(skey)]), vkey


@pytest.mark.parametrize("key_type", ["cosignature-mldsa44", "cosignature-ed25519"])
def test_witness_and_extension_lines(tmp_path: Path, key_type: str) -> None:
    """An ML-DSA-44 witness cannot cover extension lines (tlog-cosignature §ML-DSA-44 signed
    message; torchwood refuses to sign them): 422 before any state change. An Ed25519
    witness signs them (§Ed25519 signed message includes them)."""
    note, log_vkey = _log_note(("extension 1",))
    skey, wvkey = generate_key(WITNESS, key_type)
    state = WitnessState(tmp_path / "w.db")
    witness = Witness(state, [signer_from_skey(skey)], {ORIGIN: [verifier_from_vkey(log_vkey)]})
    server = WitnessServer(witness).start()
    try:
        body = format_add_checkpoint(AddCheckpointRequest(0, (), note))
        r = httpx.post(server.url + "/add-checkpoint", content=body)
        if key_type == "cosignature-mldsa44":
            assert r.status_code == UnsupportedCheckpointError.status == 422, r.text
            assert "extension lines" in r.text
            assert state.get(ORIGIN) is None
            # Without the extension line the same witness cosigns.
            plain, plain_vkey = _log_note(())
            witness.logs[ORIGIN] = (verifier_from_vkey(plain_vkey),)
            body = format_add_checkpoint(AddCheckpointRequest(0, (), plain))
            r = httpx.post(server.url + "/add-checkpoint", content=body)
            note = plain
        assert r.status_code == 200, r.text
        text = note[: note.rindex(b"\n\n") + 1]
        opened = open_note(text + b"\n" + r.content, [verifier_from_vkey(wvkey)])
        assert len(opened.verified) == 1
    finally:
        server.stop()
        state.close()
