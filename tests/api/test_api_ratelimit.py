"""The shared per-identity rate limit: two limiters (replicas) on one real database,
then two ``rsrp serve`` processes on one PostgreSQL database."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from tests.api.api_procs import replicas
from tests.fixtures.tls import PkiFiles

from rsrp.api._auth import RateLimitedError, RateLimiter
from rsrp.api._ratelimit import SharedRateLimiter, WindowCounts
from rsrp.context import Database

WINDOW = 10.0


class Clock:
    """The limiter's wall clock, moved by the test (window arithmetic, not sleeping)."""

    def __init__(self) -> None:
        self.t = 1_000_000 * WINDOW  # the start of a window

    def __call__(self) -> float:
        return self.t


def _replica(db: Database, clock: Clock) -> SharedRateLimiter:
    # Local bucket: burst 5, refilling 0.1/s; shared limit 5 + 0.1 * 10 = 6 per window.
    # The sync thread is parked (60 s); the test calls sync() where replicas would.
    return SharedRateLimiter(
        RateLimiter(0.1, 5), WindowCounts(db), window_s=WINDOW, sync_ms=60_000, clock=clock
    )


def _rows(db: Database) -> dict[tuple[str, int], int]:
    """agent-001's rows of svc_rate: (principal, window) -> count."""
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT principal, win, count FROM svc_rate WHERE principal = ?", ("agent-001",)
        )
    return {(p, int(w)): int(n) for p, w, n in rows}


def _admitted(limiter: SharedRateLimiter, principal: str, n: int) -> int:
    ok = 0
    for _ in range(n):
        try:
            limiter.take(principal)
            ok += 1
        except RateLimitedError:
            pass
    return ok


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/rsrp.db"
    return str(request.getfixturevalue("postgres_url"))


def test_api_ratelimit_shared_between_replicas(db_url: str) -> None:
    clock = Clock()
    dbs = [Database(db_url), Database(db_url)]
    a, b = (_replica(d, clock) for d in dbs)
    try:
        assert _admitted(a, "agent-001", 5) == 5  # A's own bucket: burst 5
        a.sync()
        b.sync()
        # B has a full bucket of its own, but the shared window already holds 5 of 6.
        assert _admitted(b, "agent-001", 5) == 1
        with pytest.raises(RateLimitedError) as info:
            b.take("agent-001")
        assert 0 < info.value.retry_after <= 2 * WINDOW
        assert _admitted(b, "agent-002", 3) == 3  # a separate identity
        b.sync()
        a.sync()
        assert _admitted(a, "agent-001", 1) == 0
        # Sliding window: 5 s into the next window the previous one's 6 weigh 3.
        clock.t += WINDOW + 5
        a.sync()
        b.sync()
        assert _admitted(b, "agent-001", 4) == 3  # room 3; B's bucket still holds 4
        clock.t += 4  # 9 s in: 0.6 + 3 = 3.6, room for 2; B's bucket has the last token
        assert _admitted(b, "agent-001", 4) == 1
        b.sync()
        a.sync()
        assert _rows(dbs[0]) == {("agent-001", 1_000_000): 6, ("agent-001", 1_000_001): 4}
    finally:
        for limiter in (a, b):
            limiter.close()
        for d in dbs:
            d.close()


def test_api_ratelimit_counts_survive_a_failed_sync(tmp_path: Path) -> None:
    clock = Clock()
    db = Database(f"sqlite:///{tmp_path}/rsrp.db")
    limiter = _replica(db, clock)
    try:
        assert _admitted(limiter, "agent-001", 3) == 3
        with db.transaction(write=True) as tx:
            tx.execute("DROP TABLE svc_rate")
        limiter.sync()  # fails: no table; the 3 requests stay counted in memory
        assert _admitted(limiter, "agent-001", 5) == 2
        with db.transaction(write=True) as tx:
            tx.execute(
                "CREATE TABLE svc_rate (principal TEXT NOT NULL, win BIGINT NOT NULL,"
                " count BIGINT NOT NULL, PRIMARY KEY (principal, win))"
            )
        limiter.sync()
        with db.transaction() as tx:
            assert tx.execute("SELECT count FROM svc_rate") == [(5,)]
    finally:
        limiter.close()
        db.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_api_ratelimit_two_serve_processes(
    tls_pki: PkiFiles, tmp_path: Path, postgres_url: str
) -> None:
    # Per replica: burst 4 at 0.1/s; shared: 4 + 0.1 * 20 = 6 per 20 s over both.
    env = {
        "RSRP_LIMITS__RATE_PER_SECOND": "0.1",
        "RSRP_LIMITS__BURST": "4",
        "RSRP_LIMITS__SHARED_WINDOW_S": "20",
        "RSRP_LIMITS__SHARED_SYNC_MS": "20",
    }
    with replicas(tls_pki, tmp_path, postgres_url, env_overrides=env) as (urls, _):
        clients = [
            httpx.Client(base_url=u, verify=tls_pki.context("agent-001"), timeout=10) for u in urls
        ]
        codes: list[int] = []
        for i in range(12):  # alternate replicas, each request after the other's sync
            codes.append(clients[i % 2].get("/v1/checkpoints/latest").status_code)
            time.sleep(0.15)
        for c in clients:
            c.close()
    granted = [c for c in codes if c != 429]
    # Per-process buckets alone would admit 8 (4 each); the shared window admits 6.
    assert len(granted) == 6, codes
    assert codes[6:] == [429] * 6
