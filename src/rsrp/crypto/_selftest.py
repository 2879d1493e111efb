"""Power-on self-tests: a known-answer test (KAT) for every algorithm rsrp uses.

The vectors (``_kat_vectors.json``, built by tests/crypto/crypto_kat_builder.py)
come from FIPS 180-4/202, RFC 5869, RFC 8032, RFC 7748, the GCM specification
(NIST test cases 14 and 16), Wycheproof (ECDSA P-384, ML-DSA, ML-KEM-768) and
the composite and X-Wing drafts. Each verify-KAT also checks that a one-bit
change is rejected, so a verifier stuck at "valid" fails too. Signing is
randomised for ECDSA/ML-DSA, so their signing paths are covered by the
pairwise-consistency test that runs on every key generation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa, mlkem, x25519

from rsrp.crypto._aead import aes256gcm_open, aes256gcm_seal
from rsrp.crypto._asym import PublicKey, load_public_key
from rsrp.crypto._errors import DecryptionError, InvalidSignature, SelfTestFailure
from rsrp.crypto._hashing import hkdf, sha3_256, sha256, sha384, sha512
from rsrp.crypto.composite import CompositePrivateKey
from rsrp.crypto.xwing import XWingPrivateKey

__all__ = ["SelfTestResult", "load_kat_vectors", "require_selftests", "run_selftests"]

Kats = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SelfTestResult:
    name: str
    ok: bool
    seconds: float
    detail: str


@cache
def load_kat_vectors() -> Kats:
    """The packaged KAT subset (read once)."""
    text = resources.files("rsrp.crypto").joinpath("_kat_vectors.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _h(v: str) -> bytes:
    return bytes.fromhex(v)


def _expect(name: str, got: bytes, want: bytes) -> None:
    if got != want:
        raise SelfTestFailure(f"{name}: got {got.hex()[:32]}…, want {want.hex()[:32]}…")


def _verify_kat(pk: PublicKey, msg: bytes, sig: bytes, ctx: bytes = b"") -> None:
    pk.verify(msg, sig, ctx)
    try:
        pk.verify(msg + b"\x00", sig, ctx)
    except InvalidSignature:
        return
    raise SelfTestFailure("verifier accepted a modified message")


def _sha(k: Kats) -> str:
    v = k["sha"]
    msg = _h(v["msg"])
    for name, fn in (("sha256", sha256), ("sha384", sha384), ("sha512", sha512)):
        _expect(name, fn(msg), _h(v[name]))
    _expect("sha3_256", sha3_256(msg), _h(v["sha3_256"]))
    return str(v["source"])


def _hkdf(k: Kats) -> str:
    v = k["hkdf"]
    okm = _h(v["okm"])
    got = hkdf(_h(v["ikm"]), length=len(okm), salt=_h(v["salt"]), info=_h(v["info"]))
    _expect("hkdf", got, okm)
    return str(v["source"])


def _ed25519(k: Kats) -> str:
    v = k["ed25519"]
    sk = ed25519.Ed25519PrivateKey.from_private_bytes(_h(v["sk"]))
    _expect("ed25519 public key", sk.public_key().public_bytes_raw(), _h(v["pk"]))
    _expect("ed25519 signature", sk.sign(_h(v["msg"])), _h(v["sig"]))  # deterministic
    _verify_kat(PublicKey(sk.public_key()), _h(v["msg"]), _h(v["sig"]))
    return str(v["source"])


def _ecdsa(k: Kats) -> str:
    v = k["ecdsa_p384"]
    _verify_kat(load_public_key(_h(v["spki"])), _h(v["msg"]), _h(v["sig"]))
    return str(v["source"])


def _mldsa(level: int) -> Callable[[Kats], str]:
    cls: Any = {
        44: mldsa.MLDSA44PrivateKey,
        65: mldsa.MLDSA65PrivateKey,
        87: mldsa.MLDSA87PrivateKey,
    }
    cls = cls[level]

    def run(k: Kats) -> str:
        v = k[f"ml_dsa_{level}"]
        sk = cls.from_seed_bytes(_h(v["seed"]))
        _expect("keygen", sha256(sk.public_key().public_bytes_raw()), _h(v["pk_sha256"]))
        _verify_kat(PublicKey(sk.public_key()), _h(v["msg"]), _h(v["sig"]))
        return str(v["source"])

    return run


def _mlkem(k: Kats) -> str:
    v = k["ml_kem_768"]
    sk = mlkem.MLKEM768PrivateKey.from_seed_bytes(_h(v["seed"]))
    _expect("keygen", sha256(sk.public_key().public_bytes_raw()), _h(v["ek_sha256"]))
    _expect("decaps", sk.decapsulate(_h(v["ct"])), _h(v["ss"]))
    return str(v["source"])


def _x25519(k: Kats) -> str:
    v = k["x25519"]
    sk = x25519.X25519PrivateKey.from_private_bytes(_h(v["alice_sk"]))
    _expect("public key", sk.public_key().public_bytes_raw(), _h(v["alice_pk"]))
    shared = sk.exchange(x25519.X25519PublicKey.from_public_bytes(_h(v["bob_pk"])))
    _expect("shared secret", shared, _h(v["shared"]))
    return str(v["source"])


def _aes_gcm(k: Kats) -> str:
    v = k["aes256gcm"]
    for c in v["cases"]:
        key, iv, aad = _h(c["key"]), _h(c["iv"]), _h(c["aad"])
        sealed = aes256gcm_seal(key, iv, _h(c["pt"]), aad)
        _expect("seal", sealed, _h(c["ct"]) + _h(c["tag"]))
        _expect("open", aes256gcm_open(key, iv, sealed, aad), _h(c["pt"]))
        tampered = bytes([sealed[0] ^ 1]) + sealed[1:]
        try:
            aes256gcm_open(key, iv, tampered, aad)
        except DecryptionError:
            continue
        raise SelfTestFailure("AES-GCM accepted a modified ciphertext")
    return str(v["source"])


def _composite(k: Kats) -> str:
    v = k["composite"]
    sk = CompositePrivateKey.from_bytes(_h(v["sk"]))
    _expect("keygen", sha256(sk.public_key().public_bytes()), _h(v["pk_sha256"]))
    _verify_kat(PublicKey(sk.public_key()), _h(v["msg"]), _h(v["sig_with_ctx"]), _h(v["ctx"]))
    return str(v["source"])


def _xwing(k: Kats) -> str:
    v = k["x_wing"]
    sk = XWingPrivateKey.from_seed(_h(v["seed"]))
    _expect("keygen", sha256(sk.public_key().public_bytes()), _h(v["pk_sha256"]))
    _expect("decaps", sk.decapsulate(_h(v["ct"])), _h(v["ss"]))
    return str(v["source"])


TESTS: tuple[tuple[str, Callable[[Kats], str]], ...] = (
    ("SHA-256/384/512, SHA3-256", _sha),
    ("HKDF-SHA256", _hkdf),
    ("Ed25519", _ed25519),
    ("ECDSA P-384/SHA-384", _ecdsa),
    ("ML-DSA-44", _mldsa(44)),
    ("ML-DSA-65", _mldsa(65)),
    ("ML-DSA-87", _mldsa(87)),
    ("ML-KEM-768", _mlkem),
    ("X25519", _x25519),
    ("AES-256-GCM", _aes_gcm),
    ("Composite ML-DSA-65+ECDSA-P384", _composite),
    ("X-Wing", _xwing),
)


def run_selftests(kats: Kats | None = None) -> list[SelfTestResult]:
    """Run every KAT; never raises for a failing test (see :func:`require_selftests`)."""
    vectors = load_kat_vectors() if kats is None else kats
    results: list[SelfTestResult] = []
    for name, fn in TESTS:
        start = time.perf_counter()
        try:
            detail, ok = fn(vectors), True
        # A self-test must report every failure, whatever its type, never crash the run.
        except Exception as e:
            detail, ok = f"{type(e).__name__}: {e}", False
        results.append(SelfTestResult(name, ok, time.perf_counter() - start, detail))
    return results


def require_selftests(kats: Kats | None = None) -> list[SelfTestResult]:
    """Run the self-tests for production start-up; raise SelfTestFailure on any failure."""
    results = run_selftests(kats)
    failed = [r for r in results if not r.ok]
    if failed:
        names = "; ".join(f"{r.name} ({r.detail})" for r in failed)
        raise SelfTestFailure(f"crypto self-tests failed, refusing to start: {names}")
    return results
