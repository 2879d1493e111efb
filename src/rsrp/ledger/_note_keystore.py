"""Note signers backed by the key plane (``rsrp.keys.Signer``: software store or HSM).

The log's checkpoint keys should live in a KeyStore (STYLE point 8), not in skey
strings. These adapters never see key material: they ask the store's signer to
sign the exact bytes the C2SP formats define, and refuse a key of the wrong
algorithm or jurisdiction (the store itself refuses an inactive key).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from rsrp.keys.signer import Signer
from rsrp.ledger._cosignature import (
    ED25519,
    MAX_TIMESTAMP,
    MLDSA44,
    MLDSA65,
    CosignatureKind,
    CosignatureVerifier,
    check_cosigner_name,
)
from rsrp.ledger._note_errors import MalformedKeyError
from rsrp.ledger._note_keys import ALG_ED25519, Ed25519NoteVerifier, format_vkey, key_id_for

__all__ = ["KeyStoreCosigner", "KeyStoreNoteSigner"]

_COSIGN_KINDS: dict[str, CosignatureKind] = {
    "ed25519": ED25519,
    "ml-dsa-44": MLDSA44,
    "ml-dsa-65": MLDSA65,
}


def _raw_public(signer: Signer) -> bytes:
    key = load_der_public_key(signer.public_key_der())
    if isinstance(
        key,
        ed25519.Ed25519PublicKey | mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey,
    ):
        return key.public_bytes_raw()
    raise MalformedKeyError(f"key {signer.key_id!r} ({signer.algorithm}) cannot sign notes")


class KeyStoreNoteSigner:
    """Ed25519 note signatures (type 0x01) by a KeyStore key, for one jurisdiction."""

    __slots__ = ("_signer", "jurisdiction", "key_id", "name", "public_key")

    def __init__(self, name: str, signer: Signer) -> None:
        if signer.algorithm != "ed25519":
            raise MalformedKeyError(
                f"note keys are Ed25519; {signer.key_id!r} is {signer.algorithm}"
            )
        self._signer = signer
        self.name = name
        self.jurisdiction = signer.jurisdiction
        self.public_key = _raw_public(signer)
        self.key_id = key_id_for(name, bytes([ALG_ED25519]) + self.public_key)
        Ed25519NoteVerifier(name, self.public_key)  # validates the name

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, bytes([ALG_ED25519]) + self.public_key)

    def sign(self, text: bytes) -> bytes:
        return self._signer.sign(text, jurisdiction=self.jurisdiction)


class KeyStoreCosigner:
    """Timestamped cosignatures (0x04, 0x06, or rsrp's 0xff ML-DSA-65) by a KeyStore key."""

    __slots__ = ("_signer", "clock", "jurisdiction", "key_id", "kind", "name", "public_key")

    def __init__(self, name: str, signer: Signer, clock: Callable[[], int] | None = None) -> None:
        kind = _COSIGN_KINDS.get(signer.algorithm)
        if kind is None:
            raise MalformedKeyError(f"no cosignature type for {signer.algorithm}")
        check_cosigner_name(kind, name)
        self._signer = signer
        self.kind = kind
        self.name = name
        self.jurisdiction = signer.jurisdiction
        self.public_key = _raw_public(signer)
        self.key_id = key_id_for(name, kind.type_bytes + self.public_key)
        self.clock: Callable[[], int] = clock or (lambda: int(time.time()))

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.kind, self.name, self.public_key)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, self.kind.type_bytes + self.public_key)

    def sign(self, text: bytes) -> bytes:
        timestamp = self.clock()
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise MalformedKeyError(f"cosignature timestamp {timestamp} out of range")
        message = self.kind.message(self.name, text, timestamp)
        # FIPS 204 pure ML-DSA with an empty context, as tlog-cosignature specifies.
        sig = self._signer.sign(message, context=b"", jurisdiction=self.jurisdiction)
        return struct.pack(">Q", timestamp) + sig
