"""The software store's key file: AES-256-GCM under a scrypt-derived key, header as AAD.

Layout (all integers big-endian)::

    magic "RSRPKEY1" (8) | header_len u32 | header (canonical JSON) | ciphertext || tag (16)

The header holds the KDF parameters (scrypt, RFC 7914: per-file random 16-byte
salt, n, r, p), the GCM nonce, the key's :class:`KeyInfo` and its public key. The
whole prefix up to the ciphertext is GCM's associated data, so changing any
header byte (a state, a validity date, a KDF parameter) fails authentication
exactly as a wrong passphrase does. The plaintext is the private key (PKCS#8 DER),
or empty once the key is destroyed (the file then remains as a tombstone).
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from rsrp.keys._errors import KeyFileCorruptError, WrongPassphraseError
from rsrp.keys._model import KeyInfo

__all__ = ["MAGIC", "KdfParams", "KeyFile", "decode_key_file", "encode_key_file", "read_kdf"]

MAGIC = b"RSRPKEY1"
MAX_FILE = 1 << 20
MAX_HEADER = 64 * 1024
# scrypt bounds accepted when reading: below 2**14 is too weak to be ours, above
# 2**20 (1 GiB of memory at r=8) would let a planted file exhaust memory.
MIN_LOG2_N, MAX_LOG2_N = 14, 20
DEFAULT_LOG2_N = 15
_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}\Z")


@dataclass(frozen=True, slots=True)
class KdfParams:
    """scrypt parameters (RFC 7914 §2) and the per-file salt."""

    salt: bytes
    log2_n: int = DEFAULT_LOG2_N
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not (MIN_LOG2_N <= self.log2_n <= MAX_LOG2_N) or self.r != 8 or not 1 <= self.p <= 4:
            raise KeyFileCorruptError(
                f"scrypt parameters out of bounds: n=2**{self.log2_n} r={self.r} p={self.p}"
            )
        if len(self.salt) != 16:
            raise KeyFileCorruptError(f"scrypt salt is {len(self.salt)} bytes, want 16")

    @classmethod
    def fresh(cls, log2_n: int = DEFAULT_LOG2_N) -> KdfParams:
        return cls(salt=os.urandom(16), log2_n=log2_n)

    def derive(self, passphrase: bytes) -> bytes:
        kdf = Scrypt(salt=self.salt, length=32, n=1 << self.log2_n, r=self.r, p=self.p)
        return kdf.derive(passphrase)


@dataclass(frozen=True, slots=True)
class KeyFile:
    info: KeyInfo
    public_key_der: bytes
    private_der: bytes
    kdf: KdfParams


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(v: object, what: str) -> bytes:
    if not isinstance(v, str) or not _B64.match(v):
        raise KeyFileCorruptError(f"key file header: {what} is not base64")
    return base64.b64decode(v, validate=True)


def _header(kf: KeyFile, nonce: bytes) -> bytes:
    obj: dict[str, Any] = {
        "format": 1,
        "kdf": {
            "name": "scrypt",
            "log2_n": kf.kdf.log2_n,
            "r": kf.kdf.r,
            "p": kf.kdf.p,
            "salt": _b64(kf.kdf.salt),
        },
        "aead": {"name": "aes-256-gcm", "nonce": _b64(nonce)},
        "key": kf.info.to_json(),
        "public_key": _b64(kf.public_key_der),
    }
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def encode_key_file(kf: KeyFile, key: bytes) -> bytes:
    """Serialise and encrypt ``kf`` under ``key`` (``kf.kdf.derive(passphrase)``)."""
    nonce = os.urandom(12)
    header = _header(kf, nonce)
    aad = MAGIC + struct.pack(">I", len(header)) + header
    return aad + AESGCM(key).encrypt(nonce, kf.private_der, aad)


@dataclass(frozen=True, slots=True)
class _Parsed:
    aad: bytes
    nonce: bytes
    kdf: KdfParams
    info: KeyInfo
    public_key_der: bytes
    ciphertext: bytes


def _parse(data: bytes) -> _Parsed:
    if len(data) > MAX_FILE:
        raise KeyFileCorruptError(f"key file is {len(data)} bytes, more than {MAX_FILE}")
    if len(data) < 12 or data[:8] != MAGIC:
        raise KeyFileCorruptError("not an rsrp key file (bad magic)")
    (hlen,) = struct.unpack(">I", data[8:12])
    if hlen > MAX_HEADER or 12 + hlen + 16 > len(data):
        raise KeyFileCorruptError(f"key file header length {hlen} does not fit the file")
    header = data[12 : 12 + hlen]
    try:
        obj = json.loads(header)
        kdf_obj, aead_obj = obj["kdf"], obj["aead"]
        if (
            set(obj) != {"format", "kdf", "aead", "key", "public_key"}
            or obj["format"] != 1
            or kdf_obj["name"] != "scrypt"
            or aead_obj["name"] != "aes-256-gcm"
        ):
            raise KeyFileCorruptError("key file header: unknown format, KDF or cipher")
        for v in (kdf_obj["log2_n"], kdf_obj["r"], kdf_obj["p"]):
            if type(v) is not int:
                raise KeyFileCorruptError("key file header: scrypt parameters must be integers")
        kdf = KdfParams(
            _unb64(kdf_obj["salt"], "salt"), kdf_obj["log2_n"], kdf_obj["r"], kdf_obj["p"]
        )
        nonce = _unb64(aead_obj["nonce"], "nonce")
        info = KeyInfo.from_json(obj["key"])
        public = _unb64(obj["public_key"], "public key")
    except KeyFileCorruptError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise KeyFileCorruptError(f"key file header is malformed: {e}") from e
    except Exception as e:  # KeyStoreError from KeyInfo validation
        raise KeyFileCorruptError(f"key file header is invalid: {e}") from e
    if len(nonce) != 12:
        raise KeyFileCorruptError("key file header: GCM nonce must be 12 bytes")
    return _Parsed(data[: 12 + hlen], nonce, kdf, info, public, data[12 + hlen :])


def read_kdf(data: bytes) -> KdfParams:
    """The KDF parameters of a key file, so a caller can derive (and cache) its key."""
    return _parse(data).kdf


def decode_key_file(data: bytes, key: bytes) -> KeyFile:
    """Parse and authenticate a key file. Raises :class:`KeyFileCorruptError` for a structural
    problem and :class:`WrongPassphraseError` when GCM authentication fails (wrong passphrase
    or any altered byte: the two cannot be told apart, by design)."""
    p = _parse(data)
    try:
        private = AESGCM(key).decrypt(p.nonce, p.ciphertext, p.aad)
    except InvalidTag as e:
        raise WrongPassphraseError(
            f"key file for {p.info.key_id!r} does not authenticate: wrong passphrase "
            "or the file was altered"
        ) from e
    return KeyFile(p.info, p.public_key_der, private, p.kdf)
