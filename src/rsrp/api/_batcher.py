"""Group decisions: concurrent requests are decided together, as the ledger commits them.

Requests queue here; one worker thread takes everything queued (up to
``max_batch``) and runs :func:`decide_many`: one counter transaction, one ledger
commit (one fsync), one recording transaction for the whole group. Each caller
gets its own result, or the group's error, only after that commit.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from concurrent.futures import Future

from rsrp.api._batch import decide_many
from rsrp.api._pipeline import DecisionRequest, DecisionResult, Pipeline

__all__ = ["Batcher"]

_STOP = object()


class Batcher:
    def __init__(self, pipeline: Pipeline, max_batch: int = 256) -> None:
        self.pipeline = pipeline
        self.max_batch = max_batch
        self._q: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="rsrp-decide", daemon=True)
        self._thread.start()

    async def decide(self, req: DecisionRequest) -> DecisionResult:
        fut: Future[DecisionResult] = Future()
        self._q.put((req, fut, time.perf_counter()))
        return await asyncio.wrap_future(fut)

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is _STOP:
                return
            group = [first]
            while len(group) < self.max_batch:
                try:
                    item = self._q.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._q.put(_STOP)
                    break
                group.append(item)
            self._decide(group)

    def _decide(self, group: list[object]) -> None:
        items: list[tuple[DecisionRequest, Future[DecisionResult], float]] = group  # type: ignore[assignment]
        try:
            results = decide_many(self.pipeline, [req for req, _, _ in items])
        except BaseException as e:  # every caller of the group learns the group failed
            for _, fut, _ in items:
                fut.set_exception(e)
            return
        done = time.perf_counter()
        for (_, fut, queued), result in zip(items, results, strict=True):
            self.pipeline.metrics.latency.observe(done - queued)
            fut.set_result(result)

    def close(self) -> None:
        self._q.put(_STOP)
        self._thread.join(timeout=10)
