"""From key strings to note signers and verifiers, by signature type.

Supported types: 0x01 Ed25519 note signatures, 0x04 Ed25519 cosignatures,
0x06 ML-DSA-44 cosignatures, 0xff+``rsrp/tlog-cosignature/ml-dsa-65@v1``.
skeys carry the 32-byte seed after the same type bytes as the vkey.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from rsrp.ledger._cosignature import KINDS, CosignatureKind, CosignatureSigner, CosignatureVerifier
from rsrp.ledger._note import NoteSigner, NoteVerifier
from rsrp.ledger._note_errors import MalformedKeyError
from rsrp.ledger._note_keys import (
    ALG_ED25519,
    Ed25519NoteSigner,
    Ed25519NoteVerifier,
    format_skey,
    format_vkey,
    generate_note_key,
    split_skey,
    split_vkey,
)

__all__ = ["KEY_TYPES", "generate_key", "signer_from_skey", "verifier_from_vkey", "verifiers"]

#: Names accepted by :func:`generate_key` and the CLI.
KEY_TYPES = ("ed25519", "cosignature-ed25519", "cosignature-mldsa44", "cosignature-mldsa65")
_BY_NAME: dict[str, CosignatureKind] = dict(zip(KEY_TYPES[1:], KINDS, strict=True))


def _kind_of(material: bytes) -> tuple[CosignatureKind, bytes] | None:
    # Longest type prefix first: 0xff types carry an identifier after the byte.
    for kind in sorted(KINDS, key=lambda k: -len(k.type_bytes)):
        if material.startswith(kind.type_bytes):
            return kind, material[len(kind.type_bytes) :]
    return None


def verifier_from_vkey(vkey: str) -> NoteVerifier:
    """Build the verifier a vkey describes (signed-note §Verifier keys)."""
    ks = split_vkey(vkey)
    if ks.material[0] == ALG_ED25519:
        return Ed25519NoteVerifier(ks.name, ks.material[1:])
    found = _kind_of(ks.material)
    if found is None:
        raise MalformedKeyError(f"vkey has unknown signature type 0x{ks.material[0]:02x}")
    kind, key = found
    return CosignatureVerifier(kind, ks.name, key)


def verifiers(vkeys: Sequence[str]) -> list[NoteVerifier]:
    """Verifiers for every vkey (each must parse)."""
    return [verifier_from_vkey(v) for v in vkeys]


def signer_from_skey(skey: str, clock: Callable[[], int] | None = None) -> NoteSigner:
    """Build the signer an skey describes; its key ID is checked against the derived key."""
    ks = split_skey(skey)
    signer: Ed25519NoteSigner | CosignatureSigner
    if ks.material[0] == ALG_ED25519:
        signer = Ed25519NoteSigner(ks.name, ks.material[1:])
    else:
        found = _kind_of(ks.material)
        if found is None:
            raise MalformedKeyError(f"skey has unknown signature type 0x{ks.material[0]:02x}")
        kind, seed = found
        signer = CosignatureSigner(kind, ks.name, seed, clock)
    if signer.key_id != ks.key_id:
        raise MalformedKeyError(f"skey key ID {ks.key_id:08x} does not match its key")
    return signer


def generate_key(name: str, key_type: str = "ed25519") -> tuple[str, str]:
    """A fresh key pair as ``(skey, vkey)`` for one of :data:`KEY_TYPES`."""
    if key_type == "ed25519":
        return generate_note_key(name)
    kind = _BY_NAME.get(key_type)
    if kind is None:
        raise MalformedKeyError(f"unknown key type {key_type!r}; one of {', '.join(KEY_TYPES)}")
    # Both an Ed25519 seed (RFC 8032 §5.1.5) and an ML-DSA seed xi (FIPS 204 §6.1) are 32
    # bytes straight from the OS CSPRNG.
    seed = os.urandom(32)
    signer = CosignatureSigner(kind, name, seed)
    public = kind.type_bytes + signer.public_key
    return format_skey(name, public, kind.type_bytes + seed), format_vkey(name, public)
