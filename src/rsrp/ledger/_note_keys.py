"""Note key strings and Ed25519 note keys (c2sp.org/signed-note §Verifier keys, §Ed25519).

- vkey: ``<name>+<hex key ID>+base64(type || public key)``
- skey: ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || private seed)`` (Go's
  ``note.NewSigner`` format; the key ID is always that of the *public* key)
- key ID = ``SHA-256(name || 0x0A || type || public key)[:4]`` as a big-endian uint32.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rsrp.ledger._note import b64decode_strict, is_valid_key_name
from rsrp.ledger._note_errors import MalformedKeyError, MalformedNoteError, SignatureInvalidError

__all__ = [
    "ALG_ED25519",
    "Ed25519NoteSigner",
    "Ed25519NoteVerifier",
    "KeyString",
    "format_skey",
    "format_vkey",
    "generate_note_key",
    "key_id_for",
    "split_skey",
    "split_vkey",
]

#: signed-note §Signature types: 0x01 Ed25519 note signatures.
ALG_ED25519 = 0x01

_HEX8 = re.compile(r"[0-9a-f]{8}")
#: A key string is short; anything longer (an ML-DSA-65 vkey is ~2.7 kB) is hostile.
_MAX_KEY_STRING = 8192


def key_id_for(name: str, material: bytes) -> int:
    """signed-note §Signatures: ``SHA-256(name || "\\n" || type || public key)[:4]``."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + material).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True, slots=True)
class KeyString:
    """The three parts of a vkey (or the last three of an skey)."""

    name: str
    key_id: int
    material: bytes  # type byte(s) || key bytes


def _split(parts: str, what: str) -> KeyString:
    name, sep1, rest = parts.partition("+")
    hex_id, sep2, b64 = rest.partition("+")
    if not (sep1 and sep2) or not is_valid_key_name(name):
        raise MalformedKeyError(f"malformed {what}: expected <name>+<key id>+<key>")
    if not _HEX8.fullmatch(hex_id):
        raise MalformedKeyError(f"malformed {what}: key ID must be 8 lowercase hex digits")
    try:
        material = b64decode_strict(b64, f"{what} key")
    except MalformedNoteError as e:
        raise MalformedKeyError(f"malformed {what}: {e}") from e
    if len(material) < 2:
        raise MalformedKeyError(f"malformed {what}: key material is empty")
    return KeyString(name, int(hex_id, 16), material)


def split_vkey(vkey: str) -> KeyString:
    """Parse a vkey's syntax and check its key ID (key type is the caller's)."""
    if len(vkey) > _MAX_KEY_STRING:
        raise MalformedKeyError("vkey is too long")
    ks = _split(vkey, "vkey")
    if key_id_for(ks.name, ks.material) != ks.key_id:
        raise MalformedKeyError(f"vkey key ID {ks.key_id:08x} does not match its name and key")
    return ks


def split_skey(skey: str) -> KeyString:
    """Parse an skey's syntax; the caller derives the public key and checks the ID."""
    if len(skey) > _MAX_KEY_STRING:
        raise MalformedKeyError("skey is too long")
    if not skey.startswith("PRIVATE+KEY+"):
        raise MalformedKeyError("malformed skey: must start with PRIVATE+KEY+")
    return _split(skey[len("PRIVATE+KEY+") :], "skey")


def format_vkey(name: str, material: bytes) -> str:
    """``<name>+<key ID>+base64(material)`` with the key ID computed from both."""
    if not is_valid_key_name(name):
        raise MalformedKeyError(f"invalid key name {name!r}")
    return f"{name}+{key_id_for(name, material):08x}+{base64.b64encode(material).decode()}"


def format_skey(name: str, public_material: bytes, private_material: bytes) -> str:
    """``PRIVATE+KEY+<name>+<key ID of the public key>+base64(private material)``."""
    if not is_valid_key_name(name):
        raise MalformedKeyError(f"invalid key name {name!r}")
    kid = key_id_for(name, public_material)
    return f"PRIVATE+KEY+{name}+{kid:08x}+{base64.b64encode(private_material).decode()}"


class Ed25519NoteVerifier:
    """Verifies Ed25519 note signatures (type 0x01) over the note text (RFC 8032)."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if len(public_key) != 32:
            raise MalformedKeyError(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
        if not is_valid_key_name(name):
            raise MalformedKeyError(f"invalid key name {name!r}")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id_for(name, bytes([ALG_ED25519]) + public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, bytes([ALG_ED25519]) + self.public_key)

    def verify(self, text: bytes, signature: bytes) -> None:
        if len(signature) != 64:
            raise SignatureInvalidError(self.name, self.key_id, "not 64 bytes")
        try:
            self._key.verify(signature, text)
        except InvalidSignature as e:
            raise SignatureInvalidError(self.name, self.key_id) from e


class Ed25519NoteSigner:
    """Signs note texts with an Ed25519 seed (type 0x01); deterministic, like Go."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise MalformedKeyError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
        if not is_valid_key_name(name):
            raise MalformedKeyError(f"invalid key name {name!r}")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.name = name
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = key_id_for(name, bytes([ALG_ED25519]) + self.public_key)

    @classmethod
    def from_skey(cls, skey: str) -> Ed25519NoteSigner:
        ks = split_skey(skey)
        if ks.material[0] != ALG_ED25519:
            raise MalformedKeyError(f"skey type 0x{ks.material[0]:02x} is not Ed25519 (0x01)")
        signer = cls(ks.name, ks.material[1:])
        if signer.key_id != ks.key_id:
            raise MalformedKeyError(f"skey key ID {ks.key_id:08x} does not match its key")
        return signer

    def verifier(self) -> Ed25519NoteVerifier:
        return Ed25519NoteVerifier(self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        return self._key.sign(text)


def generate_note_key(name: str) -> tuple[str, str]:
    """A fresh Ed25519 note key: ``(skey, vkey)`` as Go's ``note.GenerateKey``."""
    if not is_valid_key_name(name):
        raise MalformedKeyError(f"invalid key name {name!r}")
    priv = Ed25519PrivateKey.generate()
    pub = bytes([ALG_ED25519]) + priv.public_key().public_bytes_raw()
    seed = bytes([ALG_ED25519]) + priv.private_bytes_raw()
    return format_skey(name, pub, seed), format_vkey(name, pub)
