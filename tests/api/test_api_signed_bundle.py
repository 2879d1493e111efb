"""The service serves a bundle only if its detached signature verifies (policy.keyring)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rsrp.api._settings import PolicySettings
from rsrp.api._wiring import load_policy
from rsrp.errors import ConfigError
from rsrp.keys import Purpose, export_public, open_store
from rsrp.policy import BundleSignatureError, Engine, sign_bundle

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bank-registry" / "policy.rsrp"


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PolicySettings:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "signed bundle service test")
    store = open_store(f"file:{tmp_path}/ks?jurisdiction=FR")
    key = store.generate("ed25519", Purpose.POLICY_SIGNING, test=True)
    bundle = tmp_path / "policy.rsrp"
    shutil.copyfile(EXAMPLE, bundle)
    sig = sign_bundle(Engine.load(bundle), store.signer(key.key_id))
    bundle.with_name("policy.rsrp.sig").write_text(sig.to_json(), "utf-8")
    export_public(store, key.key_id, tmp_path / "ring")
    return PolicySettings(bundle=bundle, keyring=tmp_path / "ring")


def test_signed_bundle_loads(signed: PolicySettings) -> None:
    assert load_policy(signed).bundle.id == "bank-registry"


def test_altered_bundle_is_refused(signed: PolicySettings) -> None:
    text = signed.bundle.read_text("utf-8")
    signed.bundle.write_text(text.replace(">= 50", ">= 5000", 1), "utf-8")
    with pytest.raises(BundleSignatureError, match="changed after it was signed"):
        load_policy(signed)


def test_missing_signature_is_refused(signed: PolicySettings) -> None:
    signed.signature_path().unlink()
    with pytest.raises(ConfigError, match="rsrp policy sign"):
        load_policy(signed)


def test_signature_without_keyring_is_a_config_error(signed: PolicySettings) -> None:
    unverifiable = PolicySettings(bundle=signed.bundle, signature=signed.signature_path())
    with pytest.raises(ConfigError, match=r"policy\.keyring"):
        load_policy(unverifiable)


def test_unsigned_bundle_loads_when_no_keyring_is_configured() -> None:
    # Development only: production mode refuses a config without policy.keyring.
    assert load_policy(PolicySettings(bundle=EXAMPLE)).bundle.id == "bank-registry"
