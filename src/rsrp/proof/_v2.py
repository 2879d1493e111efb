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
    "BatchEncoder",
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


def _check_runtime(runtime_version: tuple[int, int, int]) -> None:
    major, minor, patch = runtime_version
    if not (0 <= major <= 0xFF and 0 <= minor <= 0xFF and 0 <= patch <= 0xFFFF):
        raise MalformedEnvelopeError(f"runtime version {runtime_version} does not fit u8.u8.u16")


def _check_micros(evaluated_at_us: int) -> None:
    if not 0 <= evaluated_at_us <= MAX_MICROS:
        raise MalformedEnvelopeError(f"evaluation time {evaluated_at_us} µs is outside 1970..9999")


def _head(
    runtime_version: tuple[int, int, int],
    jurisdiction: str,
    bundle_id: str,
    bundle_version: str,
    policy_hash: bytes,
    bytecode_hash: bytes,
) -> bytes:
    """The fields from ``magic`` through ``bytecode_hash`` (docs §2): one bundle's are
    the same in every envelope it decides."""
    major, minor, patch = runtime_version
    return b"".join(
        (
            MAGIC,
            struct.pack(">BI", V2_FORMAT_VERSION, (major << 24) | (minor << 16) | patch),
            _prefixed_once(jurisdiction),
            _prefixed_once(bundle_id),
            _prefixed_once(bundle_version),
            policy_hash,
            bytecode_hash,
        )
    )


def _tail(key_id: str, mode: SigningMode, algorithm: SignatureAlgorithm) -> bytes:
    """``key_id``, ``mode`` and ``algorithm``: the last signed fields (docs §2)."""
    return _prefixed_once(key_id) + struct.pack(">BB", mode, algorithm)


def _signing_bytes(
    head: bytes,
    input_hash: bytes,
    state_hash: bytes,
    decision: int,
    reason_code: str,
    matched: tuple[tuple[str, str], ...],
    request_id: str,
    evaluated_at_us: int,
    tail: bytes,
) -> bytes:
    return b"".join(
        (
            head,
            input_hash,
            state_hash,
            struct.pack(">B", decision),
            _prefixed_once(reason_code),
            _matched_once(matched),
            u8_prefixed(request_id.encode("ascii")),
            struct.pack(">q", evaluated_at_us),
            tail,
        )
    )


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
        _check_runtime(self.runtime_version)
        for name in ("jurisdiction", "bundle_id", "bundle_version", "reason_code", "key_id"):
            _text_once(getattr(self, name), name)
        _text(self.request_id, "request_id")
        for name in ("policy_hash", "bytecode_hash", "input_hash", "state_hash"):
            _hash(getattr(self, name), name)
        _matched_once(self.matched)
        _check_micros(self.evaluated_at_us)
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
        return _signing_bytes(
            _head(
                self.runtime_version,
                self.jurisdiction,
                self.bundle_id,
                self.bundle_version,
                self.policy_hash,
                self.bytecode_hash,
            ),
            self.input_hash,
            self.state_hash,
            self.decision,
            self.reason_code,
            self.matched,
            self.request_id,
            self.evaluated_at_us,
            _tail(self.key_id, self.mode, self.algorithm),
        )

    def to_bytes(self) -> bytes:
        return self.signing_bytes() + u32_prefixed(self.signature)


class BatchEncoder:
    """Batch-mode (unsigned) envelopes of one key, straight to bytes.

    ``encode(...)`` returns exactly ``EnvelopeV2(..., mode=BATCH,
    algorithm=NONE).to_bytes()`` and refuses what that constructor refuses, with
    the same errors; but the fields a batch shares (runtime version, bundle
    identity and hashes, key id) are checked and encoded once per distinct value,
    and no intermediate object is built. A test checks both paths agree.
    """

    __slots__ = ("_heads", "_runtime", "_tail")

    def __init__(self, runtime_version: tuple[int, int, int], key_id: str) -> None:
        _check_runtime(runtime_version)
        _text_once(key_id, "key_id")
        self._runtime = runtime_version
        # signature_len is 0: the ledger checkpoint signs batch-mode envelopes.
        self._tail = _tail(key_id, SigningMode.BATCH, SignatureAlgorithm.NONE) + bytes(4)
        self._heads: dict[tuple[str, str, str, bytes, bytes], bytes] = {}

    def _new_head(self, key: tuple[str, str, str, bytes, bytes]) -> bytes:
        jurisdiction, bundle_id, bundle_version, policy_hash, bytecode_hash = key
        _text_once(jurisdiction, "jurisdiction")
        _text_once(bundle_id, "bundle_id")
        _text_once(bundle_version, "bundle_version")
        _hash(policy_hash, "policy_hash")
        _hash(bytecode_hash, "bytecode_hash")
        head = _head(self._runtime, *key)
        self._heads[key] = head
        return head

    def encode(
        self,
        bundle: tuple[str, str, str, bytes, bytes],
        input_hash: bytes,
        state_hash: bytes,
        decision: Outcome,
        reason_code: str,
        matched: tuple[tuple[str, str], ...],
        request_id: str,
        evaluated_at_us: int,
    ) -> bytes:
        """``bundle`` is (jurisdiction, bundle_id, bundle_version, policy_hash, bytecode_hash)."""
        head = self._heads.get(bundle) or self._new_head(bundle)
        _hash(input_hash, "input_hash")
        _hash(state_hash, "state_hash")
        _text_once(reason_code, "reason_code")
        _text(request_id, "request_id")
        _check_micros(evaluated_at_us)
        return _signing_bytes(
            head,
            input_hash,
            state_hash,
            decision,
            reason_code,
            matched,  # _matched_once checks it (on first sight) as it encodes it
            request_id,
            evaluated_at_us,
            self._tail,
        )


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
