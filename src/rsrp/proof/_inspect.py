"""Reading envelope files (raw, hex or base64, auto-detected) and rendering them as JSON."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from rsrp.canonical import canonical_hash
from rsrp.errors import ConfigError
from rsrp.policy import Engine
from rsrp.proof._errors import MalformedEnvelopeError
from rsrp.proof._v1 import EnvelopeV1, HybridMetaV1, split_hybrid_signature, unpack_runtime_version
from rsrp.proof._v2 import EnvelopeV2
from rsrp.proof._verify import MAX_ENVELOPE, Envelope, Expectation, leaf_hash

__all__ = ["envelope_to_json", "expectation_from_policy", "read_envelope_bytes"]

_HEX = re.compile(rb"(?:[0-9a-fA-F]{2})+")
_B64 = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_WS = re.compile(rb"\s+")


def read_envelope_bytes(raw: bytes) -> bytes:
    """Raw binary, or hex / base64 text (whitespace ignored), detected unambiguously:
    a raw envelope starts with 0x01 (V1) or ``RSRP`` followed by 0x02 (V2), which is
    neither hex nor base64 text."""
    if len(raw) > 3 * MAX_ENVELOPE:
        raise MalformedEnvelopeError(f"file is {len(raw)} bytes; too large for an envelope")
    text = _WS.sub(b"", raw)
    if text and _HEX.fullmatch(text):
        return binascii.unhexlify(text)
    if text and len(text) % 4 == 0 and _B64.fullmatch(text):
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as e:
            raise MalformedEnvelopeError(f"base64 text does not decode: {e}") from e
    return raw


def _v1_json(env: EnvelopeV1) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": "rsrp-proof-envelope-v1 (R-SRP)",
        "version": env.version,
        "encoding_version": env.encoding_version,
        "runtime_version": ".".join(map(str, unpack_runtime_version(env.runtime_version))),
        "runtime_version_packed_hex": f"{env.runtime_version:08x}",
        "decision": env.decision.name,
        "decision_code": env.decision_code,
        "key_id_hash": env.meta.key_id_hash.hex(),
    }
    if isinstance(env.meta, HybridMetaV1):
        classical, pq = split_hybrid_signature(env.signature, env.meta.level_code)
        out |= {
            "signature_algorithm": "hybrid-ed25519+ml-dsa",
            "backend_id_hash": env.meta.backend_id_hash.hex(),
            "level_code": env.meta.level_code,
            "ed25519_signature": classical.hex(),
            "ml_dsa_signature": pq.hex(),
        }
    else:
        out |= {"signature_algorithm": "ed25519", "ed25519_signature": env.signature.hex()}
    return out


def _v2_json(env: EnvelopeV2) -> dict[str, Any]:
    return {
        "format": "rsrp-envelope-v2",
        "runtime_version": ".".join(map(str, env.runtime_version)),
        "jurisdiction": env.jurisdiction,
        "bundle_id": env.bundle_id,
        "bundle_version": env.bundle_version,
        "decision": env.decision.name,
        "decision_code": int(env.decision),
        "reason_code": env.reason_code,
        "matched": [{"rule_id": r, "version": v} for r, v in env.matched],
        "request_id": env.request_id,
        "evaluated_at": env.evaluated_at.isoformat().replace("+00:00", "Z"),
        "evaluated_at_us": env.evaluated_at_us,
        "key_id": env.key_id,
        "signing_mode": env.mode.label,
        "signature_algorithm": env.algorithm.label,
        "signature": env.signature.hex(),
    }


def envelope_to_json(env: Envelope, data: bytes) -> dict[str, Any]:
    """Every field of ``env`` (hashes and signatures as hex) plus digests of ``data``."""
    body = _v1_json(env) if isinstance(env, EnvelopeV1) else _v2_json(env)
    for name in ("policy_hash", "bytecode_hash", "input_hash", "state_hash"):
        body[name] = getattr(env, name).hex()
    body["signature_len"] = len(env.signature)
    body["signing_bytes_sha256"] = hashlib.sha256(env.signing_bytes()).hexdigest()
    body["envelope_len"] = len(data)
    body["envelope_sha256"] = hashlib.sha256(data).hexdigest()
    body["rfc6962_leaf_hash"] = leaf_hash(data).hex()
    return body


def expectation_from_policy(bundle: Path, input_json: Path | None) -> Expectation:
    """Recompute ``policy_hash`` and ``bytecode_hash`` by compiling ``bundle``, and
    ``input_hash`` = canonical hash of the schema-validated request
    (docs/canonical-hashing.md §4). JSON numbers with a fraction are decimals."""
    engine = Engine.load(bundle)
    if input_json is None:
        return Expectation(policy_hash=engine.policy_hash, bytecode_hash=engine.bytecode_hash)
    try:
        data = json.loads(input_json.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read input {input_json}: {e}") from e
    return Expectation(
        policy_hash=engine.policy_hash,
        bytecode_hash=engine.bytecode_hash,
        input_hash=canonical_hash(engine.validate(data)),  # type: ignore[arg-type]
    )
