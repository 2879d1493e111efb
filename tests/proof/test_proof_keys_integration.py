"""End to end with the real key plane: software store signer, exported keyring, CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import generate_v2_vectors as gen
import pytest
from typer.testing import CliRunner

from rsrp.canonical import canonical_hash
from rsrp.cli.main import app
from rsrp.keys import Keyring, KeyStore, Purpose, export_public, open_store
from rsrp.proof import (
    KeyNotValidAtEvaluationTimeError,
    SignatureInvalidError,
    SigningFailedError,
    sign_decision,
    sign_decision_v1,
    verify_envelope,
)

NOT_BEFORE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def store_and_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[KeyStore, str, Path]:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "proof integration passphrase")
    store = open_store(f"file:{tmp_path}/ks?jurisdiction=FR")
    info = store.generate(
        "mldsa65-ecdsa-p384-sha512", Purpose.DECISION_SIGNING, not_before=NOT_BEFORE, test=True
    )
    exported = tmp_path / "public"
    export_public(store, info.key_id, exported)
    return store, info.key_id, exported


def test_store_signer_and_exported_keyring(store_and_keys: tuple[KeyStore, str, Path]) -> None:
    store, key_id, exported = store_and_keys
    signer = store.signer(key_id)
    decision = gen.CASES[0][3]
    env = sign_decision(decision, signer, request_id="r-1", state_hash=canonical_hash({}))
    keyring = Keyring.load(exported)
    verified = verify_envelope(env.to_bytes(), keyring)
    assert verified.key_id == key_id
    # Evaluated before the key's validity window: the key could not have signed it.
    early = dataclasses.replace(decision, evaluated_at=NOT_BEFORE - dt.timedelta(seconds=1))
    early_env = sign_decision(early, signer, request_id="r-2", state_hash=canonical_hash({}))
    with pytest.raises(KeyNotValidAtEvaluationTimeError):
        verify_envelope(early_env.to_bytes(), keyring)
    tampered = bytearray(env.to_bytes())
    tampered[-200] ^= 0x01
    with pytest.raises(SignatureInvalidError) as info:
        verify_envelope(bytes(tampered), keyring)
    assert info.value.component == "ml-dsa"


def test_store_signer_refuses_other_jurisdiction(
    store_and_keys: tuple[KeyStore, str, Path],
) -> None:
    store, key_id, _ = store_and_keys
    decision = dataclasses.replace(gen.CASES[0][3], jurisdiction="DE")
    with pytest.raises(SigningFailedError):
        sign_decision(decision, store.signer(key_id), request_id="r", state_hash=canonical_hash({}))


def test_cli_verify_with_keys_export(
    store_and_keys: tuple[KeyStore, str, Path], tmp_path: Path
) -> None:
    store, key_id, exported = store_and_keys
    env = sign_decision(
        gen.CASES[1][3], store.signer(key_id), request_id="r-3", state_hash=canonical_hash({})
    )
    (tmp_path / "e.rsrp").write_bytes(env.to_bytes())
    result = CliRunner().invoke(
        app, ["proof", "verify", str(tmp_path / "e.rsrp"), "--keyring", str(exported)]
    )
    assert result.exit_code == 0, result.output
    assert f"signed by {key_id}" in result.output


def test_v1_with_store_ed25519_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A V1 Ed25519 envelope signed in the software store, found by key_id_hash in the export."""
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "proof integration passphrase")
    store = open_store(f"file:{tmp_path}/ks?jurisdiction=FR")
    info = store.generate("ed25519", Purpose.DECISION_SIGNING, test=True)
    export_public(store, info.key_id, tmp_path / "public")
    env = sign_decision_v1(
        gen.CASES[1][3], store.signer(info.key_id), state_hash=canonical_hash({})
    )
    verified = verify_envelope(env.to_bytes(), Keyring.load(tmp_path / "public"))
    assert verified.key_id == info.key_id
    assert verified.algorithm == "ed25519"
