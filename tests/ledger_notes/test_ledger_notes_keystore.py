"""Checkpoint keys in the key plane's software store (same Signer interface as the HSM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rsrp.errors import RsrpError
from rsrp.keys import KeyStore, Purpose, note_vkey, open_store
from rsrp.ledger import Checkpoint, open_note, sign_note, verifier_from_vkey
from rsrp.ledger._note_keystore import KeyStoreCosigner, KeyStoreNoteSigner

ORIGIN = "rsrp.example/FR"
ROOT = b"\x05" * 32


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KeyStore:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "a test passphrase for notes")
    return open_store(f"file:{tmp_path}/ks?jurisdiction=FR")


def test_keystore_note_and_mldsa_cosignature(store: KeyStore) -> None:
    ed = store.generate("ed25519", Purpose.CHECKPOINT_SIGNING, test=True)
    ml = store.generate("ml-dsa-44", Purpose.CHECKPOINT_SIGNING, test=True)
    note_signer = KeyStoreNoteSigner(ORIGIN, store.signer(ed.key_id))
    cosigner = KeyStoreCosigner(ORIGIN, store.signer(ml.key_id), lambda: 7)
    # The key plane's own vkey export agrees with ours byte for byte.
    assert note_vkey(ORIGIN, store.signer(ed.key_id).public_key_der()) == note_signer.vkey
    signed = sign_note(Checkpoint(ORIGIN, 3, ROOT).body(), [note_signer, cosigner])
    keys = [verifier_from_vkey(note_signer.vkey), verifier_from_vkey(cosigner.vkey)]
    assert len(open_note(signed, keys).verified) == 2


def test_keystore_refuses_wrong_algorithm(store: KeyStore) -> None:
    ec = store.generate("ecdsa-p384-sha384", Purpose.CHECKPOINT_SIGNING, test=True)
    with pytest.raises(RsrpError):
        KeyStoreNoteSigner(ORIGIN, store.signer(ec.key_id))
    with pytest.raises(RsrpError):
        KeyStoreCosigner(ORIGIN, store.signer(ec.key_id))
