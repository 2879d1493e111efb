"""Timestamped checkpoint cosignatures, c2sp.org/tlog-cosignature.

Three cosigner kinds, each a note signer/verifier over a checkpoint text:

- type ``0x04``, Ed25519 (§Ed25519 signed message): signs
  ``"cosignature/v1\\ntime <t>\\n" || checkpoint body`` (extension lines included).
  The text must be a (strictly parsed) checkpoint body, as in torchwood.
- type ``0x06``, ML-DSA-44 (§ML-DSA-44 signed message): signs the binary
  ``cosigned_message`` (label ``subtree/v1\\n\\0``, cosigner name, timestamp, origin,
  start=0, end=size, root) with FIPS 204 pure ML-DSA and an empty context. The
  message does not cover extension lines, so ML-DSA cosigners refuse to sign, and
  verifiers reject, checkpoints that have any (tlog-checkpoint: they "SHOULD be
  empty"; torchwood does the same).
- type ``0xff`` + identifier ``rsrp/tlog-cosignature/ml-dsa-65@v1`` (signed-note
  §Signature types allows 0xff "followed by a longer identifier"): an rsrp
  extension for NIST level 3 deployments. Same ``cosigned_message`` as ML-DSA-44,
  signed with ML-DSA-65; key ID = SHA-256(name || 0x0A || 0xff || identifier ||
  1952-byte public key)[:4]; the vkey material is ``0xff || identifier || key``.

The signature is ``u64 timestamp || signature`` (``timestamped_signature``).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rsrp.ledger._checkpoint import Checkpoint, parse_checkpoint
from rsrp.ledger._note import NoteSignature, is_valid_key_name
from rsrp.ledger._note_errors import CheckpointError, MalformedKeyError, SignatureInvalidError
from rsrp.ledger._note_keys import key_id_for

__all__ = [
    "COSIG_ED25519",
    "COSIG_MLDSA44",
    "COSIG_MLDSA65_TYPE",
    "MAX_TIMESTAMP",
    "CosignatureKind",
    "CosignatureSigner",
    "CosignatureVerifier",
    "check_cosigner_name",
    "cosignature_timestamp",
    "cosigned_message",
    "ed25519_cosignature_message",
]

COSIG_ED25519 = b"\x04"
COSIG_MLDSA44 = b"\x06"
#: rsrp's ML-DSA-65 cosignature: 0xff then an identifier (signed-note §Signature types).
COSIG_MLDSA65_TYPE = b"\xffrsrp/tlog-cosignature/ml-dsa-65@v1"
#: tlog-cosignature §Format: the timestamp MUST NOT exceed 2^63 - 1.
MAX_TIMESTAMP = 2**63 - 1
_SUBTREE_LABEL = b"subtree/v1\n\x00"


def ed25519_cosignature_message(text: bytes, timestamp: int) -> bytes:
    """tlog-cosignature §Ed25519 signed message: header, time line, checkpoint body."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def cosigned_message(cosigner: str, timestamp: int, checkpoint: Checkpoint) -> bytes:
    """tlog-cosignature §ML-DSA-44 signed message: ``cosigned_message`` for a whole checkpoint.

    Requires 1 <= len(name), len(origin) <= 255 bytes; start is 0, end is the size.
    """
    name = cosigner.encode("utf-8")
    origin = checkpoint.origin.encode("utf-8")
    if not 1 <= len(name) <= 255 or not 1 <= len(origin) <= 255:
        raise CheckpointError("cosigner name and log origin must be 1..255 bytes")
    return b"".join(
        (
            _SUBTREE_LABEL,
            bytes([len(name)]),
            name,
            struct.pack(">Q", timestamp),
            bytes([len(origin)]),
            origin,
            struct.pack(">QQ", 0, checkpoint.size),
            checkpoint.root_hash,
        )
    )


def cosignature_timestamp(sig: NoteSignature) -> int:
    """The ``timestamped_signature.timestamp`` of a cosignature line (not verified here)."""
    if len(sig.signature) < 8:
        raise SignatureInvalidError(sig.name, sig.key_id, "shorter than a timestamp")
    return int.from_bytes(sig.signature[:8], "big")


def check_cosigner_name(kind: CosignatureKind, name: str) -> None:
    """A valid note key name; for the ML-DSA kinds also ``cosigner_name<1..2^8-1>`` (§ML-DSA-44
    signed message), so a too-long name fails when the key is loaded, not at each signature."""
    if not is_valid_key_name(name):
        raise MalformedKeyError(f"invalid cosigner name {name!r}")
    if kind.type_bytes != COSIG_ED25519 and len(name.encode("utf-8")) > 255:
        raise MalformedKeyError(f"{kind.label} cosigner names are at most 255 bytes")


@dataclass(frozen=True, slots=True)
class CosignatureKind:
    """One cosignature algorithm: its type bytes, key and signature sizes."""

    label: str
    type_bytes: bytes
    public_key_size: int
    signature_size: int

    def message(self, name: str, text: bytes, timestamp: int) -> bytes:
        """The signed message for ``text``, which must be a checkpoint body (§Format).

        Raises :class:`CheckpointError` for any other text, and for an ML-DSA kind on a
        checkpoint with extension lines: ``cosigned_message`` does not cover them, so a
        third party could add lines under a valid signature (torchwood refuses these too).
        """
        try:
            cp = parse_checkpoint(text)
        except CheckpointError as e:
            raise CheckpointError(f"{self.label} cosigns checkpoints only: {e}") from e
        if self.type_bytes == COSIG_ED25519:
            # A strictly parsed checkpoint re-encodes to the same bytes, so ``text`` is the
            # "whole note body of the cosigned checkpoint" the spec signs, extensions included.
            return ed25519_cosignature_message(text, timestamp)
        if cp.extensions:
            raise CheckpointError(
                f"{self.label} cosignatures do not cover extension lines; "
                "refusing a checkpoint that has some"
            )
        return cosigned_message(name, timestamp, cp)


ED25519 = CosignatureKind("Ed25519 cosignature/v1", COSIG_ED25519, 32, 64)
MLDSA44 = CosignatureKind("ML-DSA-44 subtree/v1", COSIG_MLDSA44, 1312, 2420)
MLDSA65 = CosignatureKind("ML-DSA-65 subtree/v1 (rsrp)", COSIG_MLDSA65_TYPE, 1952, 3309)
KINDS: tuple[CosignatureKind, ...] = (ED25519, MLDSA44, MLDSA65)

_PUBLIC: dict[bytes, Callable[[bytes], object]] = {
    COSIG_ED25519: Ed25519PublicKey.from_public_bytes,
    COSIG_MLDSA44: mldsa.MLDSA44PublicKey.from_public_bytes,
    COSIG_MLDSA65_TYPE: mldsa.MLDSA65PublicKey.from_public_bytes,
}


class CosignatureVerifier:
    """Verifies timestamped cosignatures of one cosigner key (tlog-cosignature §Format)."""

    __slots__ = ("_key", "key_id", "kind", "name", "public_key")

    def __init__(self, kind: CosignatureKind, name: str, public_key: bytes) -> None:
        check_cosigner_name(kind, name)
        if len(public_key) != kind.public_key_size:
            raise MalformedKeyError(
                f"{kind.label} public key is {kind.public_key_size} bytes, got {len(public_key)}"
            )
        try:
            self._key = _PUBLIC[kind.type_bytes](public_key)
        except ValueError as e:
            raise MalformedKeyError(f"invalid {kind.label} public key") from e
        self.kind = kind
        self.name = name
        self.public_key = public_key
        self.key_id = key_id_for(name, kind.type_bytes + public_key)

    def verify(self, text: bytes, signature: bytes) -> None:
        kind = self.kind
        if len(signature) != 8 + kind.signature_size:
            raise SignatureInvalidError(self.name, self.key_id, f"not a {kind.label} signature")
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            raise SignatureInvalidError(self.name, self.key_id, "timestamp exceeds 2^63-1")
        try:
            message = kind.message(self.name, text, timestamp)
        except CheckpointError as e:
            # As torchwood's verifier: a cosignature over anything else is simply invalid.
            raise SignatureInvalidError(self.name, self.key_id, str(e)) from e
        try:
            # Empty FIPS 204 context: the spec names none (checked against torchwood's vector).
            self._key.verify(signature[8:], message)  # type: ignore[attr-defined]
        except InvalidSignature as e:
            raise SignatureInvalidError(self.name, self.key_id) from e


class CosignatureSigner:
    """Produces timestamped cosignatures with one cosigner key.

    ``clock`` returns POSIX seconds; injectable so fixtures are reproducible.
    """

    __slots__ = ("_key", "clock", "key_id", "kind", "name", "public_key", "seed")

    _PRIVATE: ClassVar[dict[bytes, Callable[[bytes], object]]] = {
        COSIG_ED25519: Ed25519PrivateKey.from_private_bytes,
        COSIG_MLDSA44: mldsa.MLDSA44PrivateKey.from_seed_bytes,
        COSIG_MLDSA65_TYPE: mldsa.MLDSA65PrivateKey.from_seed_bytes,
    }

    def __init__(
        self,
        kind: CosignatureKind,
        name: str,
        seed: bytes,
        clock: Callable[[], int] | None = None,
    ) -> None:
        check_cosigner_name(kind, name)
        if len(seed) != 32:
            raise MalformedKeyError(f"a {kind.label} seed is 32 bytes, got {len(seed)}")
        self._key = self._PRIVATE[kind.type_bytes](seed)
        self.kind = kind
        self.name = name
        self.seed = seed
        self.public_key: bytes = self._key.public_key().public_bytes_raw()  # type: ignore[attr-defined]
        self.key_id = key_id_for(name, kind.type_bytes + self.public_key)
        self.clock: Callable[[], int] = clock or (lambda: int(time.time()))

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.kind, self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        timestamp = self.clock()
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise CheckpointError(f"cosignature timestamp {timestamp} out of range")
        message = self.kind.message(self.name, text, timestamp)
        sig: bytes = self._key.sign(message)  # type: ignore[attr-defined]
        return struct.pack(">Q", timestamp) + sig
