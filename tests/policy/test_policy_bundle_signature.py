"""Signed policy bundles: ``rsrp policy sign|verify`` and rsrp.policy.{sign,verify}_bundle.

Real keys throughout: a software store per test, and one SoftHSM2 token
(tests/fixtures/softhsm.py) for the HSM path.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from rsrp.cli.main import app
from rsrp.keys import Keyring, Purpose, export_public, open_store
from rsrp.keys._store import BaseKeyStore
from rsrp.policy import (
    BundleSignature,
    BundleSignatureError,
    Engine,
    sign_bundle,
    verify_bundle,
)

runner = CliRunner()
BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "bank-registry" / "policy.rsrp"
SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def fr_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, BaseKeyStore]:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "bundle signature test passphrase")
    uri = f"file:{tmp_path}/ks?jurisdiction=FR"
    return uri, open_store(uri)


def _key(store: BaseKeyStore, algorithm: str, purpose: Purpose = Purpose.POLICY_SIGNING) -> str:
    return store.generate(algorithm, purpose, not_before=SINCE, test=True).key_id


def _keyring(store: BaseKeyStore, tmp_path: Path, *key_ids: str) -> Path:
    out = tmp_path / "public"
    for key_id in key_ids:
        export_public(store, key_id, out)
    return out


def _policy(*args: str) -> Result:
    return runner.invoke(app, ["policy", *args])


def _copy_bundle(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "policy.rsrp"
    path.write_text(text if text is not None else BUNDLE.read_text("utf-8"), "utf-8")
    return path


@pytest.mark.parametrize(
    "algorithm", ["mldsa65-ecdsa-p384-sha512", "ed25519", "ecdsa-p384-sha384", "ml-dsa-44"]
)
def test_sign_then_verify_with_each_algorithm(
    fr_store: tuple[str, BaseKeyStore], tmp_path: Path, algorithm: str
) -> None:
    _, store = fr_store
    key_id = _key(store, algorithm)
    engine = Engine.load(BUNDLE)
    sig = sign_bundle(engine, store.signer(key_id))
    ring = Keyring.load(_keyring(store, tmp_path, key_id))
    again = BundleSignature.from_bytes(sig.to_json().encode())
    assert again == sig
    verify_bundle(engine, again, ring)
    flipped = bytearray(sig.signature)
    flipped[len(flipped) // 2] ^= 0x01
    bad = BundleSignature.from_bytes(
        sig.to_json()
        .replace(base64.b64encode(sig.signature).decode(), base64.b64encode(flipped).decode())
        .encode()
    )
    with pytest.raises(BundleSignatureError, match="does not verify"):
        verify_bundle(engine, bad, ring)


def test_cli_sign_and_verify_round_trip(fr_store: tuple[str, BaseKeyStore], tmp_path: Path) -> None:
    uri, store = fr_store
    key_id = _key(store, "mldsa65-ecdsa-p384-sha512")
    ring = _keyring(store, tmp_path, key_id)
    bundle = _copy_bundle(tmp_path)
    r = _policy("sign", str(bundle), "--key", uri, "--key-id", key_id)
    assert r.exit_code == 0, r.output
    sig_file = bundle.with_name("policy.rsrp.sig")
    obj = json.loads(sig_file.read_text("utf-8"))
    assert obj["key_id"] == key_id
    assert obj["policy_hash"] == Engine.load(bundle).policy_hash.hex()
    r = _policy("verify", str(bundle), "--keyring", str(ring))
    assert r.exit_code == 0, r.output
    assert f"signed by {key_id}" in r.stdout
    # Refuses to overwrite silently.
    r = _policy("sign", str(bundle), "--key", uri, "--key-id", key_id)
    assert r.exit_code != 0
    assert "--force" in r.output


def test_comment_change_keeps_signature_but_meaning_change_breaks_it(
    fr_store: tuple[str, BaseKeyStore], tmp_path: Path
) -> None:
    uri, store = fr_store
    key_id = _key(store, "ed25519")
    ring = _keyring(store, tmp_path, key_id)
    text = BUNDLE.read_text("utf-8")
    bundle = _copy_bundle(tmp_path)
    assert _policy("sign", str(bundle), "--key", f"{uri}&key-id={key_id}").exit_code == 0
    bundle.write_text("# reviewed again, no change of meaning\n" + text, "utf-8")
    r = _policy("verify", str(bundle), "--keyring", str(ring))
    assert r.exit_code == 0, r.output
    # Raise one quota: the policy_hash changes, so the old signature no longer covers it.
    changed = text.replace(">= 50", ">= 500", 1)
    assert changed != text
    bundle.write_text(changed, "utf-8")
    r = _policy("verify", str(bundle), "--keyring", str(ring))
    assert r.exit_code != 0
    assert "changed after it was signed" in r.output


def test_sign_refuses_a_key_of_another_purpose(
    fr_store: tuple[str, BaseKeyStore], tmp_path: Path
) -> None:
    uri, store = fr_store
    key_id = _key(store, "ed25519", Purpose.DECISION_SIGNING)
    bundle = _copy_bundle(tmp_path)
    r = _policy("sign", str(bundle), "--key", uri, "--key-id", key_id)
    assert r.exit_code != 0
    assert "policy-signing" in r.output
    assert not bundle.with_name("policy.rsrp.sig").exists()


def test_verify_refuses_a_key_of_another_purpose(
    fr_store: tuple[str, BaseKeyStore], tmp_path: Path
) -> None:
    _, store = fr_store
    key_id = _key(store, "ed25519", Purpose.DECISION_SIGNING)
    engine = Engine.load(BUNDLE)
    sig = sign_bundle(engine, store.signer(key_id))  # the library does not look at purpose
    with pytest.raises(BundleSignatureError, match="not a policy-signing key"):
        verify_bundle(engine, sig, Keyring.load(_keyring(store, tmp_path, key_id)))


def test_key_of_another_jurisdiction_cannot_sign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "bundle signature test passphrase")
    store = open_store(f"file:{tmp_path}/de?jurisdiction=DE")
    key_id = _key(store, "ed25519")
    with pytest.raises(BundleSignatureError, match="FR"):
        sign_bundle(Engine.load(BUNDLE), store.signer(key_id))


def test_unknown_and_compromised_keys_do_not_verify(
    fr_store: tuple[str, BaseKeyStore], tmp_path: Path
) -> None:
    _, store = fr_store
    signing, other = _key(store, "ed25519"), _key(store, "ed25519")
    engine = Engine.load(BUNDLE)
    sig = sign_bundle(engine, store.signer(signing), at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    with pytest.raises(BundleSignatureError, match="not in the keyring"):
        verify_bundle(engine, sig, Keyring.load(_keyring(store, tmp_path / "a", other)))
    store.compromise(signing)
    with pytest.raises(BundleSignatureError, match="compromised"):
        verify_bundle(engine, sig, Keyring.load(_keyring(store, tmp_path / "b", signing)))


def test_signature_made_before_the_key_was_valid_is_refused(
    fr_store: tuple[str, BaseKeyStore], tmp_path: Path
) -> None:
    _, store = fr_store
    key_id = _key(store, "ed25519")
    engine = Engine.load(BUNDLE)
    # A back-dated claim: the key's validity starts at SINCE.
    sig = sign_bundle(engine, store.signer(key_id), at=SINCE - dt.timedelta(days=1))
    with pytest.raises(BundleSignatureError, match="validity window"):
        verify_bundle(engine, sig, Keyring.load(_keyring(store, tmp_path, key_id)))


def test_signature_of_another_bundle_is_refused(
    fr_store: tuple[str, BaseKeyStore], tmp_path: Path
) -> None:
    _, store = fr_store
    key_id = _key(store, "ed25519")
    sig = sign_bundle(Engine.load(BUNDLE), store.signer(key_id))
    other = Engine.from_text(
        "BUNDLE other VERSION 1.0.0 JURISDICTION FR DEFAULT BLOCK\n"
        "SCHEMA { x: int }\n"
        "RULE OK VERSION 1.0.0 SEVERITY LOW WHEN TRUE THEN ALLOW CODE GRANTED\n"
    )
    with pytest.raises(BundleSignatureError, match="another bundle"):
        verify_bundle(other, sig, Keyring.load(_keyring(store, tmp_path, key_id)))


def test_signing_through_a_softhsm2_token(softhsm_token: object, tmp_path: Path) -> None:
    uri = softhsm_token.uri() + f"&x-journal={tmp_path}/journal.jsonl&x-jurisdiction=FR"  # type: ignore[attr-defined]
    store = open_store(uri)
    key_id = _key(store, "ecdsa-p384-sha384")
    engine = Engine.load(BUNDLE)
    sig = sign_bundle(engine, store.signer(key_id))
    verify_bundle(engine, sig, Keyring.load(_keyring(store, tmp_path, key_id)))


def _valid_json() -> dict[str, str]:
    return {
        "format": "rsrp-bundle-signature/1",
        "bundle": "b",
        "version": "1.0.0",
        "jurisdiction": "FR",
        "policy_hash": "00" * 32,
        "key_id": "k",
        "algorithm": "ed25519",
        "signed_at": "2026-06-01T00:00:00Z",
        "signature": base64.b64encode(b"\x00" * 64).decode(),
    }


def test_valid_container_parses() -> None:
    sig = BundleSignature.from_bytes(json.dumps(_valid_json()).encode())
    assert sig.signed_at == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format", "rsrp-bundle-signature/2", "not an rsrp-bundle-signature/1"),
        ("policy_hash", "AA" * 32, "lower-case hex"),
        ("policy_hash", "00" * 31, "lower-case hex"),
        ("signed_at", "2026-06-01T00:00:00+02:00", "UTC"),
        ("signed_at", "2026-13-01T00:00:00Z", "malformed"),
        ("signature", "not base64!", "malformed"),
        ("key_id", "", "non-empty"),
        ("bundle", 5, "non-empty string"),
        ("extra", "x", "exactly the fields"),
    ],
)
def test_malformed_containers_are_refused(field: str, value: object, message: str) -> None:
    obj: dict[str, object] = dict(_valid_json())
    obj[field] = value
    with pytest.raises(BundleSignatureError, match=message):
        BundleSignature.from_bytes(json.dumps(obj).encode())


def test_oversized_and_deeply_nested_containers_are_refused() -> None:
    with pytest.raises(BundleSignatureError, match="larger than"):
        BundleSignature.from_bytes(b" " * (64 * 1024 + 1))
    with pytest.raises(BundleSignatureError):
        BundleSignature.from_bytes(b"[" * 50_000 + b"]" * 50_000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_bundle_signature_error(data: bytes) -> None:
    with contextlib.suppress(BundleSignatureError):
        BundleSignature.from_bytes(data)
