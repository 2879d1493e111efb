"""rsrp envelope V2: the canonical binary codec (docs/proof-envelope-v2.md §2).

Fixed field order, big-endian integers, length-prefixed printable-ASCII strings
with per-field bounds, no trailing bytes. ``signing_bytes`` is every field up to
and including the signature algorithm; the full envelope appends
``signature_len u32 || signature``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import struct
from dataclasses import dataclass

from rsrp.policy.decision import Outcome
from rsrp.proof._errors import (
    MalformedEnvelopeError,
    UnknownDecisionError,
    UnsupportedAlgorithmError,
    UnsupportedVersionError,
)
from rsrp.proof._wire import Reader, ascii_field, u8_prefixed, u32_prefixed

__all__ = [
    "LIMITS",
    "MAGIC",
    "V2_CONTEXT",
    "V2_FORMAT_VERSION",
    "EnvelopeV2",
    "SignatureAlgorithm",
    "SigningMode",
    "decode_v2",
]

MAGIC = b"RSRP"
V2_FORMAT_VERSION = 2
#: Composite-signature application context (draft-ietf-lamps-pq-composite-sigs ``ctx``).
V2_CONTEXT = b"rsrp-envelope-v2"
HASH_SIZE = 32
MLDSA65_SIGNATURE_SIZE = 3309
#: DER ECDSA P-384 signatures are 8..104 bytes.
COMPOSITE_SIGNATURE_RANGE = (MLDSA65_SIGNATURE_SIZE + 8, MLDSA65_SIGNATURE_SIZE + 104)
MAX_MATCHED = 256
#: Byte bounds of each text field (docs/proof-envelope-v2.md §3).
LIMITS: dict[str, int] = {
    "jurisdiction": 32,
    "bundle_id": 128,
    "bundle_version": 64,
    "reason_code": 64,
    "rule_id": 128,
    "rule_version": 64,
    "request_id": 128,
    "key_id": 128,
}
#: 0001-01-01 .. 9999-12-31 are the datetimes Python can represent; we accept 1970..9999.
MAX_MICROS = 253_402_300_799_999_999
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class SigningMode(enum.IntEnum):
    PER_DECISION = 1
    BATCH = 2

    @property
    def label(self) -> str:
        return "per-decision" if self is SigningMode.PER_DECISION else "batch"


class SignatureAlgorithm(enum.IntEnum):
    #: Batch mode: the ledger's signed checkpoint covers the envelope.
    NONE = 0
    #: id-MLDSA65-ECDSA-P384-SHA512 (draft-ietf-lamps-pq-composite-sigs).
    MLDSA65_ECDSA_P384_SHA512 = 1

    @property
    def label(self) -> str:
        return "none" if self is SignatureAlgorithm.NONE else "mldsa65-ecdsa-p384-sha512"


def _text(value: str, what: str) -> bytes:
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError as e:
        raise MalformedEnvelopeError(f"{what} must be printable ASCII") from e
    ascii_field(raw, what, minimum=1, maximum=LIMITS[what])
    return raw


# The bundle's identity, the reason codes, the matched rules and the key id repeat
# across millions of envelopes: validate and encode each distinct value once. Only
# valid values are cached (an invalid one raises, and lru_cache keeps no result).
_text_once = functools.lru_cache(maxsize=4096)(_text)


@functools.lru_cache(maxsize=4096)
def _prefixed_once(value: str) -> bytes:
    return u8_prefixed(value.encode("ascii"))


@functools.lru_cache(maxsize=4096)
def _matched_once(matched: tuple[tuple[str, str], ...]) -> bytes:
    """Check and encode the matched-rules list: count u16, then each id and version."""
    if len(matched) > MAX_MATCHED:
        raise MalformedEnvelopeError(f"{len(matched)} matched rules; at most {MAX_MATCHED}")
    parts = [struct.pack(">H", len(matched))]
    for rule_id, version in matched:
        parts.append(u8_prefixed(_text(rule_id, "rule_id")))
        parts.append(u8_prefixed(_text(version, "rule_version")))
    return b"".join(parts)


def _hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise MalformedEnvelopeError(f"{what} is {len(value)} bytes; needs 32")
    if value == bytes(HASH_SIZE):
        raise MalformedEnvelopeError(f"{what} is all zeros (an unset hash is never valid)")


@dataclass(frozen=True, slots=True)
class EnvelopeV2:
    """One V2 envelope; construction validates every field (so does decoding)."""

    runtime_version: tuple[int, int, int]
    jurisdiction: str
    bundle_id: str
    bundle_version: str
    policy_hash: bytes
    bytecode_hash: bytes
    input_hash: bytes
    state_hash: bytes
    decision: Outcome
    reason_code: str
    #: (rule id, rule version) of each matched rule, in decision order.
    matched: tuple[tuple[str, str], ...]
    request_id: str
    #: Evaluation time, microseconds since 1970-01-01T00:00:00Z.
    evaluated_at_us: int
    key_id: str
    mode: SigningMode
    algorithm: SignatureAlgorithm
    signature: bytes = b""

    def __post_init__(self) -> None:
        major, minor, patch = self.runtime_version
        if not (0 <= major <= 0xFF and 0 <= minor <= 0xFF and 0 <= patch <= 0xFFFF):
            raise MalformedEnvelopeError(
                f"runtime version {self.runtime_version} does not fit u8.u8.u16"
            )
        for name in ("jurisdiction", "bundle_id", "bundle_version", "reason_code", "key_id"):
            _text_once(getattr(self, name), name)
        _text(self.request_id, "request_id")
        for name in ("policy_hash", "bytecode_hash", "input_hash", "state_hash"):
            _hash(getattr(self, name), name)
        _matched_once(self.matched)
        if not 0 <= self.evaluated_at_us <= MAX_MICROS:
            raise MalformedEnvelopeError(
                f"evaluation time {self.evaluated_at_us} µs is outside 1970..9999"
            )
        self._check_signature_shape()

    def _check_signature_shape(self) -> None:
        batch = self.mode is SigningMode.BATCH
        if batch != (self.algorithm is SignatureAlgorithm.NONE):
            raise MalformedEnvelopeError(
                f"mode {self.mode.label} cannot use signature algorithm {self.algorithm.label}"
            )
        if batch and self.signature:
            raise MalformedEnvelopeError("a batch-mode envelope carries no signature")

    @property
    def evaluated_at(self) -> dt.datetime:
        return _EPOCH + dt.timedelta(microseconds=self.evaluated_at_us)

    def signing_bytes(self) -> bytes:
        """Every field before ``signature_len`` (docs/proof-envelope-v2.md §2)."""
        major, minor, patch = self.runtime_version
        return b"".join(
            (
                MAGIC,
                struct.pack(">BI", V2_FORMAT_VERSION, (major << 24) | (minor << 16) | patch),
                _prefixed_once(self.jurisdiction),
                _prefixed_once(self.bundle_id),
                _prefixed_once(self.bundle_version),
                self.policy_hash,
                self.bytecode_hash,
                self.input_hash,
                self.state_hash,
                struct.pack(">B", self.decision),
                _prefixed_once(self.reason_code),
                _matched_once(self.matched),
                u8_prefixed(self.request_id.encode("ascii")),
                struct.pack(">q", self.evaluated_at_us),
                _prefixed_once(self.key_id),
                struct.pack(">BB", self.mode, self.algorithm),
            )
        )

    def to_bytes(self) -> bytes:
        return self.signing_bytes() + u32_prefixed(self.signature)


def _read_text(reader: Reader, what: str) -> str:
    raw = reader.take(reader.u8(f"{what} length"), what)
    return ascii_field(raw, what, minimum=1, maximum=LIMITS[what])


def decode_v2(data: bytes) -> EnvelopeV2:
    """Decode a V2 envelope; raises only ``ProofError`` subclasses (docs §2, §4)."""
    reader = Reader(bytes(data))
    if reader.take(4, "magic") != MAGIC:
        raise MalformedEnvelopeError("not an rsrp V2 envelope (magic is not 'RSRP')")
    version = reader.u8("format_version")
    if version != V2_FORMAT_VERSION:
        raise UnsupportedVersionError(f"rsrp envelope format version {version}; supported: 2")
    packed = reader.u32("runtime_version")
    runtime = ((packed >> 24) & 0xFF, (packed >> 16) & 0xFF, packed & 0xFFFF)
    jurisdiction = _read_text(reader, "jurisdiction")
    bundle_id = _read_text(reader, "bundle_id")
    bundle_version = _read_text(reader, "bundle_version")
    hashes = [reader.take(HASH_SIZE, n) for n in ("policy", "bytecode", "input", "state")]
    code = reader.u8("decision")
    if code not in Outcome._value2member_map_:
        raise UnknownDecisionError(f"decision code {code}; known 1..4")
    reason = _read_text(reader, "reason_code")
    count = reader.u16("matched count")
    if count > MAX_MATCHED:
        raise MalformedEnvelopeError(f"{count} matched rules; at most {MAX_MATCHED}")
    matched = tuple(
        (_read_text(reader, "rule_id"), _read_text(reader, "rule_version")) for _ in range(count)
    )
    request_id = _read_text(reader, "request_id")
    evaluated = reader.i64("evaluated_at")
    key_id = _read_text(reader, "key_id")
    mode_code = reader.u8("signing mode")
    if mode_code not in SigningMode._value2member_map_:
        raise MalformedEnvelopeError(f"signing mode {mode_code}; known 1 per-decision, 2 batch")
    alg_code = reader.u8("signature algorithm")
    if alg_code not in SignatureAlgorithm._value2member_map_:
        raise UnsupportedAlgorithmError(
            f"signature algorithm {alg_code}; known 0 none, 1 composite"
        )
    algorithm = SignatureAlgorithm(alg_code)
    low, high = (0, 0) if algorithm is SignatureAlgorithm.NONE else COMPOSITE_SIGNATURE_RANGE
    signature = reader.sized(reader.u32("signature_len"), high, "signature")
    if len(signature) < low:
        raise MalformedEnvelopeError(
            f"signature is {len(signature)} bytes; the algorithm needs >= {low}"
        )
    reader.finish("V2 envelope")
    return EnvelopeV2(
        runtime_version=runtime,
        jurisdiction=jurisdiction,
        bundle_id=bundle_id,
        bundle_version=bundle_version,
        policy_hash=hashes[0],
        bytecode_hash=hashes[1],
        input_hash=hashes[2],
        state_hash=hashes[3],
        decision=Outcome(code),
        reason_code=reason,
        matched=matched,
        request_id=request_id,
        evaluated_at_us=evaluated,
        key_id=key_id,
        mode=SigningMode(mode_code),
        algorithm=algorithm,
        signature=signature,
    )
