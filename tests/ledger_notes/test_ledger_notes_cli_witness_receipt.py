"""``rsrp witness cosign|incidents`` and ``rsrp receipt build|verify`` through CliRunner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from tests.fixtures.tsa import LocalTSA
from tests.ledger_notes.ledger_notes_helpers import ORIGIN, envelopes, write_keyring_dir
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.ledger import (
    Checkpoint,
    Log,
    MemoryTree,
    generate_key,
    open_note,
    sign_note,
    signer_from_skey,
)
from rsrp.ledger._checkpointer import Checkpointer
from rsrp.ledger._note_registry import verifier_from_vkey
from rsrp.ledger._timestamp import request_timestamp
from rsrp.ledger._witness import AddCheckpointRequest, format_add_checkpoint

runner = CliRunner()


def _request(skey: str, tree: MemoryTree, old: int) -> bytes:
    note = sign_note(Checkpoint(ORIGIN, tree.size, tree.root()).body(), [signer_from_skey(skey)])
    proof = tuple(tree.consistency_proof(old, tree.size)) if 0 < old < tree.size else ()
    return format_add_checkpoint(AddCheckpointRequest(old, proof, note))


def test_witness_cosign_cli_and_fork_incident(tmp_path: Path) -> None:
    log_skey, log_vkey = generate_key(ORIGIN)
    w_skey, _ = generate_key("witness.example/cli", "cosignature-ed25519")
    (tmp_path / "w.skey").write_text(w_skey)
    args = [
        "--state",
        str(tmp_path / "w.db"),
        "--skey-file",
        str(tmp_path / "w.skey"),
        "--log-vkey",
        log_vkey,
    ]
    tree = MemoryTree.from_entries([b"a", b"b"])
    (tmp_path / "req1").write_bytes(_request(log_skey, tree, 0))
    ok = runner.invoke(app, ["witness", "cosign", str(tmp_path / "req1"), *args])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("\u2014 witness.example/cli ")
    fork = MemoryTree.from_entries([b"a", b"X"])
    req = format_add_checkpoint(
        AddCheckpointRequest(
            2,
            (),
            sign_note(Checkpoint(ORIGIN, 2, fork.root()).body(), [signer_from_skey(log_skey)]),
        )
    )
    (tmp_path / "req2").write_bytes(req)
    bad = runner.invoke(app, ["witness", "cosign", str(tmp_path / "req2"), *args])
    assert bad.exit_code == 1
    assert "fork" in bad.stderr
    listed = runner.invoke(app, ["witness", "incidents", "--state", str(tmp_path / "w.db")])
    assert listed.exit_code == 0 and "ForkError" in listed.stdout


def test_receipt_build_and_verify_cli(tmp_path: Path, tsa: LocalTSA) -> None:
    skey, vkey = generate_key(ORIGIN)
    envs, _ = envelopes(4)
    db = tmp_path / "log.db"
    with Log.open(db) as log:
        log.append_many(envs)
        Checkpointer(
            ORIGIN,
            log,
            log,
            [signer_from_skey(skey)],
            [verifier_from_vkey(vkey)],
            timestamper=lambda t: request_timestamp(tsa.url, t).encode().encode(),
        ).checkpoint()
    built = runner.invoke(app, ["receipt", "build", str(db), "3"])
    assert built.exit_code == 0, built.output
    receipt = tmp_path / "r.rsrp-receipt"
    receipt.write_text(built.stdout)
    (tmp_path / "root.pem").write_bytes(
        tsa.root.public_bytes(
            __import__("cryptography").hazmat.primitives.serialization.Encoding.PEM
        )
    )
    ring = write_keyring_dir(tmp_path / "ring")
    ok = runner.invoke(
        app,
        [
            "receipt",
            "verify",
            str(receipt),
            "--vkey",
            vkey,
            "--keyring",
            str(ring),
            "--origin",
            ORIGIN,
            "--tsa-root",
            str(tmp_path / "root.pem"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "valid: entry 3 of rsrp.example/FR (tree size 4)" in ok.stdout
    assert "envelope: ALLOW by fr-decisions (signature)" in ok.stdout
    # A witness policy the receipt cannot meet, and an unknown log key: exit 1.
    _, wv = generate_key("witness.example/absent", "cosignature-mldsa44")
    no_w = runner.invoke(
        app, ["receipt", "verify", str(receipt), "--vkey", vkey, "--witness-vkey", wv]
    )
    assert no_w.exit_code == 1 and "witness policy" in no_w.stderr
    _, other = generate_key(ORIGIN)
    assert runner.invoke(app, ["receipt", "verify", str(receipt), "--vkey", other]).exit_code == 1
    missing = runner.invoke(app, ["receipt", "build", str(db), "4"])
    assert missing.exit_code == 1 and "not covered" in missing.stderr


def test_witness_serve_cli_process(tmp_path: Path) -> None:
    """`rsrp witness serve` as a real process on a free loopback port."""
    log_skey, log_vkey = generate_key(ORIGIN)
    w_skey, w_vkey = generate_key("witness.example/proc", "cosignature-mldsa44")
    (tmp_path / "w.skey").write_text(w_skey)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rsrp",
            "witness",
            "serve",
            "--state",
            str(tmp_path / "w.db"),
            "--skey-file",
            str(tmp_path / "w.skey"),
            "--log-vkey",
            log_vkey,
            "--port",
            "0",
        ],
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        assert line.startswith("witness listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        tree = MemoryTree.from_entries([b"a", b"b", b"c"])
        r = httpx.post(f"{url}/add-checkpoint", content=_request(log_skey, tree, 0), timeout=10)
        assert r.status_code == 200
        note = sign_note(Checkpoint(ORIGIN, 3, tree.root()).body(), [signer_from_skey(log_skey)])
        open_note(note + r.content, [verifier_from_vkey(w_vkey)])
        again = httpx.post(f"{url}/add-checkpoint", content=_request(log_skey, tree, 0), timeout=10)
        assert (again.status_code, again.text) == (409, "3\n")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
