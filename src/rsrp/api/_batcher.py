"""Group decisions: concurrent requests are decided together, as the ledger commits them.

Requests queue here; one worker thread takes everything queued (up to
``max_batch``) and runs :func:`decide_many`: one counter transaction, one ledger
commit (one fsync), one recording transaction for the whole group. Each caller
gets its own result, or the group's error, only after that commit.

An event loop hands its requests over once per loop iteration, not one by one:
the requests its tasks submit in one iteration (all the connections that were
readable together) travel as one list, put on the queue by a callback that runs
after them. Handing them over one at a time woke the worker on the first, and it
started deciding a group of one or two while the loop was still parsing the rest
(each group costs a fixed set of transactions and an fsync, so small groups cost
more per decision), and every wake-up moved the GIL between the two threads.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Sequence

from rsrp.api._batch import decide_many
from rsrp.api._pipeline import DecisionRequest, DecisionResult, Pipeline

__all__ = ["Batcher"]

#: One queued request: the request, its caller's future and loop, when it was queued.
_Item = tuple[DecisionRequest, "asyncio.Future[DecisionResult]", asyncio.AbstractEventLoop, float]


def _settle(items: Sequence[_Item], outcome: Sequence[DecisionResult] | BaseException) -> None:
    """On the callers' loop: hand each caller its result (or the group's error)."""
    for k, (_, fut, _, _) in enumerate(items):
        if fut.cancelled():  # the client went away; the decision is logged all the same
            continue
        if isinstance(outcome, BaseException):
            fut.set_exception(outcome)
        else:
            fut.set_result(outcome[k])


class Batcher:
    def __init__(self, pipeline: Pipeline, max_batch: int = 256) -> None:
        self.pipeline = pipeline
        self.max_batch = max_batch
        #: Lists of items (one per loop iteration that submitted any); None: stop.
        self._q: queue.SimpleQueue[list[_Item] | None] = queue.SimpleQueue()
        #: Per event loop: the items its current iteration submitted, not yet queued.
        #: Only ever touched from that loop's own thread.
        self._open: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
        self._thread = threading.Thread(target=self._run, name="rsrp-decide", daemon=True)
        self._thread.start()

    async def decide(self, req: DecisionRequest) -> DecisionResult:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[DecisionResult] = loop.create_future()
        batch = self._open.get(loop)
        if batch is None:
            # Runs after every callback already scheduled: the rest of this iteration.
            batch = self._open[loop] = []
            loop.call_soon(self._hand_over, loop)
        batch.append((req, fut, loop, time.perf_counter()))
        return await fut

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._q.put(self._open.pop(loop))

    def _run(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            group = first
            # Whatever else is queued joins, up to max_batch (a list is never split:
            # a loop iteration submits at most one request per open connection).
            while len(group) < self.max_batch:
                try:
                    more = self._q.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._q.put(None)
                    break
                group.extend(more)
            self._decide(group)

    def _decide(self, items: list[_Item]) -> None:
        outcome: Sequence[DecisionResult] | BaseException
        try:
            outcome = decide_many(self.pipeline, [req for req, _, _, _ in items])
        except BaseException as e:  # every caller of the group learns the group failed
            outcome = e
        else:
            done = time.perf_counter()
            metrics = self.pipeline.metrics
            metrics.group_size.observe(len(items))
            for _, _, _, queued in items:
                metrics.latency.observe(done - queued)
        # One wake-up per event loop for the whole group, not one per request.
        loops: dict[asyncio.AbstractEventLoop, list[int]] = {}
        for k, (_, _, loop, _) in enumerate(items):
            loops.setdefault(loop, []).append(k)
        for loop, ks in loops.items():
            mine = [items[k] for k in ks]
            part = outcome if isinstance(outcome, BaseException) else [outcome[k] for k in ks]
            try:
                loop.call_soon_threadsafe(_settle, mine, part)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                continue

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=10)
