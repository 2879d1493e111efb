"""Signed decision proofs: R-SRP ProofEnvelope V1 (byte-exact) and the rsrp V2 envelope.

A decision becomes an envelope anyone holding the public keys can check
offline. V2 (docs/proof-envelope-v2.md) is the default: a canonical binary
format signed with the composite ML-DSA-65 + ECDSA P-384 signature, or left
unsigned in *batch* mode, where the ledger's signed checkpoint covers it and
verification needs the inclusion proof. V1 follows R-SRP
docs/PROOF_ENVELOPE_V1_SPEC.md (Ed25519, or hybrid Ed25519 + ML-DSA-44/65/87).

    >>> from rsrp.proof import StaticKeyring, KeyEntry, sign_v1, verify_envelope
    >>> from rsrp.proof import Ed25519Signer, Ed25519Verifier, ed25519_from_secret
    >>> from rsrp.policy.decision import Outcome
    >>> key = ed25519_from_secret(b"demo", "hkdf")
    >>> signer = Ed25519Signer(key, "demo-key")
    >>> env = sign_v1(signer, runtime_version=(0, 9, 1), policy_hash=b"\\x11" * 32,
    ...               bytecode_hash=b"\\x22" * 32, input_hash=b"\\x33" * 32,
    ...               state_hash=b"\\x44" * 32, decision=Outcome.BLOCK)
    >>> keyring = StaticKeyring([KeyEntry(Ed25519Verifier(key.public_key(), "demo-key"))])
    >>> verify_envelope(env.to_bytes(), keyring).envelope.decision.name
    'BLOCK'

Every decoder and ``verify_envelope`` raise only ``ProofError`` subclasses.
"""

from __future__ import annotations

from rsrp.proof._errors import (
    FieldMismatchError,
    HashMismatchError,
    KeyNotValidAtEvaluationTimeError,
    MalformedEnvelopeError,
    NeedsInclusionProofError,
    SignatureInvalidError,
    SigningFailedError,
    UnknownDecisionError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
    UnsupportedVersionError,
)
from rsrp.proof._keyring import CryptoKeyVerifier, KeyEntry, Keyring, ListableKeyring, StaticKeyring
from rsrp.proof._pool import SignerFactory, SigningPool
from rsrp.proof._sign import (
    DEFAULT_BACKEND_ID,
    seal_batch,
    sign_decision,
    sign_decision_v1,
    sign_v1,
    write_envelopes,
)
from rsrp.proof._v1 import (
    HYBRID_PAYLOAD_PREFIX,
    Ed25519MetaV1,
    EnvelopeV1,
    HybridMetaV1,
    decode_v1,
    hybrid_payload,
    key_id_hash,
    pack_runtime_version,
    unpack_runtime_version,
)
from rsrp.proof._v1_keys import (
    Ed25519Signer,
    Ed25519Verifier,
    HybridV1Signer,
    HybridV1Verifier,
    ed25519_from_secret,
)
from rsrp.proof._v2 import (
    LIMITS,
    V2_CONTEXT,
    EnvelopeV2,
    SignatureAlgorithm,
    SigningMode,
    decode_v2,
)
from rsrp.proof._verify import (
    Envelope,
    Expectation,
    VerifiedEnvelope,
    VerifiedInclusion,
    decode_envelope,
    leaf_hash,
    verify_envelope,
)

__all__ = [
    "DEFAULT_BACKEND_ID",
    "HYBRID_PAYLOAD_PREFIX",
    "LIMITS",
    "V2_CONTEXT",
    "CryptoKeyVerifier",
    "Ed25519MetaV1",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Envelope",
    "EnvelopeV1",
    "EnvelopeV2",
    "Expectation",
    "FieldMismatchError",
    "HashMismatchError",
    "HybridMetaV1",
    "HybridV1Signer",
    "HybridV1Verifier",
    "KeyEntry",
    "KeyNotValidAtEvaluationTimeError",
    "Keyring",
    "ListableKeyring",
    "MalformedEnvelopeError",
    "NeedsInclusionProofError",
    "SignatureAlgorithm",
    "SignatureInvalidError",
    "SignerFactory",
    "SigningFailedError",
    "SigningMode",
    "SigningPool",
    "StaticKeyring",
    "UnknownDecisionError",
    "UnknownKeyError",
    "UnsupportedAlgorithmError",
    "UnsupportedVersionError",
    "VerifiedEnvelope",
    "VerifiedInclusion",
    "decode_envelope",
    "decode_v1",
    "decode_v2",
    "ed25519_from_secret",
    "hybrid_payload",
    "key_id_hash",
    "leaf_hash",
    "pack_runtime_version",
    "seal_batch",
    "sign_decision",
    "sign_decision_v1",
    "sign_v1",
    "unpack_runtime_version",
    "verify_envelope",
    "write_envelopes",
]
