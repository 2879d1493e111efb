"""Kill -9 the server mid-load, restart it: every acknowledged decision is in the ledger."""

from __future__ import annotations

import base64
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.api.api_procs import start_serve, stop, wait_ready, write_config
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles

from rsrp.api import load_settings
from rsrp.api._wiring import open_keys
from rsrp.api.offline import verify_ledger
from rsrp.ledger import Log
from rsrp.proof import decode_envelope


def _load(
    url: str, pki: PkiFiles, acked: list[tuple[str, int, str]], stop_at: threading.Event
) -> None:
    with httpx.Client(base_url=url, verify=pki.context("agent-001"), timeout=5) as c:
        while not stop_at.is_set():
            try:
                r = c.post("/v1/decisions", json=BODY)
            except httpx.HTTPError:
                return
            if r.status_code == 200:
                d = r.json()
                acked.append((d["request_id"], d["ledger_index"], d["envelope"]))


def _vkeys(config: Path) -> list[str]:
    from rsrp.ledger import KeyStoreCosigner, KeyStoreNoteSigner

    _, cp_signer, pq_signer = open_keys(load_settings(config), "FR")
    origin = "rsrp.local/FR"
    return [KeyStoreNoteSigner(origin, cp_signer).vkey, KeyStoreCosigner(origin, pq_signer).vkey]


@pytest.mark.slow
def test_api_crash_kill9_mid_load_loses_no_acknowledged_decision(
    tls_pki: PkiFiles, tmp_path: Path
) -> None:
    config = tmp_path / "rsrp.toml"
    db = f"sqlite:///{tmp_path}/rsrp.db"
    port = write_config(config, tls_pki, db, tmp_path / "keys")
    url = f"https://127.0.0.1:{port}"
    acked: list[tuple[str, int, str]] = []
    for round_ in range(2):
        proc = start_serve(config, tmp_path / "serve.log")
        try:
            wait_ready(url, tls_pki, proc)
            halt = threading.Event()
            workers = [
                threading.Thread(target=_load, args=(url, tls_pki, acked, halt)) for _ in range(4)
            ]
            for w in workers:
                w.start()
            time.sleep(1.0 + 0.5 * round_)
            proc.send_signal(signal.SIGKILL)  # mid-load, no shutdown hooks
            proc.wait()
            halt.set()
            for w in workers:
                w.join(timeout=10)
        finally:
            stop(proc)
    assert len(acked) > 20
    with Log.open(db) as log:
        for request_id, index, envelope in acked:
            stored = log.entry(index).data
            assert stored == base64.b64decode(envelope)
            assert decode_envelope(stored).request_id == request_id  # type: ignore[union-attr]
    # Restart once more: the checkpointer covers the whole log, which verifies offline.
    proc = start_serve(config, tmp_path / "serve.log")
    try:
        wait_ready(url, tls_pki, proc)
        deadline = time.monotonic() + 10
        with Log.open(db) as log:
            while (cp := log.latest_checkpoint()) is None or cp.size < log.size:
                assert time.monotonic() < deadline, "no checkpoint after restart"
                time.sleep(0.05)
    finally:
        stop(proc)
    report = verify_ledger(db, _vkeys(config))
    assert report.checkpoint_size == report.size >= len(acked)
