"""Envelope throughput: encode, decode, sign (Ed25519 V1, composite V2), verify, signing pool.

    PYTHONPATH=src python bench/proofs.py [--n 400]

Prints figures, asserts nothing. The "raw primitive" rows are the bare
``rsrp.crypto`` / ``cryptography`` calls on the same bytes, so the envelope
overhead (encoding, hashing, checks) is the difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ed25519

from rsrp.canonical import canonical_hash
from rsrp.crypto import PrivateKey, PublicKey, load_private_key
from rsrp.policy.decision import Decision, MatchedRule, Outcome, Severity
from rsrp.proof import (
    V2_CONTEXT,
    Ed25519Signer,
    Ed25519Verifier,
    KeyEntry,
    SigningPool,
    StaticKeyring,
    decode_v1,
    decode_v2,
    sign_decision,
    sign_v1,
    verify_envelope,
)
from rsrp.proof._keyring import CryptoKeyVerifier

_KEY_FILE = os.environ.get("RSRP_BENCH_KEY", "")


class CryptoSigner:
    """Bench-only ``Signer`` over an in-memory rsrp.crypto key (rsrp.keys has the real stores)."""

    def __init__(self, key: PrivateKey, key_id: str = "bench-fr", jurisdiction: str = "FR") -> None:
        self._key, self.key_id, self.jurisdiction, self.algorithm = (
            key,
            key_id,
            jurisdiction,
            key.algorithm,
        )

    def public_key_der(self) -> bytes:
        return self._key.public_key().spki_der()

    def public_key(self) -> PublicKey:
        return self._key.public_key()

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        return self._key.sign(message, context)


def make_signer() -> CryptoSigner:
    """Picklable factory: each pool worker loads the same PKCS#8 key from RSRP_BENCH_KEY."""
    with open(os.environ["RSRP_BENCH_KEY"], "rb") as f:
        return CryptoSigner(load_private_key(f.read()))


def rate(label: str, fn: Callable[[], object], n: int) -> float:
    fn()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    per_s = n / (time.perf_counter() - start)
    cpu_us = 1e6 * (time.process_time() - cpu) / n
    print(f"  {label:<44} {per_s:>10,.0f} /s wall {1e6 / per_s:>8.1f} µs  cpu {cpu_us:>8.1f} µs")
    return per_s


def decision() -> Decision:
    rule = MatchedRule("quota-hour", "1.0.0", Outcome.BLOCK, "VOLUME_QUOTA_EXCEEDED", Severity.HIGH)
    return Decision(
        outcome=Outcome.BLOCK,
        code="VOLUME_QUOTA_EXCEEDED",
        message="",
        matched=(rule,),
        explanation=(),
        decided_by="quota-hour",
        bundle_id="bank-registry",
        bundle_version="1.2.0",
        jurisdiction="FR",
        policy_hash=hashlib.sha256(b"p").digest(),
        bytecode_hash=hashlib.sha256(b"b").digest(),
        input_hash=canonical_hash({"q": 1}),
        evaluated_at=dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.UTC),
    )


def pool_rate(kind: str, n: int) -> None:
    d, state = decision(), canonical_hash({})
    items = [(d, f"req-{i}", state) for i in range(n)]
    with SigningPool(make_signer, workers=2, kind=kind) as pool:  # type: ignore[arg-type]
        pool.sign_all(items[:4])  # warm up the workers
        start = time.perf_counter()
        pool.sign_all(items)
        per_s = n / (time.perf_counter() - start)
    print(f"  {'sign V2 composite, 2-' + kind + ' pool':<44} {per_s:>10,.0f} /s wall")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    n = parser.parse_args().n
    print(f"rsrp proof envelopes, {os.cpu_count()} CPUs, n={n}")

    ed_key = ed25519.Ed25519PrivateKey.from_private_bytes(b"\x01" * 32)
    ed_signer = Ed25519Signer(ed_key, "bench-ed25519")
    ed_ring = StaticKeyring([KeyEntry(Ed25519Verifier(ed_key.public_key(), "bench-ed25519"))])
    hashes = {
        f"{k}_hash": bytes([i + 1]) * 32
        for i, k in enumerate(("policy", "bytecode", "input", "state"))
    }
    v1 = sign_v1(ed_signer, runtime_version=(0, 1, 0), decision=Outcome.BLOCK, **hashes)
    v1_bytes = v1.to_bytes()

    signer = make_signer()
    public = signer.public_key()
    comp_ring = StaticKeyring([KeyEntry(CryptoKeyVerifier(public, signer.key_id))])
    d, state = decision(), canonical_hash({})
    v2 = sign_decision(d, signer, request_id="req-1", state_hash=state)
    v2_bytes = v2.to_bytes()
    batch = sign_decision(d, signer, request_id="req-1", state_hash=state, mode="batch")

    print("encode / decode")
    rate("encode V1 (to_bytes)", v1.to_bytes, n * 20)
    rate("encode V2 (to_bytes)", v2.to_bytes, n * 20)
    rate("decode V1", lambda: decode_v1(v1_bytes), n * 20)
    rate("decode V2", lambda: decode_v2(v2_bytes), n * 20)
    rate(
        "build V2 batch envelope (no signature)",
        lambda: sign_decision(d, signer, request_id="r", state_hash=state, mode="batch").to_bytes(),
        n * 5,
    )
    print("sign, in process")
    rate("raw Ed25519 sign (cryptography)", lambda: ed_key.sign(v1.signing_bytes()), n)
    rate(
        "sign V1 Ed25519 envelope",
        lambda: sign_v1(
            ed_signer, runtime_version=(0, 1, 0), decision=Outcome.BLOCK, **hashes
        ).to_bytes(),
        n,
    )
    msg = v2.signing_bytes()
    rate("raw composite sign (rsrp.crypto)", lambda: signer.sign(msg, context=V2_CONTEXT), n)
    rate(
        "sign V2 composite envelope",
        lambda: sign_decision(d, signer, request_id="r", state_hash=state).to_bytes(),
        n,
    )
    print("verify, in process")
    rate("verify V1 Ed25519", lambda: verify_envelope(v1_bytes, ed_ring), n)
    rate("verify V2 composite", lambda: verify_envelope(v2_bytes, comp_ring), n)
    del batch
    print("signing pool (per-decision V2)")
    pool_rate("process", n)
    pool_rate("thread", n)


if __name__ == "__main__":
    if not _KEY_FILE:
        import tempfile

        from rsrp.crypto import generate

        path = os.path.join(tempfile.mkdtemp(prefix="rsrp-bench-"), "composite.pk8")
        with open(path, "wb") as f:
            f.write(generate("mldsa65-ecdsa-p384-sha512").pkcs8_der())
        os.environ["RSRP_BENCH_KEY"] = _KEY_FILE = path
    main()
