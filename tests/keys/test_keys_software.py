"""The software (file:) store: round trips, tamper resistance, atomicity, permissions."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.keys.keys_helpers import PASSPHRASE, Clock, file_store, snapshot

from rsrp import crypto
from rsrp.keys import (
    FileKeyStore,
    KeyDestroyedError,
    KeyExistsError,
    KeyFileCorruptError,
    KeyState,
    MalformedKeyMaterialError,
    NotAvailableError,
    Purpose,
    UnknownKeyError,
    WrongPassphraseError,
    open_store,
)

SIGNING = [
    "ed25519",
    "ecdsa-p384-sha384",
    "ml-dsa-44",
    "ml-dsa-65",
    "ml-dsa-87",
    "mldsa65-ecdsa-p384-sha512",
]
CONTEXTUAL = {"ml-dsa-44", "ml-dsa-65", "ml-dsa-87", "mldsa65-ecdsa-p384-sha512"}


@pytest.fixture
def store(tmp_path: Path) -> FileKeyStore:
    return file_store(tmp_path / "ks")


@pytest.mark.parametrize("algorithm", SIGNING)
def test_sign_round_trip_through_a_reopened_store(tmp_path: Path, algorithm: str) -> None:
    k = file_store(tmp_path / "ks").generate(algorithm, Purpose.DECISION_SIGNING, key_id="k1")
    reopened = file_store(tmp_path / "ks")  # a new process: nothing cached
    ctx = b"rsrp-test" if algorithm in CONTEXTUAL else b""
    sig = reopened.signer(k.key_id).sign(b"message", context=ctx, jurisdiction="FR")
    pub = crypto.load_public_key(reopened.public_key("k1"))
    assert pub.algorithm == algorithm
    pub.verify(b"message", sig, ctx)
    with pytest.raises(crypto.InvalidSignature):
        pub.verify(b"messagE", sig, ctx)


def test_stores_implement_the_protocols(store: FileKeyStore) -> None:
    from rsrp.keys import KeyStore, Signer

    assert isinstance(store, KeyStore)
    k = store.generate("ed25519", Purpose.DECISION_SIGNING)
    assert isinstance(store.signer(k.key_id), Signer)


def test_kem_round_trip(store: FileKeyStore) -> None:
    k = store.generate("x-wing", Purpose.DATA_ENCRYPTION)
    ss, ct = crypto.load_public_key(store.public_key(k.key_id)).encapsulate()
    assert store.decapsulate(k.key_id, ct, jurisdiction="FR") == ss
    with pytest.raises(Exception, match="does not sign"):
        store.sign(k.key_id, b"m")


def test_standalone_x25519_is_not_available(store: FileKeyStore) -> None:
    with pytest.raises(NotAvailableError, match="x25519"):
        store.generate("x25519", Purpose.DATA_ENCRYPTION)


def test_permissions(store: FileKeyStore, tmp_path: Path) -> None:
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    assert (tmp_path / "ks").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "ks" / "keys").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "ks" / "keys" / "k1.key").stat().st_mode & 0o777 == 0o600


def test_refuses_a_group_readable_store_directory(tmp_path: Path) -> None:
    (tmp_path / "ks").mkdir(mode=0o755)
    (tmp_path / "ks").chmod(0o755)
    with pytest.raises(Exception, match="must be 0700"):
        file_store(tmp_path / "ks")


def test_private_key_is_not_in_the_file_in_clear(store: FileKeyStore, tmp_path: Path) -> None:
    k = store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    seed = store._material(k).key.private_bytes_raw()  # type: ignore[union-attr]
    assert seed not in (tmp_path / "ks" / "keys" / "k1.key").read_bytes()


def test_wrong_passphrase_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    file_store(tmp_path / "ks").generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    before = snapshot(tmp_path / "ks")
    wrong = file_store(tmp_path / "ks", passphrase=b"not the passphrase!")
    with pytest.raises(WrongPassphraseError, match="wrong passphrase or the file was altered"):
        wrong.sign("k1", b"m")
    with pytest.raises(WrongPassphraseError):
        wrong.retire("k1")
    assert snapshot(tmp_path / "ks") == before


def _flip_positions(size: int) -> list[int]:
    # magic, header length, header start/middle/end, ciphertext, GCM tag
    return sorted({0, 7, 9, 12, 40, size // 3, size // 2, size - 40, size - 17, size - 1})


def test_every_flipped_byte_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    path = tmp_path / "ks" / "keys" / "k1.key"
    good = path.read_bytes()
    for pos in _flip_positions(len(good)):
        bad = bytearray(good)
        bad[pos] ^= 0x01
        path.write_bytes(bytes(bad))
        before = snapshot(tmp_path / "ks")
        fresh = file_store(tmp_path / "ks")
        with pytest.raises((WrongPassphraseError, KeyFileCorruptError)):
            fresh.sign("k1", b"m")
        with pytest.raises((WrongPassphraseError, KeyFileCorruptError)):
            fresh.retire("k1")
        assert snapshot(tmp_path / "ks") == before, f"flip at {pos} changed the store"
    path.write_bytes(good)
    file_store(tmp_path / "ks").sign("k1", b"m")


def test_header_state_edit_does_not_authenticate(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    store.retire("k1")
    path = tmp_path / "ks" / "keys" / "k1.key"
    data = path.read_bytes()
    # Re-activating by editing the plaintext header (same length) must fail GCM.
    path.write_bytes(data.replace(b'"state":"deactivated"', b'"state":"active"     '))
    with pytest.raises((WrongPassphraseError, KeyFileCorruptError)):
        file_store(tmp_path / "ks").sign("k1", b"m")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"RSRPKEY1",
        b"RSRPKEY1\xff\xff\xff\xff",
        b"NOTAKEY!" + b"\x00" * 64,
        b"RSRPKEY1\x00\x00\x00\x02{}" + b"\x00" * 16,
    ],
    ids=["empty", "magic-only", "huge-header", "bad-magic", "empty-header"],
)
def test_malformed_key_files(tmp_path: Path, data: bytes) -> None:
    store = file_store(tmp_path / "ks")
    (tmp_path / "ks" / "keys" / "k1.key").write_bytes(data)
    with pytest.raises(KeyFileCorruptError):
        store.info("k1")


def test_scrypt_downgrade_in_header_is_refused(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    path = tmp_path / "ks" / "keys" / "k1.key"
    path.write_bytes(path.read_bytes().replace(b'"log2_n":14', b'"log2_n":10'))
    with pytest.raises(KeyFileCorruptError, match="out of bounds"):
        file_store(tmp_path / "ks").info("k1")


def test_renamed_key_file_is_refused(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    os.rename(tmp_path / "ks" / "keys" / "k1.key", tmp_path / "ks" / "keys" / "k2.key")
    with pytest.raises(KeyFileCorruptError, match="holds key 'k1'"):
        file_store(tmp_path / "ks").info("k2")


def test_no_temp_files_are_left(store: FileKeyStore, tmp_path: Path) -> None:
    k = store.generate("ed25519", Purpose.DECISION_SIGNING)
    store.rotate(k.key_id)
    assert not list((tmp_path / "ks").rglob("*.tmp"))


def test_key_ids_are_never_reused(store: FileKeyStore) -> None:
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    with pytest.raises(KeyExistsError):
        store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")


def test_lifecycle_deactivated_and_destroyed(tmp_path: Path) -> None:
    clock = Clock()
    store = file_store(tmp_path / "ks", clock=clock)
    k = store.generate("ecdsa-p384-sha384", Purpose.CHECKPOINT_SIGNING, key_id="k1")
    store.sign("k1", b"m")
    store.retire("k1")
    with pytest.raises(Exception, match="deactivated, not active"):
        store.sign("k1", b"m")
    clock.advance(days=1)
    gone = store.destroy("k1")
    assert gone.state is KeyState.DESTROYED
    with pytest.raises(KeyDestroyedError):
        store._material(gone)
    # the public key survives for verifying the past
    assert crypto.load_public_key(store.public_key("k1")).algorithm == k.algorithm
    # and the private material is really gone from the file
    assert len((tmp_path / "ks" / "keys" / "k1.key").read_bytes()) < 1200


def test_pre_activation_key_does_not_sign(store: FileKeyStore) -> None:
    k = store.generate("ed25519", Purpose.DECISION_SIGNING, activate=False)
    assert k.state is KeyState.PRE_ACTIVATION
    with pytest.raises(Exception, match="pre-activation"):
        store.sign(k.key_id, b"m")
    store.activate(k.key_id)
    store.sign(k.key_id, b"m")


def test_unknown_key(store: FileKeyStore) -> None:
    with pytest.raises(UnknownKeyError):
        store.sign("nope", b"m")


def test_byok_pkcs8_der_and_pem(store: FileKeyStore) -> None:
    sk = ec.generate_private_key(ec.SECP384R1())
    nofmt = serialization.NoEncryption()
    der = sk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, nofmt)
    pem = sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, nofmt)
    a = store.import_key(der, Purpose.POLICY_SIGNING, key_id="byok-der")
    b = store.import_key(pem, Purpose.POLICY_SIGNING, key_id="byok-pem")
    for k in (a, b):
        assert k.algorithm == "ecdsa-p384-sha384" and k.state is KeyState.ACTIVE
        sig = store.sign(k.key_id, b"m")
        sk.public_key().verify(sig, b"m", ec.ECDSA(hashes.SHA384()))


def test_byok_wrapped_rfc5649(store: FileKeyStore, tmp_path: Path) -> None:
    import_id, kek = store.new_import_key()
    sk = ed25519.Ed25519PrivateKey.generate()
    der = sk.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # a wrong import key id, and a wrap under another key, are refused and consume nothing
    with pytest.raises(UnknownKeyError):
        store.import_key(
            aes_key_wrap_with_padding(kek, der), Purpose.WITNESS, wrapping_key_id="0000"
        )
    with pytest.raises(MalformedKeyMaterialError):
        store.import_key(
            aes_key_wrap_with_padding(os.urandom(32), der),
            Purpose.WITNESS,
            wrapping_key_id=import_id,
        )
    k = store.import_key(
        aes_key_wrap_with_padding(kek, der), Purpose.WITNESS, wrapping_key_id=import_id
    )
    sk.public_key().verify(store.sign(k.key_id, b"m"), b"m")
    assert not list((tmp_path / "ks" / "imports").iterdir())  # one-time: consumed
    with pytest.raises(UnknownKeyError):
        store.import_key(
            aes_key_wrap_with_padding(kek, der), Purpose.WITNESS, wrapping_key_id=import_id
        )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
    ],
)
def test_byok_garbage_is_refused(store: FileKeyStore, data: bytes) -> None:
    with pytest.raises(MalformedKeyMaterialError):
        store.import_key(data, Purpose.WITNESS)
    assert store.list() == []


def test_byok_unsupported_curve_is_refused(store: FileKeyStore) -> None:
    der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises((MalformedKeyMaterialError, NotAvailableError)):
        store.import_key(der, Purpose.WITNESS)


def test_open_store_by_uri_and_env_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", PASSPHRASE.decode())
    s = open_store(f"file://{tmp_path}/ks?jurisdiction=DE")
    k = s.generate("ed25519", Purpose.WITNESS)
    assert k.jurisdiction == "DE"
    monkeypatch.delenv("RSRP_KEYSTORE_PASSPHRASE")
    with pytest.raises(WrongPassphraseError, match="RSRP_KEYSTORE_PASSPHRASE"):
        open_store(f"file:{tmp_path}/ks")


def test_short_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(WrongPassphraseError, match="at least"):
        file_store(tmp_path / "ks", passphrase=b"short")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_hostile_key_file_bytes_only_raise_keystore_errors(data: bytes) -> None:
    from rsrp.keys._keyfile import decode_key_file

    # Structurally hostile input never reaches scrypt (bounded parameters) nor crashes.
    with contextlib.suppress(KeyFileCorruptError, WrongPassphraseError):
        decode_key_file(data, b"\x00" * 32)


@pytest.fixture(scope="module")
def good_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("mutations")
    file_store(d / "ks").generate("ed25519", Purpose.DECISION_SIGNING, key_id="k1")
    return (d / "ks" / "keys" / "k1.key").read_bytes()


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0))
def test_key_file_mutations_never_authenticate(good_file: bytes, junk: bytes, where: int) -> None:
    """Insertions, truncations and suffix garbage (STYLE.md point 5) all fail closed."""
    from rsrp.keys._keyfile import decode_key_file, read_kdf

    good = good_file
    pos = where % (len(good) + 1)
    for bad in (good[:pos] + junk + good[pos:], good[:pos], good[:pos] + junk):
        if bad == good:
            continue
        with pytest.raises((KeyFileCorruptError, WrongPassphraseError)):
            decode_key_file(bad, read_kdf(good).derive(PASSPHRASE))
