"""rsrp.keys: the key plane (key stores, lifecycle, jurisdictions, journal, keyring, export).

Keys live in a :class:`KeyStore` chosen by URI: ``file:/dir?jurisdiction=FR`` (the
software store, passphrase from a callback or ``RSRP_KEYSTORE_PASSPHRASE``) or
``pkcs11:token=...?module-path=...`` (RFC 7512; PIN from a callback or
``RSRP_PKCS11_PIN``). Every key has one jurisdiction, a purpose, a validity window
and a NIST SP 800-57 lifecycle state; every change is appended to a hash-chained
key-event journal. See docs/key-custody.md.

>>> import os, tempfile
>>> os.environ["RSRP_KEYSTORE_PASSPHRASE"] = "an example passphrase"
>>> store = open_store("file:" + tempfile.mkdtemp() + "/ks?jurisdiction=FR")
>>> info = store.generate("ed25519", Purpose.DECISION_SIGNING, test=True)
>>> signer = store.signer(info.key_id)
>>> sig = signer.sign(b"decision", jurisdiction="FR")
>>> store.sign(info.key_id, b"decision", jurisdiction="DE")
Traceback (most recent call last):
...
rsrp.keys._errors.JurisdictionError: key ... belongs to FR; refusing to act for DE
"""

from __future__ import annotations

from rsrp.keys._errors import (
    InvalidKeyURIError,
    InvalidTransitionError,
    JournalError,
    JurisdictionError,
    KeyDestroyedError,
    KeyExistsError,
    KeyFileCorruptError,
    KeyNotUsableError,
    KeyNotValidAt,
    KeyNotValidAtError,
    KeyPolicyError,
    KeyStoreError,
    MalformedKeyMaterialError,
    NotAvailableError,
    SignatureInvalidError,
    UnknownKey,
    UnknownKeyError,
    WrongPassphraseError,
    WrongPinError,
)
from rsrp.keys._export import (
    jwk,
    jwks,
    note_key_hash,
    note_skey,
    note_vkey,
    parse_note_skey,
    parse_note_vkey,
    spki_pem,
)
from rsrp.keys._journal import JournalEvent, KeyJournal, verify_journal
from rsrp.keys._keyring import Keyring, KeyringEntry, KeyringVerifier, export_public
from rsrp.keys._model import TRANSITIONS, KeyInfo, KeyState, Purpose
from rsrp.keys._open import open_signer, open_store
from rsrp.keys._pkcs11 import Pkcs11KeyStore
from rsrp.keys._policy import KeyPolicy, NodeKeyConfig
from rsrp.keys._protocol import KeyStore
from rsrp.keys._software import FileKeyStore
from rsrp.keys._store import BaseKeyStore, StoreSigner
from rsrp.keys.signer import Signer, Verifier

__all__ = [
    "TRANSITIONS",
    "BaseKeyStore",
    "FileKeyStore",
    "InvalidKeyURIError",
    "InvalidTransitionError",
    "JournalError",
    "JournalEvent",
    "JurisdictionError",
    "KeyDestroyedError",
    "KeyExistsError",
    "KeyFileCorruptError",
    "KeyInfo",
    "KeyJournal",
    "KeyNotUsableError",
    "KeyNotValidAt",
    "KeyNotValidAtError",
    "KeyPolicy",
    "KeyPolicyError",
    "KeyState",
    "KeyStore",
    "KeyStoreError",
    "Keyring",
    "KeyringEntry",
    "KeyringVerifier",
    "MalformedKeyMaterialError",
    "NodeKeyConfig",
    "NotAvailableError",
    "Pkcs11KeyStore",
    "Purpose",
    "SignatureInvalidError",
    "Signer",
    "StoreSigner",
    "UnknownKey",
    "UnknownKeyError",
    "Verifier",
    "WrongPassphraseError",
    "WrongPinError",
    "export_public",
    "jwk",
    "jwks",
    "note_key_hash",
    "note_skey",
    "note_vkey",
    "open_signer",
    "open_store",
    "parse_note_skey",
    "parse_note_vkey",
    "spki_pem",
    "verify_journal",
]
