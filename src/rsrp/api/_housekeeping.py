"""Each replica's periodic chores: conclude due approvals, follow key rotations.

Every task is safe to run in all replicas at once (approvals are claimed with one
conditional UPDATE; a key switch only reads the store), so no leader is needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from rsrp.errors import RsrpError

__all__ = ["Housekeeping"]

log = logging.getLogger("rsrp.api.housekeeping")


class Housekeeping:
    """A daemon thread running ``tasks`` every ``interval_s`` seconds until closed."""

    def __init__(self, tasks: Sequence[Callable[[], object]], interval_s: float) -> None:
        self.tasks = tuple(tasks)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rsrp-housekeeping", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            for task in self.tasks:
                try:
                    task()
                except RsrpError as e:  # the database or ledger blipped: the next round retries
                    log.warning("%s failed: %s", getattr(task, "__name__", "task"), e)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
