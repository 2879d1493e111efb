"""The PKCS#11 key store (``pkcs11:`` RFC 7512 URIs); SoftHSM2 in tests, any vendor module.

Per key id ``K`` the token holds (all token objects, private ones need login):

* ``CKO_PRIVATE_KEY`` / ``CKO_PUBLIC_KEY`` labelled ``K``: ECDSA P-384 or Ed25519,
  generated inside the token, CKA_SENSITIVE, not CKA_EXTRACTABLE;
* for the composite ML-DSA-65 + ECDSA P-384: the P-384 pair above, an AES-256 key
  ``K#kek`` generated inside the token (wrap/unwrap only, never extractable), and
  the ML-DSA-65 seed wrapped under it with CKM_AES_KEY_WRAP_PAD (RFC 5649);
* ``CKO_DATA`` objects (application ``rsrp-keys``) labelled ``K``: the key's
  metadata (:class:`KeyInfo`), public key and wrapped seed as JSON, with a
  generation counter. Data objects are immutable in SoftHSM, so an update writes
  generation n+1 before deleting n; a reader takes the highest.

The custody model and its limits are in docs/key-custody.md.
"""

from __future__ import annotations

import base64
import builtins
import json
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pkcs11 import Attribute, ObjectClass

from rsrp.crypto import composite
from rsrp.keys._errors import (
    InvalidKeyURIError,
    KeyDestroyedError,
    KeyFileCorruptError,
    KeyStoreError,
    MalformedKeyMaterialError,
    NotAvailableError,
    UnknownKeyError,
    WrongPinError,
)
from rsrp.keys._journal import KeyJournal
from rsrp.keys._material import crypto_errors, load_pkcs8
from rsrp.keys._model import KeyInfo
from rsrp.keys._pkcs11_token import Token, open_token
from rsrp.keys._policy import KeyPolicy
from rsrp.keys._store import BaseKeyStore, utc_now
from rsrp.keys._uri import parse_pkcs11_uri

__all__ = ["PIN_ENV", "VENDOR_MODULES", "Pkcs11KeyStore", "pin_from_env"]

PIN_ENV = "RSRP_PKCS11_PIN"
COMPOSITE = composite.ALGORITHM
_IN_TOKEN = frozenset({"ed25519", "ecdsa-p384-sha384"})
# ML-DSA alone: the seed wrapped under an in-token KEK, as for the composite's ML-DSA half.
_ML_DSA: dict[str, Any] = {
    "ml-dsa-44": mldsa.MLDSA44PrivateKey,
    "ml-dsa-65": mldsa.MLDSA65PrivateKey,
    "ml-dsa-87": mldsa.MLDSA87PrivateKey,
}
_SUPPORTED = _IN_TOKEN | {COMPOSITE} | set(_ML_DSA)
_DER_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

#: RFC 7512 ``module-name`` values we know, with the vendors' default install paths.
#: They are only used if the file exists; otherwise the store says "not available".
VENDOR_MODULES = {
    "softhsm2": "/usr/lib/softhsm/libsofthsm2.so",
    "cloudhsm": "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so",  # AWS CloudHSM client SDK 5
    "luna": "/usr/safenet/lunaclient/lib/libCryptoki2_64.so",  # Thales Luna
    "kmsp11": "/usr/lib/libkmsp11.so",  # Google Cloud KMS / Cloud HSM PKCS#11 library
    "azurecloudhsm": "/opt/azurecloudhsm/lib64/libazcloudhsm_pkcs11.so",  # Azure Cloud HSM
}


def pin_from_env() -> str:
    value = os.environ.get(PIN_ENV)
    if not value:
        raise WrongPinError(f"no PKCS#11 PIN: set {PIN_ENV} or pass a PIN callback")
    return value


def _default_journal(token_label: str) -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in token_label)
    return base / "rsrp" / f"pkcs11-{safe}.journal.jsonl"


class Pkcs11KeyStore(BaseKeyStore):
    """Key store on one PKCS#11 token; see the module docstring for the object layout."""

    scheme = "pkcs11"

    def __init__(
        self,
        module: str,
        token_label: str,
        *,
        pin: Callable[[], str] = pin_from_env,
        journal_path: str | os.PathLike[str] | None = None,
        default_jurisdiction: str | None = None,
        policy: KeyPolicy | None = None,
        actor: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.module = module
        self.token_label = token_label
        path = Path(journal_path) if journal_path else _default_journal(token_label)
        super().__init__(
            journal=KeyJournal(path),
            # Processes on this host sharing the token serialise metadata updates here;
            # hosts sharing one HSM partition do not (docs/key-custody.md).
            lock_path=path.with_name(path.name + ".lock"),
            default_jurisdiction=default_jurisdiction,
            policy=policy,
            actor=actor,
            clock=clock,
        )
        self._token: Token = open_token(module, token_label, pin())
        self._tlock = threading.Lock()

    @classmethod
    def from_uri(
        cls,
        uri: str,
        *,
        pin: Callable[[], str] | None = None,
        policy: KeyPolicy | None = None,
        actor: str | None = None,
        default_jurisdiction: str | None = None,
    ) -> Pkcs11KeyStore:
        """Open the token a ``pkcs11:`` URI names (``token=`` required, plus
        ``module-path=`` or a known ``module-name=``; ``x-journal=`` optional)."""
        parsed = parse_pkcs11_uri(uri)
        if parsed.token is None:
            raise InvalidKeyURIError("pkcs11 store URI needs token=<label>")
        module = parsed.module_path
        if module is None and parsed.module_name is not None:
            if parsed.module_name not in VENDOR_MODULES:
                raise NotAvailableError(
                    f"PKCS#11 module-name {parsed.module_name!r} is not known to this build; "
                    f"give module-path, or one of {sorted(VENDOR_MODULES)}"
                )
            module = VENDOR_MODULES[parsed.module_name]
        if module is None:
            raise InvalidKeyURIError("pkcs11 store URI needs module-path= (or module-name=)")
        return cls(
            module,
            parsed.token,
            pin=pin or pin_from_env,
            journal_path=parsed.journal,
            default_jurisdiction=default_jurisdiction or parsed.jurisdiction,
            policy=policy,
            actor=actor,
        )

    def close(self) -> None:
        with self._tlock:
            self._token.close()

    # ---- metadata objects -----------------------------------------------------------
    def _records(self, key_id: str) -> builtins.list[tuple[int, dict[str, Any], Any]]:
        out = []
        for obj in self._token.objects(ObjectClass.DATA, key_id):
            try:
                rec = json.loads(obj[Attribute.VALUE])
                gen = rec["gen"]
                if type(gen) is not int:
                    raise TypeError("gen")
            except (ValueError, KeyError, TypeError) as e:
                raise KeyFileCorruptError(f"token metadata for {key_id} is malformed") from e
            out.append((gen, rec, obj))
        return sorted(out, key=lambda t: t[0])

    def _record_of(self, key_id: str) -> dict[str, Any]:
        with self._tlock:
            recs = self._records(key_id)
        if not recs:
            raise UnknownKeyError(f"no key {key_id!r} on token {self.token_label!r}")
        return recs[-1][1]

    def _write_record(self, info: KeyInfo, public_der: bytes, wrapped: bytes | None) -> None:
        with self._tlock:
            old = self._records(info.key_id)
            rec = {
                "gen": old[-1][0] + 1 if old else 0,
                "key": info.to_json(),
                "public_key": base64.b64encode(public_der).decode(),
                "wrapped_mldsa_seed": None
                if wrapped is None
                else base64.b64encode(wrapped).decode(),
            }
            self._token.put_data(info.key_id, json.dumps(rec, sort_keys=True).encode())
            for _, _, obj in old:  # only after the new generation is safely stored
                obj.destroy()

    # ---- hooks ----------------------------------------------------------------------
    def _exists(self, key_id: str) -> bool:
        with self._tlock:
            return bool(self._token.objects(ObjectClass.DATA, key_id))

    def _key_ids(self) -> builtins.list[str]:
        with self._tlock:
            return sorted({str(o[Attribute.LABEL]) for o in self._token.data_objects()})

    def _check_algorithm(self, algorithm: str) -> None:
        if algorithm not in _SUPPORTED:
            raise NotAvailableError(
                f"{algorithm} keys are not available in the PKCS#11 store of this build "
                f"(supported: {sorted(_SUPPORTED)}); no software fallback is made"
            )

    def _wrap_seed(self, kid: str, seed: bytes) -> bytes:
        """A fresh in-token KEK for ``kid`` and ``seed`` wrapped under it (RFC 5649)."""
        self._token.generate_kek(f"{kid}#kek")
        return self._token.wrap_secret(f"{kid}#kek", seed)

    def _create(self, info: KeyInfo) -> None:
        self._check_algorithm(info.algorithm)
        kid, alg = info.key_id, info.algorithm
        wrapped = None
        with self._tlock:
            if alg in _ML_DSA:
                pq = _ML_DSA[alg].generate()
                wrapped = self._wrap_seed(kid, pq.private_bytes_raw())
                public: bytes = pq.public_key().public_bytes(*_DER_SPKI)
            elif alg == COMPOSITE:
                self._token.generate_pair("ecdsa-p384-sha384", kid)
                pq = mldsa.MLDSA65PrivateKey.generate()
                wrapped = self._wrap_seed(kid, pq.private_bytes_raw())
                ec_der = self._token.public_key_der(kid, "ecdsa-p384-sha384")
                public = _composite_spki(pq.public_key(), ec_der)
            else:
                self._token.generate_pair(alg, kid)
                public = self._token.public_key_der(kid, alg)
        self._write_record(info, public, wrapped)

    def _import(self, info: KeyInfo, pkcs8: bytes) -> None:
        self._check_algorithm(info.algorithm)
        key = load_pkcs8(pkcs8).key
        kid = info.key_id
        wrapped = None
        with self._tlock:
            if isinstance(key, composite.CompositePrivateKey):
                # ECDSA half into the token; ML-DSA seed wrapped under a fresh in-token KEK.
                self._token.import_private("ecdsa-p384-sha384", kid, key.ecdsa)
                wrapped = self._wrap_seed(kid, key.mldsa.private_bytes_raw())
                public = key.public_key().spki_der()
            elif isinstance(
                key, mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
            ):
                wrapped = self._wrap_seed(kid, key.private_bytes_raw())
                public = key.public_key().public_bytes(*_DER_SPKI)
            else:
                self._token.import_private(info.algorithm, kid, key)
                public = self._token.public_key_der(kid, info.algorithm)
        self._write_record(info, public, wrapped)

    def _algorithm_of_pkcs8(self, pkcs8: bytes) -> str:
        return load_pkcs8(pkcs8).algorithm

    def new_import_key(self) -> tuple[str, bytes]:
        """A one-time AES-256 import key: handed to the customer once, and stored in
        the token as an unwrap-only, non-extractable key (see FileKeyStore.new_import_key)."""
        import_id = os.urandom(8).hex()
        kek = os.urandom(32)
        with self._tlock:
            self._token.import_kek(f"import-{import_id}", kek)
        return import_id, kek

    def _unwrap_import(self, wrapping_key_id: str, wrapped: bytes) -> bytes:
        # The ECDSA key could be unwrapped straight into the token with C_UnwrapKey, but
        # the algorithm is only known after parsing; SoftHSM 2.6 also cannot unwrap an
        # Ed25519 PKCS#8. The token unwraps into a transient session object whose value
        # is read once, so the PKCS#8 briefly exists in this process (docs/key-custody.md).
        with self._tlock:
            try:
                return self._token.unwrap_secret(f"import-{wrapping_key_id}", wrapped)
            except KeyStoreError as e:
                if not self._token.objects(ObjectClass.SECRET_KEY, f"import-{wrapping_key_id}"):
                    raise UnknownKeyError(f"no import wrapping key {wrapping_key_id!r}") from e
                raise MalformedKeyMaterialError(
                    "wrapped key does not unwrap (RFC 5649) under this import key"
                ) from e

    def _forget_import_key(self, wrapping_key_id: str) -> None:
        with self._tlock:
            self._token.destroy(ObjectClass.SECRET_KEY, f"import-{wrapping_key_id}")

    def _load_info(self, key_id: str) -> KeyInfo:
        try:
            return KeyInfo.from_json(self._record_of(key_id)["key"])
        except KeyError as e:
            raise KeyFileCorruptError(f"token metadata for {key_id} lacks 'key'") from e

    def _save_info(self, info: KeyInfo) -> None:
        rec = self._record_of(info.key_id)
        self._write_record(info, self._public_der(info.key_id), _wrapped(rec))

    def _public_der(self, key_id: str) -> bytes:
        return base64.b64decode(self._record_of(key_id)["public_key"], validate=True)

    def _unwrap_mldsa(self, info: KeyInfo, level: str) -> Any:
        """Unwrap the key's ML-DSA seed inside the token and rebuild the key in memory;
        check it is the key on record (a seed blob swapped into the metadata would
        otherwise sign under another key)."""
        kid = info.key_id
        rec = self._record_of(kid)  # one read for both the wrapped seed and the public key
        wrapped = _wrapped(rec)
        if wrapped is None:
            raise KeyDestroyedError(f"key {kid} has no ML-DSA key left")
        with self._tlock:
            seed = self._token.unwrap_secret(f"{kid}#kek", wrapped)
        pq = _ML_DSA[level].from_seed_bytes(seed)
        del seed  # dropped at once (CPython cannot wipe bytes; docs/key-custody.md)
        stored = base64.b64decode(rec["public_key"], validate=True)
        if info.algorithm == COMPOSITE:
            ok = stored[-(composite.MLDSA_PK_LEN + 97) : -97] == pq.public_key().public_bytes_raw()
        else:
            ok = stored == pq.public_key().public_bytes(*_DER_SPKI)
        if not ok:
            raise KeyFileCorruptError(f"key {kid}: unwrapped ML-DSA key does not match its record")
        return pq

    def _sign(self, info: KeyInfo, message: bytes, context: bytes) -> bytes:
        kid, alg = info.key_id, info.algorithm
        if alg in _ML_DSA:
            pq = self._unwrap_mldsa(info, alg)
            with crypto_errors(f"{alg} signature with {kid}"):
                sig: bytes = pq.sign(message, context) if context else pq.sign(message)
            return sig
        if alg != COMPOSITE:
            if context:
                raise NotAvailableError(f"{alg} signatures take no context string")
            with self._tlock:
                return self._token.sign(kid, alg, message)
        with crypto_errors(f"composite signature with {kid}"):
            m_prime = composite.message_representative(message, context)
        pq = self._unwrap_mldsa(info, "ml-dsa-65")
        with self._tlock:
            ec_sig = self._token.sign(kid, "ecdsa-p384-sha384", m_prime)
        with crypto_errors(f"composite signature with {kid}"):
            return composite.combine_signatures(pq.sign(m_prime, composite.LABEL), ec_sig)

    def _decapsulate(self, info: KeyInfo, ciphertext: bytes) -> bytes:
        raise NotAvailableError(f"{info.algorithm} decapsulation is not available in PKCS#11")

    def _destroy_material(self, info: KeyInfo) -> None:
        kid = info.key_id
        with self._tlock:
            self._token.destroy(ObjectClass.PRIVATE_KEY, kid)
            self._token.destroy(ObjectClass.SECRET_KEY, f"{kid}#kek")
        # _save_info (called next by the base) keeps the wrapped seed: without the KEK it
        # is useless; drop it anyway so nothing of the private key remains on the token.
        rec = self._record_of(kid)
        if _wrapped(rec) is not None:
            self._write_record(KeyInfo.from_json(rec["key"]), self._public_der(kid), None)


def _wrapped(rec: dict[str, Any]) -> bytes | None:
    v = rec.get("wrapped_mldsa_seed")
    return None if v is None else base64.b64decode(v, validate=True)


def _composite_spki(pq: mldsa.MLDSA65PublicKey, ec_spki: bytes) -> bytes:
    ec_pub = load_der_public_key(ec_spki)
    if not isinstance(ec_pub, ec.EllipticCurvePublicKey):
        raise KeyStoreError("token returned a non-EC public key")
    return composite.CompositePublicKey(pq, ec_pub).spki_der()
