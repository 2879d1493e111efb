"""Helpers that run ``rsrp serve`` as real OS processes (for crash and replica tests)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from tests.api.conftest import BUNDLE, EXAMPLE_CONTEXT
from tests.fixtures.tls import PkiFiles, free_port

SRC = Path(__file__).resolve().parents[2] / "src"


def write_config(
    path: Path,
    pki: PkiFiles,
    db_url: str,
    keys: Path,
    *,
    port: int | None = None,
    extra: str = "",
) -> int:
    """Write a serve config; ``extra`` is appended TOML (more sections)."""
    port = port or free_port()
    path.write_text(
        f"""
[server]
port = {port}
tls_cert = "{pki.server[0]}"
tls_key = "{pki.server[1]}"
client_ca = "{pki.ca}"
[database]
url = "{db_url}"
[policy]
bundle = "{BUNDLE}"
[context]
directory = "{EXAMPLE_CONTEXT}"
[keys]
store = "file:{keys}?jurisdiction=FR"
passphrase = "test passphrase"
[ledger]
checkpoint_every = 64
checkpoint_interval_ms = 100
[limits]
rate_per_second = 10000
burst = 10000
{extra}""",
        encoding="utf-8",
    )
    return port


def start_serve(
    config: Path, log: Path, env_overrides: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC), **(env_overrides or {})}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rsrp", "serve", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def wait_ready(url: str, pki: PkiFiles, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rsrp serve exited with {proc.returncode}")
        try:
            with httpx.Client(verify=pki.context("auditor-001"), timeout=2) as c:
                if c.get(f"{url}/healthz").status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("rsrp serve did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def replicas(
    pki: PkiFiles,
    tmp: Path,
    db_url: str,
    *,
    extra: str = "",
    env_overrides: dict[str, str] | None = None,
) -> Iterator[tuple[list[str], list[Path]]]:
    """Two ``rsrp serve`` processes on ``db_url`` sharing one key store; yields their
    base URLs and config files, and stops both on exit."""
    from rsrp.api import load_settings
    from rsrp.api._wiring import open_keys

    configs = [tmp / "a.toml", tmp / "b.toml"]
    ports = [write_config(c, pki, db_url, tmp / "keys", extra=extra) for c in configs]
    open_keys(load_settings(configs[0]), "FR")  # one key set, created before both start
    urls = [f"https://127.0.0.1:{p}" for p in ports]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for config, url in zip(configs, urls, strict=True):
            procs.append(start_serve(config, tmp / f"{config.stem}.log", env_overrides))
            wait_ready(url, pki, procs[-1])
        yield urls, configs
    finally:
        for proc in procs:
            stop(proc)
