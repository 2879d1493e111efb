"""Two ``rsrp serve`` processes on one PostgreSQL database produce one consistent log."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.api.api_procs import start_serve, stop, wait_ready, write_config
from tests.api.test_api_crash import _vkeys
from tests.api.test_api_mtls import BODY
from tests.fixtures.tls import PkiFiles

from rsrp.api import load_settings
from rsrp.api._wiring import open_keys
from rsrp.api.offline import verify_ledger
from rsrp.context import Database, EventLog
from rsrp.ledger import Log


@pytest.mark.slow
@pytest.mark.postgres
def test_api_replicas_share_one_log(tls_pki: PkiFiles, tmp_path: Path, postgres_url: str) -> None:
    keys = tmp_path / "keys"
    configs = [tmp_path / "a.toml", tmp_path / "b.toml"]
    ports = [write_config(c, tls_pki, postgres_url, keys) for c in configs]
    open_keys(load_settings(configs[0]), "FR")  # one key set, created before both start
    procs = []
    try:
        for config, port in zip(configs, ports, strict=True):
            procs.append(start_serve(config, tmp_path / f"{config.stem}.log"))
            wait_ready(f"https://127.0.0.1:{port}", tls_pki, procs[-1])
        acked: list[int] = []
        seen: list[int] = []
        codes: list[str] = []
        lock = threading.Lock()

        def load(port: int, agent: str) -> None:
            with httpx.Client(
                base_url=f"https://127.0.0.1:{port}", verify=tls_pki.context(agent), timeout=10
            ) as c:
                for _ in range(40):
                    d = c.post("/v1/decisions", json=BODY).json()
                    with lock:
                        acked.append(d["ledger_index"])
                        codes.append(d["code"])
                        if agent == "agent-001":
                            seen.append(d["state_hash"])

        threads = [
            threading.Thread(target=load, args=(p, a))
            for p in ports
            for a in ("agent-001", "supervisor-001")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(acked) == list(range(len(acked))) == list(range(160))  # no gap, no duplicate
        # Overlapping batches on two replicas neither deadlock nor fail their counters.
        assert "CONTEXT_UNAVAILABLE" not in codes
        with Log.open(postgres_url) as log:
            deadline = time.monotonic() + 10
            while (cp := log.latest_checkpoint()) is None or cp.size < 160:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        for p in procs:
            stop(p)
    report = verify_ledger(postgres_url, _vkeys(configs[0]))
    assert report.size == 160 and report.checkpoint_size == 160
    # Counters are shared: agent-001 made 80 requests through both replicas, and each saw
    # a distinct number of predecessors (the reservation serialises per agent).
    events = EventLog(Database(postgres_url))
    c = events.reserve("agent-001", dt.datetime.now(dt.UTC), None).counters
    assert c.requests_1h == 80
    assert len(set(seen)) == 80
