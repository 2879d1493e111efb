"""Key-store rows for ``bench/crypto.py``: signing through the software store and through
PKCS#11 (a throw-away SoftHSM2 token), next to the raw ``rsrp.crypto`` rows.

``bench_rows(seconds)`` returns ``(algorithm, operation, backend, ops_per_s)`` tuples.
Signing through a store includes what every signature costs there: the key's state,
validity and jurisdiction checks, and for PKCS#11 the token round trips (and, for the
composite, unwrapping the ML-DSA seed inside the token). Figures are printed by the
bench script, never asserted. Without SoftHSM2 the PKCS#11 rows are left out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rsrp.keys._model import Purpose
from rsrp.keys._store import BaseKeyStore

__all__ = ["bench_rows"]

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
_MSG = b"rsrp decision envelope signing bytes " * 4
_ALGS = ("ed25519", "ecdsa-p384-sha384", "ml-dsa-44", "mldsa65-ecdsa-p384-sha512")
Row = tuple[str, str, str, float]


def _measure(fn: Callable[[], object], seconds: float) -> float:
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        now = time.perf_counter()
        if now >= start + seconds:
            return n / (now - start)


def _store_rows(store: BaseKeyStore, backend: str, seconds: float, keygen: bool) -> list[Row]:
    rows: list[Row] = []
    for alg in _ALGS:
        info = store.generate(alg, Purpose.DECISION_SIGNING, jurisdiction="FR", test=True)
        ctx = b"rsrp" if "dsa-" in alg and alg != "ecdsa-p384-sha384" else b""
        sign = partial(store.signer(info.key_id).sign, _MSG, context=ctx)
        rows.append((alg, "sign via key store", backend, _measure(sign, seconds)))
        if keygen:
            t = time.perf_counter()
            for _ in range(3):
                store.generate(alg, Purpose.DECISION_SIGNING, jurisdiction="FR", test=True)
            rows.append((alg, "keygen in key store", backend, 3 / (time.perf_counter() - t)))
    return rows


def _softhsm_version() -> str:
    try:
        out = subprocess.run(
            ["softhsm2-util", "--version"],  # noqa: S607 - the Debian package's tool
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return out.stdout.strip()


def _pkcs11_rows(tmp: Path, seconds: float) -> list[Row]:
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        return []
    from rsrp.keys._pkcs11 import Pkcs11KeyStore

    (tmp / "tokens").mkdir(mode=0o700)
    conf = tmp / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp}/tokens\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by SoftHSM at C_Initialize
    subprocess.run(
        [  # noqa: S607 - the Debian package's tool
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "rsrp-bench",
            "--so-pin",
            "bench-so-pin",
            "--pin",
            "bench-user-pin",
        ],
        check=True,
        capture_output=True,
    )
    store = Pkcs11KeyStore(
        SOFTHSM_MODULE,
        "rsrp-bench",
        pin=lambda: "bench-user-pin",
        journal_path=tmp / "pkcs11-journal.jsonl",
        actor="bench",
    )
    backend = f"PKCS#11 SoftHSM2 {_softhsm_version()} (in-token EC; ML-DSA seed AES-KWP-wrapped)"
    try:
        return _store_rows(store, backend, seconds, keygen=True)
    finally:
        store.close()


def bench_rows(seconds: float) -> list[Row]:
    """Rows for the software store and the PKCS#11 store (SoftHSM2) side by side."""
    from rsrp.keys._software import FileKeyStore

    with tempfile.TemporaryDirectory(prefix="rsrp-keys-bench-") as d:
        tmp = Path(d)
        soft = FileKeyStore(
            tmp / "file-store",
            passphrase=lambda: b"benchmark passphrase",
            actor="bench",
        )
        rows = _store_rows(soft, "rsrp.keys file: store (AES-256-GCM at rest)", seconds, True)
        return rows + _pkcs11_rows(tmp, seconds)
