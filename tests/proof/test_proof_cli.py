"""``rsrp proof inspect`` / ``verify`` through Typer's CliRunner."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import generate_v2_vectors as gen
import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner
from v1_helpers import ed25519_signer, load_vectors

from rsrp.cli.main import app
from rsrp.crypto.composite import CompositePublicKey

runner = CliRunner()
V1 = bytes.fromhex(
    load_vectors("rsrp-proof-envelope-v1-published.json")["published"]["vectors"][0][
        "canonical_bytes_hex"
    ]
)
V2 = json.loads(gen.OUT.read_text(encoding="utf-8"))
V2_SIGNED = bytes.fromhex(V2["vectors"][0]["envelope_hex"])
V2_BATCH = bytes.fromhex(next(v for v in V2["vectors"] if v["mode"] == "batch")["envelope_hex"])


def _composite_pem() -> bytes:
    public = CompositePublicKey.from_bytes(bytes.fromhex(V2["key"]["composite_public_key_hex"]))
    body = base64.encodebytes(public.spki_der())
    return b"-----BEGIN PUBLIC KEY-----\n" + body + b"-----END PUBLIC KEY-----\n"


def _ed25519_pem() -> bytes:
    signer = ed25519_signer(derivation="sha256")
    key = serialization.load_der_public_key(signer.public_key_der())
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    "encode",
    [lambda b: b, lambda b: b.hex().encode() + b"\n", lambda b: base64.encodebytes(b)],
    ids=["raw", "hex", "base64"],
)
def test_inspect_autodetects(tmp_path: Path, encode: object) -> None:
    for data, field in ((V1, "key_id_hash"), (V2_SIGNED, "request_id")):
        path = tmp_path / "env"
        path.write_bytes(encode(data))  # type: ignore[operator]
        result = runner.invoke(app, ["proof", "inspect", str(path)])
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert field in shown
        assert shown["envelope_len"] == len(data)


def test_inspect_v2_fields(tmp_path: Path) -> None:
    (tmp_path / "e").write_bytes(V2_SIGNED)
    shown = json.loads(runner.invoke(app, ["proof", "inspect", str(tmp_path / "e")]).output)
    assert shown["format"] == "rsrp-envelope-v2"
    assert shown["decision"] == "ALLOW"
    assert shown["matched"][0] == {"rule_id": "mission-active", "version": "1.0.0"}
    assert shown["evaluated_at"] == "2026-03-14T09:26:53.589793Z"
    assert shown["signing_mode"] == "per-decision"


def test_inspect_garbage_exits_1(tmp_path: Path) -> None:
    (tmp_path / "e").write_bytes(b"\x01\x01\x00")
    result = runner.invoke(app, ["proof", "inspect", str(tmp_path / "e")])
    assert result.exit_code == 1
    assert "truncated" in result.output


def test_verify_v1_with_public_key(tmp_path: Path) -> None:
    (tmp_path / "e").write_bytes(V1)
    (tmp_path / "k.pem").write_bytes(_ed25519_pem())
    args = ["proof", "verify", str(tmp_path / "e"), "--public-key", str(tmp_path / "k.pem")]
    result = runner.invoke(app, [*args, "--key-id", "fixture-ed25519-key"])
    assert result.exit_code == 0, result.output
    assert "valid: BLOCK" in result.output
    result = runner.invoke(app, [*args, "--key-id", "other"])
    assert result.exit_code == 1
    assert "UnknownKeyError" in result.output


def test_verify_v2_keyring_dir(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / f"{gen.KEY_ID}.pem").write_bytes(_composite_pem())
    (tmp_path / "e").write_bytes(V2_SIGNED.hex().encode())
    ok = runner.invoke(app, ["proof", "verify", str(tmp_path / "e"), "--keyring", str(keys)])
    assert ok.exit_code == 0, ok.output
    assert "mldsa65-ecdsa-p384-sha512" in ok.output
    bad = bytearray(V2_SIGNED)
    bad[-3] ^= 1
    (tmp_path / "bad").write_bytes(bytes(bad))
    result = runner.invoke(app, ["proof", "verify", str(tmp_path / "bad"), "--keyring", str(keys)])
    assert result.exit_code == 1
    assert "SignatureInvalidError" in result.output
    assert "ecdsa" in result.output


def test_verify_v2_expected_hash_and_batch(tmp_path: Path) -> None:
    (tmp_path / "k.pem").write_bytes(_composite_pem())
    (tmp_path / "e").write_bytes(V2_SIGNED)
    args = ["proof", "verify", str(tmp_path / "e"), "--public-key", str(tmp_path / "k.pem")]
    result = runner.invoke(app, [*args, "--input-hash", "ab" * 32])
    assert result.exit_code == 1
    assert "input_hash mismatch" in result.output
    result = runner.invoke(app, [*args, "--input-hash", V2["vectors"][0]["input_hash_hex"]])
    assert result.exit_code == 0, result.output
    (tmp_path / "b").write_bytes(V2_BATCH)
    args[2] = str(tmp_path / "b")
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "NeedsInclusionProofError" in result.output


def test_verify_needs_exactly_one_key_source(tmp_path: Path) -> None:
    (tmp_path / "e").write_bytes(V2_SIGNED)
    result = runner.invoke(app, ["proof", "verify", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert "exactly one" in result.output
