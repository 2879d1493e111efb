"""Jurisdictions, node config, rotation, keyring verification at a time, production mode."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.keys.keys_helpers import PASSPHRASE, T0, Clock, file_store

from rsrp.keys import (
    JurisdictionError,
    KeyNotUsableError,
    KeyNotValidAt,
    KeyPolicy,
    KeyPolicyError,
    Keyring,
    KeyState,
    NodeKeyConfig,
    Purpose,
    SignatureInvalidError,
    UnknownKey,
    export_public,
    open_store,
)
from rsrp.keys._errors import KeyFileCorruptError


def test_signer_refuses_another_jurisdiction(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    k = store.generate("ed25519", Purpose.DECISION_SIGNING, jurisdiction="SN")
    signer = store.signer(k.key_id)
    assert signer.jurisdiction == "SN"
    signer.sign(b"m", jurisdiction="SN")
    with pytest.raises(JurisdictionError, match="belongs to SN; refusing to act for CI"):
        signer.sign(b"m", jurisdiction="CI")


def test_store_without_default_needs_a_jurisdiction(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks", jurisdiction=None)
    with pytest.raises(JurisdictionError, match="no jurisdiction"):
        store.generate("ed25519", Purpose.DECISION_SIGNING)


def test_node_config_refuses_keys_of_other_jurisdictions(tmp_path: Path) -> None:
    mixed = file_store(tmp_path / "ks")
    fr = mixed.generate("ed25519", Purpose.DECISION_SIGNING, jurisdiction="FR")
    de = mixed.generate("ed25519", Purpose.DECISION_SIGNING, jurisdiction="DE")
    node = KeyPolicy(node=NodeKeyConfig(frozenset({"FR", "eu-west"})))
    store = file_store(tmp_path / "ks", policy=node)
    store.signer(fr.key_id).sign(b"m")
    with pytest.raises(JurisdictionError, match="serves"):
        store.signer(de.key_id)
    with pytest.raises(JurisdictionError):
        store.sign(de.key_id, b"m")
    with pytest.raises(JurisdictionError):
        store.generate("ed25519", Purpose.WITNESS, jurisdiction="DE")
    with pytest.raises(KeyPolicyError):
        NodeKeyConfig(frozenset())


def test_rotate_activates_new_and_old_never_signs_again(tmp_path: Path) -> None:
    clock = Clock()
    store = file_store(tmp_path / "ks", clock=clock)
    old = store.generate(
        "mldsa65-ecdsa-p384-sha512",
        Purpose.DECISION_SIGNING,
        key_id="fr-1",
        not_after=T0 + timedelta(days=90),
    )
    past_sig = store.sign("fr-1", b"past decision", context=b"rsrp")
    clock.advance(days=10)
    new = store.rotate("fr-1", new_key_id="fr-2")
    assert new.state is KeyState.ACTIVE and new.rotated_from == "fr-1"
    assert new.not_after == clock.now + timedelta(days=90)  # same validity length
    assert store.info("fr-1").state is KeyState.DEACTIVATED
    with pytest.raises(KeyNotUsableError):
        store.sign("fr-1", b"new decision", context=b"rsrp")
    store.sign("fr-2", b"new decision", context=b"rsrp")

    # the keyring built from exports still verifies the old key's past signatures
    for k in ("fr-1", "fr-2"):
        export_public(store, k, tmp_path / "export")
    ring = Keyring.load(tmp_path / "export")
    ring.verifier("fr-1", at=T0 + timedelta(days=1)).verify(
        b"past decision", past_sig, context=b"rsrp"
    )
    with pytest.raises(SignatureInvalidError, match="ml-dsa"):
        ring.verifier("fr-1", at=T0).verify(b"forged", past_sig, context=b"rsrp")
    # ...but not a signature claimed after its deactivation
    with pytest.raises(KeyNotValidAt, match="stopped signing"):
        ring.verifier("fr-1", at=clock.now + timedelta(seconds=1))
    with pytest.raises(KeyNotValidAt, match="validity window"):
        ring.verifier("fr-2", at=T0)
    with pytest.raises(UnknownKey):
        ring.verifier("fr-3")
    assert old.key_id in ring and (tmp_path / "export" / "fr-1.pem").exists()


def test_rotate_refuses_a_dead_key(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    store.retire("k1")
    with pytest.raises(Exception, match="only a live key rotates"):
        store.rotate("k1")


def test_keyring_refuses_compromised_keys(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    store.compromise("k1")
    export_public(store, "k1", tmp_path / "export")
    with pytest.raises(KeyNotValidAt, match="compromised"):
        Keyring.load(tmp_path / "export").verifier("k1", at=T0)


def test_keyring_rejects_inconsistent_exports(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    store.generate("ecdsa-p384-sha384", Purpose.DECISION_SIGNING, key_id="k2")
    export_public(store, "k1", tmp_path / "e")
    export_public(store, "k2", tmp_path / "e")
    doc = json.loads((tmp_path / "e" / "k1.json").read_text())
    doc["public_key_pem"] = json.loads((tmp_path / "e" / "k2.json").read_text())["public_key_pem"]
    (tmp_path / "e" / "k1.json").write_text(json.dumps(doc))
    with pytest.raises(KeyFileCorruptError, match="metadata says ed25519"):
        Keyring.load(tmp_path / "e")
    (tmp_path / "e" / "k1.json").write_text("{}")
    with pytest.raises(KeyFileCorruptError, match="wrong field set"):
        Keyring.load(tmp_path / "e")


def test_production_refuses_software_store_and_test_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", PASSPHRASE.decode())
    prod = KeyPolicy(production=True)
    with pytest.raises(KeyPolicyError, match="refuses the software"):
        open_store(f"file:{tmp_path}/ks", policy=prod)
    allowed = KeyPolicy(production=True, allow_software_store=True)
    store = open_store(f"file:{tmp_path}/ks?jurisdiction=FR", policy=allowed)
    with pytest.raises(KeyPolicyError, match="marked test"):
        store.generate("ed25519", Purpose.DECISION_SIGNING, test=True)
    dev = file_store(tmp_path / "ks")
    t = dev.generate("ed25519", Purpose.DECISION_SIGNING, test=True)
    with pytest.raises(KeyPolicyError, match="marked test"):
        store.signer(t.key_id)
    with pytest.raises(KeyPolicyError, match="marked test"):
        store.sign(t.key_id, b"m")


def test_production_start_runs_or_requires_crypto_selftests() -> None:
    from rsrp import crypto

    if hasattr(crypto, "require_selftests"):
        KeyPolicy(production=True).start()  # passes on a healthy build
    else:
        with pytest.raises(KeyPolicyError, match="require_selftests"):
            KeyPolicy(production=True).start()
    KeyPolicy().start()  # development mode runs nothing


def test_production_start_refuses_on_a_failing_selftest(monkeypatch: pytest.MonkeyPatch) -> None:
    from rsrp import crypto

    def failing() -> None:
        raise crypto.SelfTestFailure("KAT ml-dsa-65: mismatch")

    monkeypatch.setattr(crypto, "require_selftests", failing, raising=False)
    with pytest.raises(KeyPolicyError, match=r"self-tests failed.*ml-dsa-65"):
        KeyPolicy(production=True).start()


def test_open_store_in_production_runs_the_selftests_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rsrp import crypto

    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", PASSPHRASE.decode())
    prod = KeyPolicy(production=True, allow_software_store=True)
    open_store(f"file:{tmp_path}/ks", policy=prod)  # the real KATs pass

    def failing() -> None:
        raise crypto.SelfTestFailure("KAT ecdsa-p384: mismatch")

    monkeypatch.setattr(crypto, "require_selftests", failing)
    with pytest.raises(KeyPolicyError, match="self-tests failed"):
        open_store(f"file:{tmp_path}/ks", policy=prod)


def test_destroyed_key_still_verifies_what_it_signed_while_active(tmp_path: Path) -> None:
    clock = Clock()
    store = file_store(tmp_path / "ks", clock=clock)
    store.generate("ed25519", Purpose.CHECKPOINT_SIGNING, key_id="k1")
    sig = store.sign("k1", b"checkpoint")
    signed_at = clock.now
    clock.advance(days=1)
    store.retire("k1")
    clock.advance(days=30)
    store.destroy("k1")
    export_public(store, "k1", tmp_path / "e")
    entry = Keyring.load(tmp_path / "e").entry("k1")
    assert entry.info.state is KeyState.DESTROYED
    assert entry.active_until == T0 + timedelta(days=1)  # the deactivation, not the destruction
    Keyring.load(tmp_path / "e").verifier("k1", at=signed_at).verify(b"checkpoint", sig)
    with pytest.raises(KeyNotValidAt):
        Keyring.load(tmp_path / "e").verifier("k1", at=T0 + timedelta(days=2))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_hostile_keyring_files_only_raise_keystore_errors(data: bytes) -> None:
    import tempfile

    from rsrp.errors import KeyStoreError

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "k1.json").write_bytes(data)
        with contextlib.suppress(KeyStoreError):
            Keyring.load(d)
