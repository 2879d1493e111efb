"""Rate limits per identity that hold across replicas sharing one database.

Each replica keeps its in-memory token bucket (:class:`rsrp.api._auth.RateLimiter`:
``rate_per_second``, ``burst``) and, on top, a *shared* sliding-window limit:
at most ``burst + rate_per_second * window_s`` requests per identity per
``window_s`` seconds over all replicas. With one replica the bucket is always the
stricter of the two, so single-process behaviour is unchanged.

The request path never touches the database: it compares its estimate with the
limit and counts the request in memory. A background thread, every ``sync_ms``,
adds this replica's new counts to ``svc_rate (principal, win, count)`` with one
batched UPSERT (none when idle) and reads back every identity's totals for the
current and the previous window, in one transaction. The estimate is the sliding-window
approximation (previous window weighted by the part of it still inside the
sliding window, plus the current one), as many HTTP rate limiters use.

Bound: between two syncs a replica does not see the other replicas' newest
requests, so all replicas together may admit up to about ``(replicas - 1) x``
what one replica admits in ``sync_ms`` (each still capped by its own bucket)
beyond the shared limit. If the database is unreachable the counts stay in
memory (retried) and each replica falls back to its own bucket (fail open to the
per-process limit; the decision path itself fails closed on the same outage).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from rsrp.api._auth import RateLimitedError, RateLimiter
from rsrp.context import Database
from rsrp.errors import RsrpError

__all__ = ["SharedRateLimiter", "WindowCounts"]

log = logging.getLogger("rsrp.api.ratelimit")

Key = tuple[str, int]  # (principal, window number)


class WindowCounts:
    """The ``svc_rate`` table: requests per (identity, window) over all replicas."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction(write=True) as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS svc_rate (principal TEXT NOT NULL,"
                " win BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (principal, win))"
            )

    def add_and_read(self, deltas: Counter[Key], since: int) -> dict[Key, int]:
        """Add ``deltas``; return every count of windows ``>= since``. One transaction."""
        # Sorted: two replicas lock the rows in the same order (no deadlock on PostgreSQL).
        rows = sorted((p, w, n) for (p, w), n in deltas.items() if n)
        # Idle: a read transaction, not SQLite's write lock (the ledger commits under it).
        with self.db.transaction(write=bool(rows)) as tx:
            tx.executemany(
                "INSERT INTO svc_rate (principal, win, count) VALUES (?, ?, ?) ON CONFLICT"
                " (principal, win) DO UPDATE SET count = svc_rate.count + excluded.count",
                rows,
            )
            got = tx.execute("SELECT principal, win, count FROM svc_rate WHERE win >= ?", (since,))
        return {(p, int(w)): int(n) for p, w, n in got}

    def prune(self, before: int) -> None:
        with self.db.transaction(write=True) as tx:
            tx.execute("DELETE FROM svc_rate WHERE win < ?", (before,))


class SharedRateLimiter:
    """The local bucket, then the shared sliding-window limit (module docstring)."""

    def __init__(
        self,
        local: RateLimiter,
        counts: WindowCounts,
        *,
        window_s: float,
        sync_ms: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.local = local
        self.counts = counts
        self.window_s = window_s
        self.limit = local.burst + local.rate * window_s
        self.sync_s = sync_ms / 1000
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: Counter[Key] = Counter()  # counted here, not yet written
        self._inflight: Counter[Key] = Counter()  # being written by the sync thread
        self._shared: dict[Key, int] = {}  # totals read back at the last sync
        self._pruned = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rsrp-ratelimit", daemon=True)
        self._thread.start()

    def _seen(self, key: Key) -> int:
        return self._shared.get(key, 0) + self._inflight[key] + self._pending[key]

    def take(self, principal: str) -> None:
        """Admit one request of ``principal`` or raise :class:`RateLimitedError`.

        The shared window is checked first, so a refusal there costs no local token.
        """
        win, frac = divmod(self.clock() / self.window_s, 1.0)
        key = (principal, int(win))
        with self._lock:
            cur, prev = self._seen(key), self._seen((principal, key[1] - 1))
            if prev * (1.0 - frac) + cur + 1 > self.limit:
                raise RateLimitedError(self._retry_after(cur, prev, frac))
            self.local.take(principal)
            self._pending[key] += 1

    def _retry_after(self, cur: int, prev: int, frac: float) -> float:
        """Seconds until the sliding estimate leaves room for one more request."""
        room = self.limit - 1
        if cur <= room and prev > 0:  # the previous window's weight must shrink enough
            return max(0.0, (1.0 - (room - cur) / prev) - frac) * self.window_s
        # Wait for the next window, where this one becomes the weighted previous.
        return ((1.0 - frac) + max(0.0, 1.0 - room / max(cur, 1))) * self.window_s

    def sync(self) -> None:
        """Write this replica's new counts and read every replica's totals (one transaction)."""
        now = self.clock()
        w = int(now // self.window_s)
        with self._lock:
            # Also when this replica is idle: its view of the others' counts stays fresh
            # for the first request it gets (one small read per sync interval).
            batch, self._pending = self._pending, Counter()
            self._inflight = batch
        try:
            shared = self.counts.add_and_read(batch, w - 1)
            if w - self._pruned >= 2:
                self.counts.prune(w - 1)
                self._pruned = w
        except RsrpError as e:
            with self._lock:  # keep the counts for the next try
                self._pending.update(self._inflight)
                self._inflight = Counter()
            log.warning("shared rate-limit sync failed (per-replica limits only): %s", e)
            return
        with self._lock:
            self._shared = shared
            self._inflight = Counter()

    def _run(self) -> None:
        while not self._stop.wait(self.sync_s):
            self.sync()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sync()  # hand this replica's last counts to the others
