"""The software key store (``file:`` URIs): one encrypted file per key.

Layout of a store directory (0700)::

    keys/<key id>.key     one key, AES-256-GCM under scrypt(passphrase) (see _keyfile), 0600
    imports/<id>.kek      one-time BYOK import wrapping keys, encrypted the same way, 0600
    journal.jsonl         the key-event journal (hash-chained JSON lines), 0600

Every write is atomic (temp file, fsync, rename, directory fsync), so a crash or a
refused operation leaves the previous bytes in place. The passphrase comes from a
callback or ``RSRP_KEYSTORE_PASSPHRASE``, never from the URI. This store is for
development and tests; production mode refuses it unless explicitly allowed.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

from rsrp import crypto
from rsrp.keys._atomic import atomic_write, ensure_private_dir
from rsrp.keys._errors import (
    KeyDestroyedError,
    KeyFileCorruptError,
    KeyStoreError,
    MalformedKeyMaterialError,
    UnknownKeyError,
    WrongPassphraseError,
)
from rsrp.keys._journal import KeyJournal
from rsrp.keys._keyfile import (
    DEFAULT_LOG2_N,
    KdfParams,
    KeyFile,
    decode_key_file,
    encode_key_file,
    read_kdf,
)
from rsrp.keys._material import crypto_errors, generate_material, load_pkcs8
from rsrp.keys._model import KeyInfo, check_key_id
from rsrp.keys._policy import KeyPolicy
from rsrp.keys._store import BaseKeyStore, utc_now

__all__ = ["PASSPHRASE_ENV", "FileKeyStore", "passphrase_from_env"]

PASSPHRASE_ENV = "RSRP_KEYSTORE_PASSPHRASE"  # noqa: S105 - the variable name, not a secret
_KEK_MAGIC = b"RSRPKEK1"
_MIN_PASSPHRASE = 12


def passphrase_from_env() -> bytes:
    value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise WrongPassphraseError(f"no passphrase: set {PASSPHRASE_ENV} or pass a callback")
    return value.encode()


class FileKeyStore(BaseKeyStore):
    """Software key store in a directory; see the module docstring for the layout."""

    scheme = "file"

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        passphrase: Callable[[], bytes] = passphrase_from_env,
        default_jurisdiction: str | None = None,
        policy: KeyPolicy | None = None,
        actor: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        scrypt_log2_n: int = DEFAULT_LOG2_N,
    ) -> None:
        self.directory = Path(directory)
        ensure_private_dir(self.directory)
        ensure_private_dir(self.directory / "keys")
        ensure_private_dir(self.directory / "imports")
        pw = passphrase()
        if len(pw) < _MIN_PASSPHRASE:
            raise WrongPassphraseError(f"passphrase must be at least {_MIN_PASSPHRASE} bytes")
        self._passphrase = pw
        self._log2_n = scrypt_log2_n
        self._derived: dict[bytes, bytes] = {}
        self._cache: dict[str, tuple[tuple[int, int, int], KeyFile]] = {}
        self._parsed: dict[str, tuple[KeyFile, crypto.PrivateKey]] = {}
        super().__init__(
            journal=KeyJournal(self.directory / "journal.jsonl"),
            lock_path=self.directory / "store.lock",
            default_jurisdiction=default_jurisdiction,
            policy=policy,
            actor=actor,
            clock=clock,
        )

    # ---- files ----------------------------------------------------------------------
    def _path(self, key_id: str) -> Path:
        return self.directory / "keys" / f"{check_key_id(key_id)}.key"

    def _derive(self, kdf: KdfParams) -> bytes:
        cache_key = kdf.salt + struct.pack(">BBB", kdf.log2_n, kdf.r, kdf.p)
        if cache_key not in self._derived:
            self._derived[cache_key] = kdf.derive(self._passphrase)
        return self._derived[cache_key]

    def _read(self, key_id: str) -> KeyFile:
        path = self._path(key_id)
        try:
            st = path.stat()
        except FileNotFoundError as e:
            raise UnknownKeyError(f"no key {key_id!r} in {self.directory}") from e
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] == sig:
            return cached[1]
        data = path.read_bytes()
        kf = decode_key_file(data, self._derive(read_kdf(data)))
        if kf.info.key_id != key_id:
            raise KeyFileCorruptError(f"{path.name} holds key {kf.info.key_id!r}, not {key_id!r}")
        self._cache[key_id] = (sig, kf)
        return kf

    def _write(self, kf: KeyFile, *, new: bool) -> None:
        data = encode_key_file(kf, self._derive(kf.kdf))
        path = self._path(kf.info.key_id)
        try:
            atomic_write(path, data, exclusive=new)
        except FileExistsError as e:
            raise KeyStoreError(f"key file {path.name} already exists") from e
        self._cache.pop(kf.info.key_id, None)
        self._parsed.pop(kf.info.key_id, None)

    # ---- hooks ----------------------------------------------------------------------
    def _exists(self, key_id: str) -> bool:
        return self._path(key_id).exists()

    def _key_ids(self) -> list[str]:
        return [p.name[: -len(".key")] for p in (self.directory / "keys").glob("*.key")]

    def _store_material(self, info: KeyInfo, material: crypto.PrivateKey) -> None:
        if material.algorithm != info.algorithm:
            raise MalformedKeyMaterialError(
                f"material is {material.algorithm}, not {info.algorithm}"
            )
        with crypto_errors(f"key {info.key_id}"):
            public, private = material.public_key().spki_der(), material.pkcs8_der()
        kf = KeyFile(info, public, private, KdfParams.fresh(self._log2_n))
        self._write(kf, new=True)

    def _create(self, info: KeyInfo) -> None:
        self._store_material(info, generate_material(info.algorithm))

    def _import(self, info: KeyInfo, pkcs8: bytes) -> None:
        self._store_material(info, load_pkcs8(pkcs8))

    def _algorithm_of_pkcs8(self, pkcs8: bytes) -> str:
        return load_pkcs8(pkcs8).algorithm

    def _load_info(self, key_id: str) -> KeyInfo:
        return self._read(key_id).info

    def _save_info(self, info: KeyInfo) -> None:
        old = self._read(info.key_id)
        self._write(KeyFile(info, old.public_key_der, old.private_der, old.kdf), new=False)

    def _public_der(self, key_id: str) -> bytes:
        return self._read(key_id).public_key_der

    def _material(self, info: KeyInfo) -> crypto.PrivateKey:
        kf = self._read(info.key_id)
        if not kf.private_der:
            raise KeyDestroyedError(f"key {info.key_id} has been destroyed")
        # Parsed keys are cached per authenticated file version (the KeyFile object
        # itself is replaced whenever the file changes), so signing does not re-parse.
        cached = self._parsed.get(info.key_id)
        if cached is not None and cached[0] is kf:
            return cached[1]
        key = load_pkcs8(kf.private_der)
        self._parsed[info.key_id] = (kf, key)
        return key

    def _sign(self, info: KeyInfo, message: bytes, context: bytes) -> bytes:
        key = self._material(info)
        with crypto_errors(f"signing with {info.key_id}"):
            return key.sign(message, context)

    def _decapsulate(self, info: KeyInfo, ciphertext: bytes) -> bytes:
        key = self._material(info)
        with crypto_errors(f"decapsulating with {info.key_id}"):
            return key.decapsulate(ciphertext)

    def _destroy_material(self, info: KeyInfo) -> None:
        # The file is rewritten without its private part (an authenticated tombstone).
        # Journalled-filesystem blocks of the old file may survive until reused: this
        # store cannot promise media sanitisation (NIST SP 800-88); an HSM can.
        old = self._read(info.key_id)
        self._write(KeyFile(old.info, old.public_key_der, b"", old.kdf), new=False)

    # ---- BYOK import keys -----------------------------------------------------------
    def new_import_key(self) -> tuple[str, bytes]:
        """Create a one-time AES-256 import wrapping key; return ``(id, key bytes)``.

        The customer wraps their PKCS#8 DER with it (RFC 5649, AES key wrap with
        padding) and passes ``wrapping_key_id=id`` to :meth:`import_key`; the wrapping
        key is deleted after one successful import. Hand the key bytes over a channel
        that protects them as well as the key being imported.
        """
        import_id = secrets.token_hex(8)
        kek = AESGCM.generate_key(bit_length=256)
        kdf = KdfParams.fresh(self._log2_n)
        aad = _KEK_MAGIC + import_id.encode()
        nonce = os.urandom(12)
        blob = AESGCM(self._derive(kdf)).encrypt(nonce, kek, aad)
        data = _KEK_MAGIC + bytes([kdf.log2_n]) + kdf.salt + nonce + blob
        atomic_write(self.directory / "imports" / f"{import_id}.kek", data, exclusive=True)
        return import_id, kek

    def _unwrap_import(self, wrapping_key_id: str, wrapped: bytes) -> bytes:
        path = self.directory / "imports" / f"{check_key_id(wrapping_key_id)}.kek"
        try:
            data = path.read_bytes()
        except FileNotFoundError as e:
            raise UnknownKeyError(f"no import wrapping key {wrapping_key_id!r}") from e
        if len(data) != 8 + 1 + 16 + 12 + 48 or data[:8] != _KEK_MAGIC:
            raise KeyFileCorruptError(f"import wrapping key {wrapping_key_id} is malformed")
        kdf = KdfParams(data[9:25], data[8])
        try:
            kek = AESGCM(self._derive(kdf)).decrypt(
                data[25:37], data[37:], _KEK_MAGIC + wrapping_key_id.encode()
            )
        except InvalidTag as e:
            raise WrongPassphraseError("import wrapping key does not authenticate") from e
        try:
            pkcs8 = aes_key_unwrap_with_padding(kek, wrapped)
        except (InvalidUnwrap, ValueError) as e:
            raise MalformedKeyMaterialError(
                "wrapped key does not unwrap (RFC 5649) under this import key"
            ) from e
        return pkcs8

    def _forget_import_key(self, wrapping_key_id: str) -> None:
        (self.directory / "imports" / f"{check_key_id(wrapping_key_id)}.kek").unlink()
