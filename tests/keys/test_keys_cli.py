"""``rsrp keys`` through Typer's CliRunner: exit codes and text."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from tests.fixtures.softhsm import SoftHsmToken
from tests.keys.keys_helpers import PASSPHRASE
from typer.testing import CliRunner

from rsrp import crypto
from rsrp.cli.main import app
from rsrp.keys import Keyring, open_store

runner = CliRunner()


@pytest.fixture
def uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", PASSPHRASE.decode())
    monkeypatch.setenv("RSRP_ACTOR", "cli-test")
    return f"file:{tmp_path}/ks?jurisdiction=FR"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def generate(uri: str, algorithm: str, purpose: str, key_id: str) -> tuple[int, str]:
    """``rsrp keys generate`` of one named key in ``uri``."""
    return run(
        "keys",
        "generate",
        "--store",
        uri,
        "--algorithm",
        algorithm,
        "--purpose",
        purpose,
        "--key-id",
        key_id,
    )


def test_generate_list_rotate_journal(uri: str) -> None:
    code, out = run("keys", "init", "--store", uri)
    assert code == 0 and "store ready" in out
    code, out = generate(uri, "ed25519", "decision-signing", "fr-1")
    assert (code, out.strip()) == (0, "fr-1")
    code, out = run("keys", "rotate", "--store", uri, "fr-1", "--new-key-id", "fr-2")
    assert (code, out.strip()) == (0, "fr-2")
    code, out = run("keys", "list", "--store", uri)
    assert code == 0 and "deactivated" in out and "active" in out
    code, out = run("keys", "journal", "--store", uri)
    assert code == 0 and "journal ok: 5 events" in out and "cli-test" in out


def test_destroy_needs_yes_and_a_deactivated_key(uri: str) -> None:
    generate(uri, "ed25519", "witness", "w1")
    code, out = run("keys", "destroy", "--store", uri, "w1")
    assert code == 2 and "--yes" in out
    code, out = run("keys", "destroy", "--store", uri, "w1", "--yes")
    assert code == 1 and "active -> destroyed is not allowed" in out
    assert run("keys", "retire", "--store", uri, "w1")[0] == 0
    code, out = run("keys", "destroy", "--store", uri, "w1", "--yes")
    assert code == 0 and "destroyed" in out


def test_wrong_passphrase_exit_code(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run("keys", "generate", "--store", uri, "--algorithm", "ed25519", "--purpose", "witness")
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "another long passphrase")
    code, out = run("keys", "list", "--store", uri)
    assert code == 1 and "wrong passphrase" in out


def test_passphrase_in_uri_is_refused(tmp_path: Path) -> None:
    code, out = run("keys", "init", "--store", f"file:{tmp_path}/ks?passphrase=x")
    assert code == 1 and "secrets never go in a URI" in out


def test_export_formats_and_keyring(uri: str, tmp_path: Path) -> None:
    generate(uri, "ed25519", "checkpoint-signing", "log-1")
    code, out = run("keys", "export", "--store", uri, "log-1")
    assert code == 0 and out.startswith("-----BEGIN PUBLIC KEY-----")
    code, out = run("keys", "export", "--store", uri, "--format", "jwks")
    assert code == 0 and json.loads(out)["keys"][0]["crv"] == "Ed25519"
    code, out = run(
        "keys",
        "export",
        "--store",
        uri,
        "log-1",
        "--format",
        "note-vkey",
        "--name",
        "example.org/log",
    )
    assert code == 0 and out.startswith("example.org/log+")
    code, out = run(
        "keys", "export", "--store", uri, "--format", "keyring", "--out", str(tmp_path / "ring")
    )
    assert code == 0
    assert "log-1" in Keyring.load(tmp_path / "ring")


def test_import_plain_and_wrapped(uri: str, tmp_path: Path) -> None:
    sk = ec.generate_private_key(ec.SECP384R1())
    der = sk.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "k.der").write_bytes(der)
    code, out = run(
        "keys",
        "import",
        "--store",
        uri,
        str(tmp_path / "k.der"),
        "--purpose",
        "policy-signing",
        "--key-id",
        "byok1",
    )
    assert (code, out.strip()) == (0, "byok1")
    code, out = run("keys", "wrapping-key", "--store", uri, "--out", str(tmp_path / "kek"))
    assert code == 0
    import_id = out.strip()
    assert (tmp_path / "kek").stat().st_mode & 0o777 == 0o600
    sk2 = ec.generate_private_key(ec.SECP384R1())
    der2 = sk2.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "k.wrapped").write_bytes(
        aes_key_wrap_with_padding((tmp_path / "kek").read_bytes(), der2)
    )
    code, out = run(
        "keys",
        "import",
        "--store",
        uri,
        str(tmp_path / "k.wrapped"),
        "--purpose",
        "policy-signing",
        "--wrapping-key-id",
        import_id,
    )
    assert code == 0, out
    code, out = run("keys", "import", "--store", uri, str(tmp_path / "kek"), "--purpose", "witness")
    assert code == 1 and "error:" in out


@pytest.mark.parametrize(
    "algorithm", ["ed25519", "ecdsa-p384-sha384", "ml-dsa-65", "mldsa65-ecdsa-p384-sha512"]
)
def test_verify_detached_signatures(tmp_path: Path, algorithm: str) -> None:
    sk = crypto.generate(algorithm)
    ctx = b"" if algorithm in ("ed25519", "ecdsa-p384-sha384") else b"rsrp"
    (tmp_path / "msg").write_bytes(b"the message")
    (tmp_path / "pub.pem").write_bytes(sk.public_key().spki_pem())
    (tmp_path / "sig").write_bytes(sk.sign(b"the message", ctx))
    (tmp_path / "sig.b64").write_bytes(base64.b64encode(sk.sign(b"the message", ctx)))
    args = ["keys", "verify", "--public-key", str(tmp_path / "pub.pem")]
    extra = ["--context", ctx.decode()] if ctx else []
    code, out = run(*args, "--signature", str(tmp_path / "sig"), *extra, str(tmp_path / "msg"))
    assert code == 0 and f"valid: {algorithm}" in out
    code, out = run(
        *args,
        "--signature",
        str(tmp_path / "sig.b64"),
        "--encoding",
        "base64",
        *extra,
        str(tmp_path / "msg"),
    )
    assert code == 0
    (tmp_path / "msg").write_bytes(b"the messagE")
    code, out = run(*args, "--signature", str(tmp_path / "sig"), *extra, str(tmp_path / "msg"))
    assert code == 1 and "invalid:" in out


def test_verify_composite_names_the_failing_component(tmp_path: Path) -> None:
    sk = crypto.generate("mldsa65-ecdsa-p384-sha512")
    sig = bytearray(sk.sign(b"m", b"c"))
    sig[-10] ^= 1  # inside the DER ECDSA half
    (tmp_path / "m").write_bytes(b"m")
    (tmp_path / "p").write_bytes(sk.public_key().spki_pem())
    (tmp_path / "s").write_bytes(bytes(sig))
    code, out = run(
        "keys",
        "verify",
        "--public-key",
        str(tmp_path / "p"),
        "--signature",
        str(tmp_path / "s"),
        "--context",
        "c",
        str(tmp_path / "m"),
    )
    assert code == 1 and "invalid:" in out and "ecdsa" in out.lower()


def test_verify_with_an_x509_certificate(tmp_path: Path) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    sk = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(sk.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(sk, hashes.SHA384())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "m").write_bytes(b"m")
    (tmp_path / "s").write_bytes(sk.sign(b"m", ec.ECDSA(hashes.SHA384())))
    code, out = run(
        "keys",
        "verify",
        "--public-key",
        str(tmp_path / "c.pem"),
        "--signature",
        str(tmp_path / "s"),
        str(tmp_path / "m"),
    )
    assert code == 0, out


def test_verify_malformed_public_key(tmp_path: Path) -> None:
    (tmp_path / "p").write_bytes(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    (tmp_path / "m").write_bytes(b"m")
    (tmp_path / "s").write_bytes(b"s")
    code, out = run(
        "keys",
        "verify",
        "--public-key",
        str(tmp_path / "p"),
        "--signature",
        str(tmp_path / "s"),
        str(tmp_path / "m"),
    )
    assert code == 1 and "error:" in out


@pytest.mark.softhsm
def test_cli_against_softhsm(softhsm_token: SoftHsmToken, tmp_path: Path) -> None:
    uri = softhsm_token.uri() + f"&x-journal={tmp_path}/j.jsonl&x-jurisdiction=SN"
    code, out = generate(uri, "mldsa65-ecdsa-p384-sha512", "decision-signing", "sn-1")
    assert (code, out.strip()) == (0, "sn-1"), out
    code, out = run("keys", "export", "--store", uri, "sn-1", "--out", str(tmp_path / "p.pem"))
    assert code == 0, out
    sig = open_store(uri).sign("sn-1", b"m", context=b"c")
    (tmp_path / "s").write_bytes(sig)
    (tmp_path / "m").write_bytes(b"m")
    code, out = run(
        "keys",
        "verify",
        "--public-key",
        str(tmp_path / "p.pem"),
        "--signature",
        str(tmp_path / "s"),
        "--context",
        "c",
        str(tmp_path / "m"),
    )
    assert code == 0, out


def test_jwks_of_a_store_leaves_kem_keys_out(uri: str) -> None:
    generate(uri, "x-wing", "data-encryption", "enc-1")
    generate(uri, "ml-dsa-65", "policy-signing", "pq-1")
    code, out = run("keys", "export", "--store", uri, "--format", "jwks")
    assert code == 0
    assert [k["kid"] for k in json.loads(out)["keys"]] == ["pq-1"]
    code, out = run("keys", "export", "--store", uri, "--format", "jwks", "enc-1")
    assert code == 1 and "no JWK form for x-wing" in out


def test_journal_expected_head(uri: str, tmp_path: Path) -> None:
    run("keys", "generate", "--store", uri, "--algorithm", "ed25519", "--purpose", "witness")
    code, out = run("keys", "journal", "--store", uri)
    head = out.strip().rsplit("head ", 1)[1]
    assert code == 0 and len(head) == 64
    assert run("keys", "journal", "--store", uri, "--expected-head", head)[0] == 0
    code, out = run("keys", "journal", "--store", uri, "--expected-head", "0" * 64)
    assert code == 1 and "truncated" in out


def test_state_changes(uri: str) -> None:
    generate(uri, "ed25519", "witness", "s1")
    assert run("keys", "state", "--store", uri, "s1", "--to", "suspend") == (0, "s1: suspended\n")
    assert run("keys", "state", "--store", uri, "s1", "--to", "activate") == (0, "s1: active\n")
    code, out = run("keys", "state", "--store", uri, "s1", "--to", "compromise")
    assert (code, out) == (0, "s1: compromised\n")
    code, out = run("keys", "state", "--store", uri, "s1", "--to", "activate")
    assert code == 1 and "compromised -> active is not allowed" in out
