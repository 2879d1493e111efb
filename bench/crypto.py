"""Crypto throughput: ops/s for every algorithm rsrp uses, as one Rich table.

    PYTHONPATH=src .venv/bin/python bench/crypto.py [--seconds 0.3]

Each operation runs in a loop for about ``--seconds`` of wall time on one core.
Key generation goes through rsrp.crypto.generate(), so it includes the
pairwise-consistency test. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import cryptography
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from rich.console import Console
from rich.table import Table

from rsrp.crypto import generate, hkdf, hybrid, run_selftests, sha256, sha384, sha512
from rsrp.crypto._aead import aes256gcm_open, aes256gcm_seal

KIB = os.urandom(1024)
MSG = b"rsrp decision envelope signing bytes " * 4  # ~150 bytes, like a V2 envelope header


@dataclass(frozen=True, slots=True)
class Row:
    algorithm: str
    operation: str
    backend: str
    ops_per_s: float


def measure(fn: Callable[[], object], seconds: float) -> float:
    """Operations per second of ``fn`` over about ``seconds`` (after one warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        fn()
        n += 1
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def software_rows(seconds: float) -> list[Row]:
    sw = f"cryptography {cryptography.__version__} ({openssl_backend.openssl_version_text()})"
    rows: list[Row] = []

    def add(alg: str, op: str, fn: Callable[[], object]) -> None:
        rows.append(Row(alg, op, sw, measure(fn, seconds)))

    for alg in (
        "ed25519",
        "ecdsa-p384-sha384",
        "ml-dsa-44",
        "ml-dsa-65",
        "ml-dsa-87",
        "mldsa65-ecdsa-p384-sha512",
    ):
        sk = generate(alg)
        pk = sk.public_key()
        sig = sk.sign(MSG)
        add(alg, "keygen (+PCT)", partial(generate, alg))
        add(alg, "sign", partial(sk.sign, MSG))
        add(alg, "verify", partial(pk.verify, MSG, sig))

    kem_sk = mlkem.MLKEM768PrivateKey.generate()
    kem_pk = kem_sk.public_key()
    _, kem_ct = kem_pk.encapsulate()
    add("ml-kem-768", "keygen", mlkem.MLKEM768PrivateKey.generate)
    add("ml-kem-768", "encaps", kem_pk.encapsulate)
    add("ml-kem-768", "decaps", lambda: kem_sk.decapsulate(kem_ct))

    x_sk = x25519.X25519PrivateKey.generate()
    x_peer = x25519.X25519PrivateKey.generate().public_key()
    add("x25519", "keygen", x25519.X25519PrivateKey.generate)
    add("x25519", "exchange", lambda: x_sk.exchange(x_peer))

    xw = generate("x-wing")
    xw_pk = xw.public_key()
    _, xw_ct = xw_pk.encapsulate()
    add("x-wing", "keygen (+PCT)", lambda: generate("x-wing"))
    add("x-wing", "encaps", xw_pk.encapsulate)
    add("x-wing", "decaps", lambda: xw.decapsulate(xw_ct))

    key, nonce = os.urandom(32), os.urandom(12)
    sealed = aes256gcm_seal(key, nonce, KIB)
    add("aes-256-gcm", "seal 1 KiB", lambda: aes256gcm_seal(key, nonce, KIB))
    add("aes-256-gcm", "open 1 KiB", lambda: aes256gcm_open(key, nonce, sealed))

    hsealed = hybrid.seal(xw_pk, KIB, b"header")
    add("hybrid v1 (x-wing+hkdf+gcm)", "seal 1 KiB", lambda: hybrid.seal(xw_pk, KIB, b"header"))
    add("hybrid v1 (x-wing+hkdf+gcm)", "open 1 KiB", lambda: hybrid.open(xw, hsealed, b"header"))

    add("sha-256", "1 KiB", lambda: sha256(KIB))
    add("sha-384", "1 KiB", lambda: sha384(KIB))
    add("sha-512", "1 KiB", lambda: sha512(KIB))
    add("hkdf-sha256", "44 bytes", lambda: hkdf(KIB[:32], length=44, info=b"i"))
    add("self-tests", "all 12 KATs", run_selftests)
    return rows


# ---------------------------------------------------------------------------------------
# KEYSTORE BENCH HOOK (for the keys helper): rsrp.keys may provide
#     rsrp.keys.bench.bench_rows(seconds: float) -> list[tuple[str, str, str, float]]
# returning (algorithm, operation, backend, ops_per_s) rows, e.g. software store vs
# PKCS#11 (SoftHSM2) signing. They are appended to the same table when importable.
# ---------------------------------------------------------------------------------------
def keystore_rows(seconds: float) -> list[Row]:
    try:
        from rsrp.keys import bench as keys_bench  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return []
    fn: Any = getattr(keys_bench, "bench_rows", None)
    if fn is None:
        return []
    return [Row(str(a), str(o), str(b), float(r)) for a, o, b, r in fn(seconds)]


def render(rows: list[Row]) -> Table:
    table = Table(title="rsrp crypto throughput (one core)")
    table.add_column("Algorithm")
    table.add_column("Operation")
    table.add_column("ops/s", justify="right")
    table.add_column("µs/op", justify="right")
    table.add_column("Backend", overflow="fold")
    for r in rows:
        table.add_row(
            r.algorithm, r.operation, f"{r.ops_per_s:,.0f}", f"{1e6 / r.ops_per_s:,.1f}", r.backend
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.3, help="time budget per operation")
    args = parser.parse_args()
    rows = software_rows(args.seconds) + keystore_rows(args.seconds)
    Console(width=150).print(render(rows))


if __name__ == "__main__":
    main()
