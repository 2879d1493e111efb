"""``rsrp ledger export`` and ``rsrp ledger verify`` through Typer's CliRunner."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from tests.ledger.ledger_signed import ORIGIN, SignedLog, fill_and_sign
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.ledger import Checkpointer, Log, generate_key, signer_from_skey, verifier_from_vkey
from rsrp.ledger._timestamp import request_timestamp

runner = CliRunner()


@pytest.fixture
def signed_db(tmp_path: Path) -> tuple[Path, SignedLog]:
    db = tmp_path / "ledger.db"
    with Log.open(db) as log:
        signed = fill_and_sign(log, [100, 300])
    return db, signed


def test_verify_database_ok(signed_db: tuple[Path, SignedLog]) -> None:
    db, signed = signed_db
    got = runner.invoke(
        app, ["ledger", "verify", str(db), "--vkey", signed.vkey, "--origin", ORIGIN]
    )
    assert got.exit_code == 0, got.output
    assert f"ok: 300 entries, root {signed.roots[300].hex()}" in got.output
    assert "2 signed checkpoint(s)" in got.output


def test_export_then_verify_directory(signed_db: tuple[Path, SignedLog], tmp_path: Path) -> None:
    db, signed = signed_db
    out = tmp_path / "public"
    got = runner.invoke(app, ["ledger", "export", str(out), "--db", str(db)])
    assert got.exit_code == 0, got.output
    assert "exported 300 entries" in got.output
    assert (out / "checkpoint").read_bytes().startswith(f"{ORIGIN}\n300\n".encode())
    got = runner.invoke(app, ["ledger", "verify", str(out), "--vkey", signed.vkey])
    assert got.exit_code == 0, got.output
    assert "ok: 300 entries" in got.output


def test_verify_reports_first_bad_index(signed_db: tuple[Path, SignedLog]) -> None:
    db, signed = signed_db
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entries SET data = x'00' WHERE idx IN (57, 200)")
    got = runner.invoke(app, ["ledger", "verify", str(db), "--vkey", signed.vkey])
    assert got.exit_code == 1
    assert "entry 57: stored leaf hash" in got.output


def test_verify_with_wrong_key_fails(signed_db: tuple[Path, SignedLog]) -> None:
    db, _ = signed_db
    with Log.open(db.with_name("other.db")) as log:
        other = fill_and_sign(log, [1]).vkey
    got = runner.invoke(app, ["ledger", "verify", str(db), "--vkey", other])
    assert got.exit_code == 1
    assert "checkpoint at size 100: note has no verifiable signatures" in got.output


def test_verify_trusted_anchor_catches_truncation(signed_db: tuple[Path, SignedLog]) -> None:
    db, signed = signed_db
    anchor = f"400:{'ab' * 32}"
    got = runner.invoke(
        app, ["ledger", "verify", str(db), "--vkey", signed.vkey, "--trusted", anchor]
    )
    assert got.exit_code == 1
    assert "log truncated or rolled back: a trusted checkpoint covers 400 entries" in got.output


@pytest.mark.parametrize("bad", ["12", "1_0:" + "ab" * 32, "10:" + "AB" * 32, "10:abc"])
def test_verify_rejects_malformed_anchor(signed_db: tuple[Path, SignedLog], bad: str) -> None:
    db, signed = signed_db
    got = runner.invoke(app, ["ledger", "verify", str(db), "--vkey", signed.vkey, "--trusted", bad])
    assert got.exit_code == 2
    assert "--trusted must be SIZE:ROOTHEX" in got.output


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    got = runner.invoke(app, ["ledger", "verify", str(tmp_path / "nope.db"), "--vkey", "x"])
    assert got.exit_code != 0
    got = runner.invoke(
        app, ["ledger", "export", str(tmp_path / "o"), "--db", str(tmp_path / "nope.db")]
    )
    assert got.exit_code == 2 and "no ledger database" in got.output


def test_export_without_checkpoint_refuses(tmp_path: Path) -> None:
    with Log.open(tmp_path / "l.db") as log:
        log.append(b"x")
    got = runner.invoke(
        app, ["ledger", "export", str(tmp_path / "o"), "--db", str(tmp_path / "l.db")]
    )
    assert got.exit_code == 1 and "no checkpoint to publish" in got.output


def test_verify_checks_rfc3161_tokens(tmp_path: Path, tsa: Any) -> None:
    db = tmp_path / "stamped.db"
    skey, vkey = generate_key(ORIGIN)
    with Log.open(db) as log:
        cpr = Checkpointer(
            ORIGIN,
            log,
            log,
            [signer_from_skey(skey)],
            [verifier_from_vkey(vkey)],
            timestamper=lambda text: request_timestamp(tsa.url, text).encode().encode(),
        )
        for size in (3, 8):
            log.append_many([b"x%d" % i for i in range(log.size, size)])
            cpr.checkpoint()
        assert all(c.timestamp_token for c in log.checkpoints())
    root = tmp_path / "tsa-root.pem"
    root.write_bytes(tsa.root.public_bytes(serialization.Encoding.PEM))
    args = ["ledger", "verify", str(db), "--vkey", vkey, "--tsa-root", str(root)]
    got = runner.invoke(app, args)
    assert got.exit_code == 0, got.output
    assert "2 RFC 3161 token(s) verified" in got.output
    # Move checkpoint 8's token onto checkpoint 3: it stamps another text.
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE checkpoints SET timestamp_token = "
            "(SELECT timestamp_token FROM checkpoints WHERE size = 8) WHERE size = 3"
        )
    got = runner.invoke(app, args)
    assert got.exit_code == 1
    assert "checkpoint at size 3:" in got.output


def test_verify_applies_the_witness_policy(signed_db: tuple[Path, SignedLog]) -> None:
    db, signed = signed_db
    _, witness_vkey = generate_key("witness.example/w1")
    got = runner.invoke(
        app, ["ledger", "verify", str(db), "--vkey", signed.vkey, "--witness", witness_vkey]
    )
    assert got.exit_code == 1
    assert "checkpoint at size 100:" in got.output and "witness" in got.output.lower()


def test_verify_postgres_url(postgres_url: str) -> None:
    with Log.open(postgres_url) as log:
        signed = fill_and_sign(log, [50, 120])
    got = runner.invoke(app, ["ledger", "verify", postgres_url, "--vkey", signed.vkey])
    assert got.exit_code == 0, got.output
    assert f"ok: 120 entries, root {signed.roots[120].hex()}" in got.output
    with psycopg.connect(postgres_url) as conn:
        conn.execute("DELETE FROM entries WHERE idx = 77")
    got = runner.invoke(app, ["ledger", "verify", postgres_url, "--vkey", signed.vkey])
    assert got.exit_code == 1 and "entry 77 is missing" in got.output
