"""R-SRP ProofEnvelope V1: the byte-exact codec (R-SRP docs/PROOF_ENVELOPE_V1_SPEC.md §7).

Layout, all integers big-endian::

    signing_bytes   = version u8 (1) || encoding_version u8 (1) || runtime_version u32
                      || policy_hash[32] || bytecode_hash[32] || input_hash[32] || state_hash[32]
                      || decision_code u8 || signature_meta_len u16 || signature_meta
    canonical_bytes = signing_bytes || signature_len u32 || signature

Unlike R-SRP's decoder, ours rejects an unknown version, encoding version or
decision code as soon as it reads them (the spec's §8 steps 1-2), and checks the
signature sizes of the algorithm at decode time.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from dataclasses import dataclass

from rsrp.policy.decision import Outcome
from rsrp.proof._errors import (
    MalformedEnvelopeError,
    UnknownDecisionError,
    UnsupportedAlgorithmError,
    UnsupportedVersionError,
)
from rsrp.proof._wire import Reader, u16_prefixed, u32_prefixed

__all__ = [
    "ED25519_SIGNATURE_SIZE",
    "HYBRID_PAYLOAD_PREFIX",
    "MLDSA_LEVELS",
    "V1_ENCODING_VERSION",
    "V1_VERSION",
    "Ed25519MetaV1",
    "EnvelopeV1",
    "HybridMetaV1",
    "V1Algorithm",
    "decode_v1",
    "hybrid_payload",
    "key_id_hash",
    "pack_runtime_version",
    "split_hybrid_signature",
    "unpack_runtime_version",
]

V1_VERSION = 1
V1_ENCODING_VERSION = 1
HASH_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
#: Domain prefix of the hybrid payload (R-SRP crates/pqcrypto/src/hybrid.rs).
HYBRID_PAYLOAD_PREFIX = b"rsrp-hybrid-signature-v1"
#: level_code → (algorithm name, FIPS 204 signature size).
MLDSA_LEVELS: dict[int, tuple[str, int]] = {
    2: ("ml-dsa-44", 2420),
    3: ("ml-dsa-65", 3309),
    5: ("ml-dsa-87", 4627),
}
_MAX_SIGNATURE = 2 + ED25519_SIGNATURE_SIZE + max(size for _, size in MLDSA_LEVELS.values())


class V1Algorithm(enum.IntEnum):
    ED25519 = 1
    HYBRID_ED25519_MLDSA = 2


@dataclass(frozen=True, slots=True)
class Ed25519MetaV1:
    """Spec §5.1: ``algorithm_code 1 || key_id_hash``."""

    key_id_hash: bytes

    def to_bytes(self) -> bytes:
        return bytes([V1Algorithm.ED25519]) + self.key_id_hash


@dataclass(frozen=True, slots=True)
class HybridMetaV1:
    """Spec §5.2: ``algorithm_code 2 || key_id_hash || backend_id_hash || level_code``."""

    key_id_hash: bytes
    backend_id_hash: bytes
    level_code: int

    def to_bytes(self) -> bytes:
        return (
            bytes([V1Algorithm.HYBRID_ED25519_MLDSA])
            + self.key_id_hash
            + self.backend_id_hash
            + bytes([self.level_code])
        )


@dataclass(frozen=True, slots=True)
class EnvelopeV1:
    """One decoded V1 envelope; ``signature`` is the raw signature field."""

    runtime_version: int
    policy_hash: bytes
    bytecode_hash: bytes
    input_hash: bytes
    state_hash: bytes
    decision_code: int
    meta: Ed25519MetaV1 | HybridMetaV1
    signature: bytes
    version: int = V1_VERSION
    encoding_version: int = V1_ENCODING_VERSION

    @property
    def decision(self) -> Outcome:
        return Outcome(self.decision_code)

    def signing_bytes(self) -> bytes:
        """Spec §7.1: the signed part (header and signature metadata)."""
        return (
            struct.pack(">BBI", self.version, self.encoding_version, self.runtime_version)
            + self.policy_hash
            + self.bytecode_hash
            + self.input_hash
            + self.state_hash
            + bytes([self.decision_code])
            + u16_prefixed(self.meta.to_bytes())
        )

    def to_bytes(self) -> bytes:
        """Spec §7.2: ``signing_bytes || signature_len u32 || signature``."""
        return self.signing_bytes() + u32_prefixed(self.signature)


def pack_runtime_version(major: int, minor: int, patch: int) -> int:
    """``(major << 24) | (minor << 16) | patch``; requires major, minor < 256, patch < 65536."""
    if not (0 <= major <= 0xFF and 0 <= minor <= 0xFF and 0 <= patch <= 0xFFFF):
        raise ValueError(f"runtime version {major}.{minor}.{patch} does not fit the packed u32")
    return (major << 24) | (minor << 16) | patch


def unpack_runtime_version(packed: int) -> tuple[int, int, int]:
    return (packed >> 24) & 0xFF, (packed >> 16) & 0xFF, packed & 0xFFFF


def hybrid_payload(signing_bytes: bytes) -> bytes:
    """What both hybrid components sign: ``prefix || u32 len || signing_bytes``."""
    return HYBRID_PAYLOAD_PREFIX + u32_prefixed(signing_bytes)


def split_hybrid_signature(signature: bytes, level_code: int) -> tuple[bytes, bytes]:
    """Parse ``classical_len u16 || ed25519_sig || mldsa_sig`` with the level's exact sizes."""
    _, pq_size = MLDSA_LEVELS[level_code]
    reader = Reader(signature)
    classical_len = reader.u16("hybrid classical_len")
    if classical_len != ED25519_SIGNATURE_SIZE:
        raise MalformedEnvelopeError(f"hybrid classical_len is {classical_len}; Ed25519 needs 64")
    classical = reader.take(classical_len, "hybrid Ed25519 signature")
    pq = signature[reader.position :]
    if len(pq) != pq_size:
        raise MalformedEnvelopeError(
            f"hybrid ML-DSA signature is {len(pq)} bytes; level needs {pq_size}"
        )
    return classical, pq


def _decode_meta(meta: bytes) -> Ed25519MetaV1 | HybridMetaV1:
    if not meta:
        raise MalformedEnvelopeError("missing signature metadata")
    code = meta[0]
    if code == V1Algorithm.ED25519:
        if len(meta) != 1 + HASH_SIZE:
            raise MalformedEnvelopeError(
                f"Ed25519 signature metadata is {len(meta)} bytes; needs 33"
            )
        return Ed25519MetaV1(key_id_hash=meta[1:])
    if code == V1Algorithm.HYBRID_ED25519_MLDSA:
        if len(meta) != 2 + 2 * HASH_SIZE:
            raise MalformedEnvelopeError(
                f"hybrid signature metadata is {len(meta)} bytes; needs 66"
            )
        level = meta[-1]
        if level not in MLDSA_LEVELS:
            raise UnsupportedAlgorithmError(f"unknown ML-DSA level code {level}; known 2, 3, 5")
        return HybridMetaV1(key_id_hash=meta[1:33], backend_id_hash=meta[33:65], level_code=level)
    raise UnsupportedAlgorithmError(f"unknown V1 signature algorithm code {code}")


def decode_v1(data: bytes) -> EnvelopeV1:
    """Decode canonical bytes; raises only ``ProofError`` subclasses."""
    reader = Reader(bytes(data))
    version = reader.u8("version")
    if version != V1_VERSION:
        raise UnsupportedVersionError(f"envelope version {version}; this verifier implements V1")
    encoding_version = reader.u8("encoding_version")
    if encoding_version != V1_ENCODING_VERSION:
        raise UnsupportedVersionError(f"V1 encoding version {encoding_version}; supported: 1")
    runtime_version = reader.u32("runtime_version")
    hashes = [reader.take(HASH_SIZE, name) for name in ("policy", "bytecode", "input", "state")]
    decision_code = reader.u8("decision_code")
    if decision_code not in Outcome._value2member_map_:
        raise UnknownDecisionError(f"decision code {decision_code}; known 1..4")
    meta = _decode_meta(reader.take(reader.u16("signature_meta_len"), "signature_meta"))
    signature = reader.sized(reader.u32("signature_len"), _MAX_SIGNATURE, "signature")
    reader.finish("V1 envelope")
    if isinstance(meta, Ed25519MetaV1):
        if len(signature) != ED25519_SIGNATURE_SIZE:
            raise MalformedEnvelopeError(f"Ed25519 signature is {len(signature)} bytes; needs 64")
    else:
        split_hybrid_signature(signature, meta.level_code)
    return EnvelopeV1(
        runtime_version=runtime_version,
        policy_hash=hashes[0],
        bytecode_hash=hashes[1],
        input_hash=hashes[2],
        state_hash=hashes[3],
        decision_code=decision_code,
        meta=meta,
        signature=signature,
        version=version,
        encoding_version=encoding_version,
    )


def key_id_hash(key_id: str) -> bytes:
    """``SHA-256(key id UTF-8)`` as V1 metadata carries it (spec §5)."""
    return hashlib.sha256(key_id.encode("utf-8")).digest()
