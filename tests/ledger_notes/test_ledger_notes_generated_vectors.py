"""rsrp's own vectors (tests/vectors/rsrp-ledger-notes-v1.json): regenerate and diff, verify."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.ledger_notes import generate_ledger_notes_vectors as gen

from rsrp.ledger import open_note, signer_from_skey, verifier_from_vkey
from rsrp.ledger._receipt import verify_receipt

DATA: dict[str, Any] = json.loads(gen.OUT.read_text(encoding="utf-8"))


def test_deterministic_parts_regenerate_byte_for_byte() -> None:
    fresh = gen.deterministic()
    for key, value in fresh.items():
        assert DATA[key] == value, key


def test_stored_notes_verify() -> None:
    log = verifier_from_vkey(DATA["log_vkey"])
    wit = verifier_from_vkey(DATA["witness_ed25519_vkey"])
    assert len(open_note(DATA["note_ed25519"].encode(), [log, wit]).verified) == 2
    for note, key in zip(DATA["mldsa_cosigned_notes"], DATA["mldsa_keys"].values(), strict=True):
        v = verifier_from_vkey(key["vkey"])
        assert open_note(note.encode(), [v]).text == DATA["checkpoint_body"]
        assert signer_from_skey(key["skey"]).key_id == v.key_id


def test_stored_receipt_verifies() -> None:
    r = verify_receipt(DATA["receipt"].encode(), [DATA["log_vkey"]], None)
    assert (r.index, r.checkpoint.size) == (3, 5)


def test_vector_file_is_where_the_generator_writes() -> None:
    assert Path(__file__).parents[1] / "vectors" / "rsrp-ledger-notes-v1.json" == gen.OUT
