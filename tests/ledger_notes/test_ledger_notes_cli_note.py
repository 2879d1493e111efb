"""``rsrp note sign|verify|keygen`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rsrp.cli.main import app

VECTORS = Path(__file__).parent.parent / "vectors"
GO = json.loads((VECTORS / "c2sp-signed-note-golang-x-mod.json").read_text(encoding="utf-8"))
runner = CliRunner()


def test_note_sign_matches_go(tmp_path: Path) -> None:
    (tmp_path / "text").write_text(GO["text"], encoding="utf-8")
    (tmp_path / "skey").write_text(GO["peter_skey"] + "\n", encoding="utf-8")
    r = runner.invoke(
        app, ["note", "sign", str(tmp_path / "text"), "--skey-file", str(tmp_path / "skey")]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout == GO["peter_signed"]


def test_note_verify_exit_codes(tmp_path: Path) -> None:
    note = tmp_path / "note"
    note.write_text(GO["peter_signed"], encoding="utf-8")
    ok = runner.invoke(
        app, ["note", "verify", str(note), "--vkey", GO["enoch_vkey"], "--vkey", GO["peter_vkey"]]
    )
    assert ok.exit_code == 0
    assert ok.stdout == GO["text"]
    unknown = runner.invoke(app, ["note", "verify", str(note), "--vkey", GO["enoch_vkey"]])
    assert unknown.exit_code == 1
    assert "no verifiable signatures" in unknown.stderr
    note.write_text(GO["invalid_signature_note"], encoding="utf-8")
    bad = runner.invoke(app, ["note", "verify", str(note), "--vkey", GO["peter_vkey"]])
    assert bad.exit_code == 1
    assert "invalid signature" in bad.stderr


def test_note_keygen_then_sign_and_verify(tmp_path: Path) -> None:
    r = runner.invoke(app, ["note", "keygen", "rsrp.example/FR"])
    assert r.exit_code == 0
    skey, vkey = r.stdout.splitlines()
    (tmp_path / "skey").write_text(skey, encoding="utf-8")
    (tmp_path / "text").write_text("hello\n", encoding="utf-8")
    signed = runner.invoke(
        app, ["note", "sign", str(tmp_path / "text"), "--skey-file", str(tmp_path / "skey")]
    )
    (tmp_path / "note").write_text(signed.stdout, encoding="utf-8")
    v = runner.invoke(app, ["note", "verify", str(tmp_path / "note"), "--vkey", vkey])
    assert (v.exit_code, v.stdout) == (0, "hello\n")


def test_note_keygen_refuses_bad_name_and_type() -> None:
    assert runner.invoke(app, ["note", "keygen", "a b"]).exit_code == 1
    assert runner.invoke(app, ["note", "keygen", "a", "--type", "rsa"]).exit_code == 1


def test_note_sign_refuses_text_without_newline(tmp_path: Path) -> None:
    (tmp_path / "text").write_text("no newline", encoding="utf-8")
    (tmp_path / "skey").write_text(GO["peter_skey"], encoding="utf-8")
    r = runner.invoke(
        app, ["note", "sign", str(tmp_path / "text"), "--skey-file", str(tmp_path / "skey")]
    )
    assert r.exit_code == 1
    assert "newline" in r.stderr
