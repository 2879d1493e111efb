"""The PKCS#11 store against a real SoftHSM2 token (tests/fixtures/softhsm.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pkcs11
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from pkcs11 import Attribute, ObjectClass
from tests.fixtures.softhsm import SoftHsmToken

from rsrp import crypto
from rsrp.keys import (
    JurisdictionError,
    KeyNotUsableError,
    KeyState,
    MalformedKeyMaterialError,
    NotAvailableError,
    Pkcs11KeyStore,
    Purpose,
    WrongPinError,
    open_signer,
    open_store,
)

pytestmark = pytest.mark.softhsm


@pytest.fixture
def store(softhsm_token: SoftHsmToken, tmp_path: Path) -> Pkcs11KeyStore:
    uri = softhsm_token.uri() + f"&x-journal={tmp_path}/journal.jsonl&x-jurisdiction=FR"
    s = open_store(uri)
    assert isinstance(s, Pkcs11KeyStore)
    return s


_LIST_OBJECTS = """
import json, sys, pkcs11
from pkcs11 import Attribute, ObjectClass
module, label, pin, wanted = sys.argv[1:5]
tok = pkcs11.lib(module).get_token(token_label=label)
out = []
with tok.open(user_pin=pin) as session:
    for obj in session.get_objects({Attribute.LABEL: wanted}):
        cls = obj[Attribute.CLASS]
        if cls in (ObjectClass.PRIVATE_KEY, ObjectClass.SECRET_KEY):
            flags = [obj[Attribute.SENSITIVE], obj[Attribute.EXTRACTABLE], obj[Attribute.LOCAL]]
        else:
            flags = [False, False, False]
        out.append([cls.name, *flags])
print(json.dumps(sorted(out)))
"""


def fresh_objects(token: SoftHsmToken, label: str) -> list[tuple[str, bool, bool, bool]]:
    """Objects labelled ``label`` as another process sees the token (a fresh PKCS#11
    application and session): (class, sensitive, extractable, local)."""
    done = subprocess.run(
        [sys.executable, "-c", _LIST_OBJECTS, token.module, token.label, token.user_pin, label],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "SOFTHSM2_CONF": str(token.conf)},
        timeout=60,
    )
    return [tuple(o) for o in json.loads(done.stdout)]


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p384-sha384"])
def test_in_token_keys_sign_and_are_non_extractable(
    store: Pkcs11KeyStore, softhsm_token: SoftHsmToken, algorithm: str
) -> None:
    k = store.generate(algorithm, Purpose.CHECKPOINT_SIGNING, key_id=f"k-{algorithm}")
    sig = store.signer(k.key_id).sign(b"checkpoint", jurisdiction="FR")
    pub = crypto.load_public_key(store.public_key(k.key_id))
    assert pub.algorithm == algorithm
    pub.verify(b"checkpoint", sig)
    with pytest.raises(crypto.InvalidSignature):
        pub.verify(b"checkpoinT", sig)
    objs = fresh_objects(softhsm_token, k.key_id)
    assert ("PRIVATE_KEY", True, False, True) in objs  # sensitive, not extractable, generated
    assert {o[0] for o in objs} == {"PRIVATE_KEY", "PUBLIC_KEY", "DATA"}


def test_composite_with_wrapped_ml_dsa(store: Pkcs11KeyStore, softhsm_token: SoftHsmToken) -> None:
    k = store.generate("mldsa65-ecdsa-p384-sha512", Purpose.DECISION_SIGNING, key_id="comp")
    sig = store.sign("comp", b"decision", context=b"rsrp-v2")
    pub = crypto.load_public_key(store.public_key("comp"))
    assert pub.algorithm == k.algorithm
    pub.verify(b"decision", sig, b"rsrp-v2")
    with pytest.raises(crypto.InvalidSignature):
        pub.verify(b"decision", sig, b"other-ctx")
    # the KEK is an in-token AES key, sensitive and non-extractable
    assert fresh_objects(softhsm_token, "comp#kek") == [("SECRET_KEY", True, False, True)]
    # the ML-DSA seed is on the token only in wrapped form (RFC 5649 output: 40 bytes)
    rec = json.loads(_data_value(softhsm_token, "comp"))
    wrapped = base64.b64decode(rec["wrapped_mldsa_seed"])
    assert len(wrapped) == 40


def _data_value(token: SoftHsmToken, label: str) -> bytes:
    tok = pkcs11.lib(token.module).get_token(token_label=token.label)
    with tok.open() as session:  # the store's login is per application: this sees private objects
        (obj,) = list(
            session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: label})
        )
        value: bytes = obj[Attribute.VALUE]
        return value


def test_tampered_wrapped_seed_is_refused(
    store: Pkcs11KeyStore, softhsm_token: SoftHsmToken
) -> None:
    import base64

    store.generate("mldsa65-ecdsa-p384-sha512", Purpose.DECISION_SIGNING, key_id="comp")
    rec = json.loads(_data_value(softhsm_token, "comp"))
    bad = bytearray(base64.b64decode(rec["wrapped_mldsa_seed"]))
    bad[5] ^= 1
    rec["wrapped_mldsa_seed"] = base64.b64encode(bytes(bad)).decode()
    rec["gen"] += 1
    store._token.put_data("comp", json.dumps(rec).encode())  # an attacker with token write access
    with pytest.raises(Exception, match="does not unwrap"):
        store.sign("comp", b"m")


def test_destroyed_key_is_gone_from_the_token(
    store: Pkcs11KeyStore, softhsm_token: SoftHsmToken
) -> None:
    store.generate("mldsa65-ecdsa-p384-sha512", Purpose.DECISION_SIGNING, key_id="gone")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="gone2")
    for kid in ("gone", "gone2"):
        store.retire(kid)
        with pytest.raises(KeyNotUsableError):
            store.sign(kid, b"m")
        assert store.destroy(kid).state is KeyState.DESTROYED
        classes = {o[0] for o in fresh_objects(softhsm_token, kid)}
        assert "PRIVATE_KEY" not in classes  # checked through a fresh session
        assert classes == {"PUBLIC_KEY", "DATA"}  # public part and record remain
    assert fresh_objects(softhsm_token, "gone#kek") == []
    assert json.loads(_data_value(softhsm_token, "gone"))["wrapped_mldsa_seed"] is None
    crypto.load_public_key(store.public_key("gone"))  # still exportable for verification


def test_state_survives_a_new_session(
    store: Pkcs11KeyStore, softhsm_token: SoftHsmToken, tmp_path: Path
) -> None:
    k = store.generate("ed25519", Purpose.WITNESS)
    store.suspend(k.key_id)
    store.close()
    again = Pkcs11KeyStore(
        softhsm_token.module, softhsm_token.label, journal_path=tmp_path / "journal.jsonl"
    )
    assert again.info(k.key_id).state is KeyState.SUSPENDED
    assert [e.event for e in again.journal()] == ["generate", "activate", "suspend"]
    # exactly one metadata generation is left on the token
    assert len(again._token.objects(ObjectClass.DATA, k.key_id)) == 1


def test_jurisdiction_refusal(store: Pkcs11KeyStore) -> None:
    k = store.generate("ecdsa-p384-sha384", Purpose.DECISION_SIGNING, jurisdiction="SN")
    with pytest.raises(JurisdictionError):
        store.signer(k.key_id).sign(b"m", jurisdiction="FR")


def test_rotation(store: Pkcs11KeyStore) -> None:
    old = store.generate("ecdsa-p384-sha384", Purpose.DECISION_SIGNING, key_id="r1")
    new = store.rotate(old.key_id, new_key_id="r2")
    assert new.rotated_from == "r1" and store.info("r1").state is KeyState.DEACTIVATED
    with pytest.raises(KeyNotUsableError):
        store.sign("r1", b"m")
    store.sign("r2", b"m")


def test_kem_keys_are_not_available(store: Pkcs11KeyStore) -> None:
    with pytest.raises(NotAvailableError, match="no software fallback"):
        store.generate("x-wing", Purpose.DATA_ENCRYPTION)
    assert store.list() == []


@pytest.mark.parametrize("algorithm", ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"])
def test_ml_dsa_with_wrapped_seed(
    store: Pkcs11KeyStore, softhsm_token: SoftHsmToken, algorithm: str
) -> None:
    k = store.generate(algorithm, Purpose.CHECKPOINT_SIGNING, key_id="pq")
    pub = crypto.load_public_key(store.public_key("pq"))
    assert pub.algorithm == algorithm
    pub.verify(b"checkpoint", store.sign("pq", b"checkpoint", context=b"c"), b"c")
    pub.verify(b"checkpoint", store.sign("pq", b"checkpoint"))
    assert fresh_objects(softhsm_token, "pq#kek") == [("SECRET_KEY", True, False, True)]
    store.retire(k.key_id)
    store.destroy(k.key_id)
    assert fresh_objects(softhsm_token, "pq#kek") == []
    assert json.loads(_data_value(softhsm_token, "pq"))["wrapped_mldsa_seed"] is None


def test_byok_ml_dsa_into_token(store: Pkcs11KeyStore) -> None:
    sk = crypto.generate("ml-dsa-44")
    k = store.import_key(sk.pkcs8_pem(), Purpose.WITNESS, key_id="byok-pq")
    assert store.public_key(k.key_id) == sk.public_key().spki_der()
    sk.public_key().verify(b"m", store.sign(k.key_id, b"m"))


def test_context_on_ecdsa_is_refused(store: Pkcs11KeyStore) -> None:
    k = store.generate("ecdsa-p384-sha384", Purpose.DECISION_SIGNING)
    with pytest.raises(NotAvailableError, match="context"):
        store.sign(k.key_id, b"m", context=b"x")


def test_wrong_pin(softhsm_token: SoftHsmToken, tmp_path: Path) -> None:
    with pytest.raises(WrongPinError, match="refused the PIN"):
        Pkcs11KeyStore(
            softhsm_token.module,
            softhsm_token.label,
            pin=lambda: "0000",
            journal_path=tmp_path / "j",
        )


def test_pin_from_env_only(
    softhsm_token: SoftHsmToken, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RSRP_PKCS11_PIN")
    with pytest.raises(WrongPinError, match="RSRP_PKCS11_PIN"):
        open_store(softhsm_token.uri() + f"&x-journal={tmp_path}/j")
    with pytest.raises(Exception, match="PIN must never be in a URI"):
        open_store(softhsm_token.uri() + f"&pin-value={softhsm_token.user_pin}")


def test_unknown_token_label(softhsm_token: SoftHsmToken, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no PKCS#11 token labelled 'nope'"):
        Pkcs11KeyStore(softhsm_token.module, "nope", journal_path=tmp_path / "j")


def test_byok_plain_and_wrapped_into_token(
    store: Pkcs11KeyStore, softhsm_token: SoftHsmToken
) -> None:
    nofmt = serialization.NoEncryption()
    p8 = serialization.PrivateFormat.PKCS8
    ec_sk = ec.generate_private_key(ec.SECP384R1())
    ed_sk = ed25519.Ed25519PrivateKey.generate()
    a = store.import_key(
        ec_sk.private_bytes(serialization.Encoding.PEM, p8, nofmt),
        Purpose.POLICY_SIGNING,
        key_id="byok-ec",
    )
    import_id, kek = store.new_import_key()
    wrapped = aes_key_wrap_with_padding(
        kek, ed_sk.private_bytes(serialization.Encoding.DER, p8, nofmt)
    )
    b = store.import_key(wrapped, Purpose.WITNESS, wrapping_key_id=import_id, key_id="byok-ed")
    ec_pub = crypto.load_public_key(store.public_key(a.key_id))
    ec_pub.verify(b"m", store.sign(a.key_id, b"m"))
    ed_sk.public_key().verify(store.sign(b.key_id, b"m"), b"m")
    assert ("PRIVATE_KEY", True, False, False) in fresh_objects(softhsm_token, "byok-ed")
    assert fresh_objects(softhsm_token, f"import-{import_id}") == []  # one-time key consumed
    other_id, _ = store.new_import_key()
    with pytest.raises(MalformedKeyMaterialError, match="does not unwrap"):
        store.import_key(
            aes_key_wrap_with_padding(os.urandom(32), b"x" * 48),
            Purpose.WITNESS,
            wrapping_key_id=other_id,
        )


def test_byok_composite_into_token(store: Pkcs11KeyStore, softhsm_token: SoftHsmToken) -> None:
    sk = crypto.generate("mldsa65-ecdsa-p384-sha512")
    k = store.import_key(sk.pkcs8_der(), Purpose.DECISION_SIGNING, key_id="byok-comp")
    assert k.algorithm == "mldsa65-ecdsa-p384-sha512"
    assert store.public_key(k.key_id) == sk.public_key().spki_der()
    sk.public_key().verify(b"m", store.sign(k.key_id, b"m", context=b"c"), b"c")
    assert ("PRIVATE_KEY", True, False, False) in fresh_objects(softhsm_token, "byok-comp")
    assert fresh_objects(softhsm_token, "byok-comp#kek") == [("SECRET_KEY", True, False, True)]


def test_check_journal_on_token(store: Pkcs11KeyStore) -> None:
    k = store.generate("ed25519", Purpose.WITNESS)
    store.retire(k.key_id)
    assert [e.event for e in store.check_journal()] == ["generate", "activate", "deactivate"]


def test_open_signer_from_an_rfc7512_object_uri(
    store: Pkcs11KeyStore, softhsm_token: SoftHsmToken, tmp_path: Path
) -> None:
    store.generate("ecdsa-p384-sha384", Purpose.CHECKPOINT_SIGNING, key_id="cp-1")
    uri = softhsm_token.uri(object="cp-1") + f"&x-journal={tmp_path}/journal.jsonl"
    signer = open_signer(uri)
    assert signer.algorithm == "ecdsa-p384-sha384"
    crypto.load_public_key(signer.public_key_der()).verify(b"m", signer.sign(b"m"))


def test_default_journal_location(
    softhsm_token: SoftHsmToken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    s = open_store(softhsm_token.uri() + "&x-jurisdiction=FR")
    s.generate("ed25519", Purpose.WITNESS, key_id="w")
    journal = tmp_path / "state" / "rsrp" / f"pkcs11-{softhsm_token.label}.journal.jsonl"
    assert journal.stat().st_mode & 0o777 == 0o600
    assert [e.event for e in s.journal()] == ["generate", "activate"]
