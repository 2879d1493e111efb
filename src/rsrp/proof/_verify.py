"""Offline verification of V1 and V2 envelopes; every failure raises a ``ProofError``.

Order (docs/proof-envelope-v2.md §5; R-SRP spec §8 made strict): decode (version,
encoding version and decision code first, then layout and bounds), resolve the key
and its validity at the evaluation time, verify the signature (or, for a batch
envelope, the ledger inclusion), then compare against the expected hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Literal

from rsrp.errors import KeyStoreError, ProofError
from rsrp.keys import KeyNotValidAtError
from rsrp.keys import Keyring as KeysKeyring
from rsrp.keys.signer import Verifier
from rsrp.proof._errors import (
    FieldMismatchError,
    HashMismatchError,
    KeyNotValidAtEvaluationTimeError,
    MalformedEnvelopeError,
    NeedsInclusionProofError,
    SignatureInvalidError,
    UnknownKeyError,
    UnsupportedVersionError,
)
from rsrp.proof._keyring import Keyring, ListableKeyring
from rsrp.proof._v1 import (
    MLDSA_LEVELS,
    V1_VERSION,
    EnvelopeV1,
    HybridMetaV1,
    decode_v1,
    key_id_hash,
)
from rsrp.proof._v2 import MAGIC, V2_CONTEXT, EnvelopeV2, SigningMode, decode_v2

__all__ = [
    "Envelope",
    "Expectation",
    "VerifiedEnvelope",
    "VerifiedInclusion",
    "decode_envelope",
    "leaf_hash",
    "verify_envelope",
]

Envelope = EnvelopeV1 | EnvelopeV2
#: Largest envelope accepted before decoding (V2 maximum is well below this).
MAX_ENVELOPE = 256 * 1024
#: R-SRP's mock PQ backend signs with a keyed hash anyone can recompute: never accept it.
_MOCK_BACKEND = hashlib.sha256(b"mock-crypto").digest()
COMPOSITE_ALGORITHM = "mldsa65-ecdsa-p384-sha512"


@dataclass(frozen=True, slots=True)
class Expectation:
    """Values the auditor recomputed (from the policy bundle, the input, …); None = not checked."""

    policy_hash: bytes | None = None
    bytecode_hash: bytes | None = None
    input_hash: bytes | None = None
    state_hash: bytes | None = None
    jurisdiction: str | None = None
    request_id: str | None = None
    #: V1 only: the signer key id (V1 carries only its SHA-256).
    key_id: str | None = None
    #: V1 only: when the envelope was signed, for the key validity check (V1 carries no
    #: time). None asks the keyring for its default (rsrp.keys: now; StaticKeyring: any).
    signed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class VerifiedInclusion:
    """What the ledger stage hands over after ``verify_inclusion`` against a signed checkpoint.

    ``verify_envelope`` trusts it as the caller's statement that the checkpoint
    signatures and the RFC 9162 §2.1.3 inclusion proof verified; it checks only
    that it is about these envelope bytes (``leaf_hash``).
    """

    #: RFC 6962 leaf hash SHA-256(0x00 || envelope bytes).
    leaf_hash: bytes
    leaf_index: int
    tree_size: int
    root_hash: bytes
    #: Checkpoint origin line (one log per jurisdiction).
    origin: str
    #: Key ids whose checkpoint signatures verified.
    checkpoint_key_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerifiedEnvelope:
    envelope: Envelope
    key_id: str
    algorithm: str
    #: "signature" when the envelope's own signature verified, "inclusion" for batch mode.
    evidence: Literal["signature", "inclusion"]
    inclusion: VerifiedInclusion | None = None

    @property
    def format_version(self) -> int:
        return 1 if isinstance(self.envelope, EnvelopeV1) else 2


def leaf_hash(envelope_bytes: bytes) -> bytes:
    """RFC 6962 §2.1 leaf hash of an envelope as the ledger stores it."""
    return hashlib.sha256(b"\x00" + envelope_bytes).digest()


def decode_envelope(data: bytes) -> Envelope:
    """Decode either format by its first bytes; raises only ``ProofError`` subclasses."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedEnvelopeError(f"envelope must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_ENVELOPE:
        raise MalformedEnvelopeError(f"envelope is {len(data)} bytes; at most {MAX_ENVELOPE}")
    if not data:
        raise MalformedEnvelopeError("empty envelope")
    if data[:4] == MAGIC:
        return decode_v2(data)
    if data[0] == V1_VERSION:
        return decode_v1(data)
    raise UnsupportedVersionError(f"unknown envelope version byte 0x{data[0]:02x}")


def _lookup(keyring: Keyring, key_id: str, at: dt.datetime | None) -> Verifier:
    """Ask the keyring; translate the key plane's errors into proof reasons."""
    try:
        return keyring.verifier(key_id, at=at)
    except ProofError:
        raise
    except KeyNotValidAtError as e:
        raise KeyNotValidAtEvaluationTimeError(f"key {key_id!r}: {e}") from e
    except (KeyStoreError, LookupError) as e:
        # UnknownKeyError, or a keyring that could not produce a verifier: fail closed.
        raise UnknownKeyError(f"key {key_id!r}: {e}") from e


def _component(error: BaseException) -> str:
    seen: BaseException | None = error
    while seen is not None:
        component = getattr(seen, "component", None)
        if isinstance(component, str) and component:
            low = component.lower()
            return "ml-dsa" if "ml" in low else "ecdsa" if "ec" in low else low
        seen = seen.__cause__ or seen.__context__
    return "composite"


def _check_signature(verifier: Verifier, message: bytes, signature: bytes, ctx: bytes) -> None:
    try:
        verifier.verify(message, signature, context=ctx)
    except SignatureInvalidError:
        raise
    except MalformedEnvelopeError:
        raise
    except Exception as e:  # any verifier failure is an invalid signature
        raise SignatureInvalidError(_component(e), str(e)) from e


def _v1_algorithm(env: EnvelopeV1) -> str:
    if isinstance(env.meta, HybridMetaV1):
        return "ed25519+" + MLDSA_LEVELS[env.meta.level_code][0]
    return "ed25519"


def _v1_key_id(env: EnvelopeV1, keyring: Keyring, expect: Expectation) -> str:
    candidates: tuple[str, ...] = ()
    if expect.key_id is not None:
        candidates = (expect.key_id,)
    elif isinstance(keyring, ListableKeyring):
        candidates = tuple(keyring.key_ids())
    elif isinstance(keyring, KeysKeyring):
        candidates = tuple(entry.info.key_id for entry in keyring.entries())
    for key_id in candidates:
        if key_id_hash(key_id) == env.meta.key_id_hash:
            return key_id
    raise UnknownKeyError(f"no key in the keyring has key_id_hash {env.meta.key_id_hash.hex()}")


def _verify_v1(env: EnvelopeV1, keyring: Keyring, expect: Expectation) -> VerifiedEnvelope:
    key_id = _v1_key_id(env, keyring, expect)
    verifier = _lookup(keyring, key_id, expect.signed_at)
    algorithm = _v1_algorithm(env)
    if verifier.algorithm != algorithm:
        raise SignatureInvalidError(
            "algorithm", f"key {key_id!r} is {verifier.algorithm}, not {algorithm}"
        )
    if isinstance(env.meta, HybridMetaV1) and env.meta.backend_id_hash in (
        bytes(32),
        _MOCK_BACKEND,
    ):
        raise SignatureInvalidError("ml-dsa", "backend id is unset or R-SRP's mock backend")
    _check_signature(verifier, env.signing_bytes(), env.signature, b"")
    return VerifiedEnvelope(env, key_id, algorithm, "signature")


def _verify_v2(
    env: EnvelopeV2, data: bytes, keyring: Keyring, inclusion: VerifiedInclusion | None
) -> VerifiedEnvelope:
    if inclusion is not None and inclusion.leaf_hash != leaf_hash(data):
        raise HashMismatchError("inclusion leaf_hash", leaf_hash(data), inclusion.leaf_hash)
    if env.mode is SigningMode.BATCH:
        if inclusion is None:
            raise NeedsInclusionProofError(
                "batch-mode envelope is unsigned; verify it with its ledger inclusion proof"
            )
        return VerifiedEnvelope(env, env.key_id, "none", "inclusion", inclusion)
    verifier = _lookup(keyring, env.key_id, env.evaluated_at)
    if verifier.algorithm != COMPOSITE_ALGORITHM:
        raise SignatureInvalidError(
            "algorithm", f"key {env.key_id!r} is {verifier.algorithm}, not {COMPOSITE_ALGORITHM}"
        )
    _check_signature(verifier, env.signing_bytes(), env.signature, V2_CONTEXT)
    return VerifiedEnvelope(env, env.key_id, COMPOSITE_ALGORITHM, "signature", inclusion)


def _check_expectation(env: Envelope, expect: Expectation) -> None:
    for name in ("policy_hash", "bytecode_hash", "input_hash", "state_hash"):
        wanted = getattr(expect, name)
        if wanted is not None and wanted != getattr(env, name):
            raise HashMismatchError(name, wanted, getattr(env, name))
    if isinstance(env, EnvelopeV2):
        for name in ("jurisdiction", "request_id"):
            wanted = getattr(expect, name)
            if wanted is not None and wanted != getattr(env, name):
                raise FieldMismatchError(name, wanted, getattr(env, name))


def verify_envelope(
    data: bytes,
    keyring: Keyring,
    expect: Expectation | None = None,
    *,
    inclusion: VerifiedInclusion | None = None,
) -> VerifiedEnvelope:
    """Verify an encoded V1 or V2 envelope offline, or raise the specific ``ProofError``.

    A batch-mode V2 envelope raises :class:`NeedsInclusionProofError` unless ``inclusion``
    (produced by the ledger after verifying the inclusion proof under a signed
    checkpoint) is about these exact bytes.
    """
    expect = expect or Expectation()
    env = decode_envelope(data)
    if isinstance(env, EnvelopeV1):
        verified = _verify_v1(env, keyring, expect)
    else:
        verified = _verify_v2(env, bytes(data), keyring, inclusion)
    _check_expectation(env, expect)
    return verified
