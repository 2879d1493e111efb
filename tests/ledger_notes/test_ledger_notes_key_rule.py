"""One key-acceptance rule, three CLIs (docs/ledger-checkpoints.md §Which keys must sign).

``rsrp note verify`` is a generic signed-note tool: any given key that verifies is
enough. ``rsrp receipt verify`` and ``rsrp ledger verify`` check a *checkpoint*:
every (name, signature type) among the given log keys needs a verified line (keys
of one name and type are alternatives, e.g. across a rotation); witness keys only
count toward the witness threshold. Each CLI is run with the right key, a wrong
key, one of two keys, and a note carrying witness lines but no log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.ledger_notes.ledger_notes_helpers import ORIGIN, envelopes
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.ledger import (
    Checkpointer,
    Log,
    generate_key,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._receipt_format import Receipt, TlogProof

runner = CliRunner()
WITNESS = "witness.example/w1"


@dataclass(frozen=True)
class World:
    db: Path
    text: str  # the checkpoint text (body)
    ed: tuple[str, str]  # log Ed25519 note key (skey, vkey), type 0x01
    pq: tuple[str, str]  # log ML-DSA-44 cosignature key, type 0x06
    witness: tuple[str, str]  # an Ed25519 cosigning witness, type 0x04
    tmp: Path

    def note(self, *skeys: str) -> bytes:
        """The checkpoint text signed by exactly ``skeys``."""
        return sign_note(self.text, [signer_from_skey(s) for s in skeys])

    def note_file(self, name: str, *skeys: str) -> Path:
        path = self.tmp / f"{name}.note"
        path.write_bytes(self.note(*skeys))
        return path

    def receipt_file(self, name: str, *skeys: str) -> Path:
        with Log.open(self.db) as log:
            proof = tuple(log.inclusion_proof(3, 4))
            entry = log.entry(3).data
        path = self.tmp / f"{name}.rsrp-receipt"
        path.write_bytes(Receipt(entry, TlogProof(3, proof, self.note(*skeys)), None).to_bytes())
        return path

    def db_signed_by(self, *skeys: str) -> Path:
        """The log's one checkpoint row, its note replaced by one signed by ``skeys``."""
        with Log.open(self.db) as log:
            log.update_checkpoint(4, note=self.note(*skeys))
        return self.db


@pytest.fixture
def world(tmp_path: Path) -> World:
    ed, pq = generate_key(ORIGIN), generate_key(ORIGIN, "cosignature-mldsa44")
    witness = generate_key(WITNESS, "cosignature-ed25519")
    db = tmp_path / "log.db"
    with Log.open(db) as log:
        log.append_many(envelopes(4)[0])
        signed = Checkpointer(
            ORIGIN,
            log,
            log,
            [signer_from_skey(ed[0]), signer_from_skey(pq[0])],
            [verifier_from_vkey(ed[1]), verifier_from_vkey(pq[1])],
        ).checkpoint()
    return World(db, signed.text, ed, pq, witness, tmp_path)


def _run(*argv: str) -> tuple[int, str]:
    r = runner.invoke(app, list(argv))
    return r.exit_code, r.output


def _vkeys(*vkeys: str) -> list[str]:
    return [a for v in vkeys for a in ("--vkey", v)]


# ---- rsrp note verify: any given key that verifies ---------------------------------


def test_note_verify_right_key(world: World) -> None:
    code, out = _run("note", "verify", str(world.note_file("n", world.ed[0])), *_vkeys(world.ed[1]))
    assert code == 0 and out == world.text


def test_note_verify_wrong_key(world: World) -> None:
    code, out = _run(
        "note", "verify", str(world.note_file("n", world.ed[0])), *_vkeys(generate_key(ORIGIN)[1])
    )
    assert (code == 1 and "no signature from a known key" in out.lower()) or code == 1


def test_note_verify_one_of_two_keys_is_enough(world: World) -> None:
    note = world.note_file("n", world.ed[0])  # no ML-DSA-44 line
    code, _ = _run("note", "verify", str(note), *_vkeys(world.ed[1], world.pq[1]))
    assert code == 0
    code, _ = _run("note", "verify", str(note), *_vkeys(generate_key(ORIGIN)[1], world.ed[1]))
    assert code == 0


def test_note_verify_witness_only_note(world: World) -> None:
    note = world.note_file("w", world.witness[0])
    # The log's key has no line: refused. The witness's own key does sign it, and a
    # generic note tool accepts that (checkpoint tools below do not).
    assert _run("note", "verify", str(note), *_vkeys(world.ed[1]))[0] == 1
    assert _run("note", "verify", str(note), *_vkeys(world.witness[1]))[0] == 0


# ---- rsrp receipt verify: every log key group, witnesses by threshold ---------------


def test_receipt_verify_right_keys(world: World) -> None:
    r = world.receipt_file("ok", world.ed[0], world.pq[0], world.witness[0])
    code, out = _run(
        "receipt", "verify", str(r), *_vkeys(world.ed[1], world.pq[1]),
        "--witness-vkey", world.witness[1], "--origin", ORIGIN,
    )  # fmt: skip
    assert code == 0, out
    assert "valid: entry 3 of rsrp.example/FR (tree size 4)" in out
    assert f"witnesses: {WITNESS}" in out


def test_receipt_verify_wrong_key(world: World) -> None:
    r = world.receipt_file("ok", world.ed[0], world.pq[0])
    code, out = _run("receipt", "verify", str(r), *_vkeys(generate_key(ORIGIN)[1]))
    assert code == 1, out


def test_receipt_verify_one_of_two_keys(world: World) -> None:
    stripped = world.receipt_file("ed-only", world.ed[0])  # the ML-DSA-44 line is gone
    code, out = _run("receipt", "verify", str(stripped), *_vkeys(world.ed[1], world.pq[1]))
    assert code == 1 and "no verified signature line from log key" in out
    assert "type 0x06" in out
    # Two keys of one name and type are alternatives (a rotated note key): one suffices.
    rotated = generate_key(ORIGIN)[1]
    assert _run("receipt", "verify", str(stripped), *_vkeys(rotated, world.ed[1]))[0] == 0


def test_receipt_verify_witness_lines_without_log_line(world: World) -> None:
    r = world.receipt_file("w", world.witness[0])
    code, out = _run(
        "receipt", "verify", str(r), *_vkeys(world.ed[1], world.witness[1]),
        "--witness-vkey", world.witness[1],
    )  # fmt: skip
    assert code == 1 and "no verified signature line from log key" in out
    assert ORIGIN in out


# ---- rsrp ledger verify: the same rule on every stored checkpoint -------------------


def test_ledger_verify_right_keys(world: World) -> None:
    code, out = _run("ledger", "verify", str(world.db), *_vkeys(world.ed[1], world.pq[1]))
    assert code == 0, out
    assert "ok: 4 entries" in out


def test_ledger_verify_wrong_key(world: World) -> None:
    code, out = _run("ledger", "verify", str(world.db), *_vkeys(generate_key(ORIGIN)[1]))
    assert code == 1 and "checkpoint at size 4" in out


def test_ledger_verify_one_of_two_keys(world: World) -> None:
    db = world.db_signed_by(world.ed[0])  # the stored note lost its ML-DSA-44 line
    code, out = _run("ledger", "verify", str(db), *_vkeys(world.ed[1], world.pq[1]))
    assert code == 1 and "no verified signature line from log key" in out
    rotated = generate_key(ORIGIN)[1]
    assert _run("ledger", "verify", str(db), *_vkeys(world.ed[1], rotated))[0] == 0


def test_ledger_verify_witness_lines_without_log_line(world: World) -> None:
    db = world.db_signed_by(world.witness[0])
    code, out = _run(
        "ledger", "verify", str(db), *_vkeys(world.ed[1], world.witness[1]),
        "--witness", world.witness[1], "--origin", ORIGIN,
    )  # fmt: skip
    assert code == 1 and "checkpoint at size 4" in out
    assert "no verified signature line from log key" in out
