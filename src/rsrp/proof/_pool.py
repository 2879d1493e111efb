"""Per-decision signing off the request path: a small pool of signing workers.

Processes by default: each worker re-creates its signer from a picklable factory
(a module-level function or ``functools.partial``), so no key object crosses a
process boundary and an HSM session is opened per worker. ``kind="thread"`` shares
one signer; ``cryptography`` releases the GIL inside ML-DSA and ECDSA, so threads
scale too (bench/proofs.py prints both).
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType
from typing import Literal

from rsrp.keys.signer import Signer
from rsrp.policy.decision import Decision
from rsrp.proof._sign import Mode, sign_decision
from rsrp.proof._v2 import EnvelopeV2

__all__ = ["SignerFactory", "SigningPool"]

SignerFactory = Callable[[], Signer]

_worker_signer: Signer | None = None


def _init_worker(factory: SignerFactory) -> None:
    global _worker_signer
    _worker_signer = factory()


def _sign_in_worker(
    decision: Decision, request_id: str, state_hash: bytes, mode: Mode
) -> EnvelopeV2:
    if _worker_signer is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("signing worker has no signer")
    return sign_decision(
        decision, _worker_signer, request_id=request_id, state_hash=state_hash, mode=mode
    )


class SigningPool:
    """``with SigningPool(factory) as pool: fut = pool.submit(decision, ...)``."""

    def __init__(
        self,
        factory: SignerFactory,
        *,
        workers: int = 2,
        kind: Literal["process", "thread"] = "process",
    ) -> None:
        if workers < 1:
            raise ValueError("a signing pool needs at least one worker")
        self._signer: Signer | None = None
        self._executor: Executor
        if kind == "process":
            # spawn: never fork a process that may hold HSM sessions or threads.
            self._executor = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(factory,),
            )
        else:
            self._signer = factory()
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="rsrp-sign")

    def submit(
        self,
        decision: Decision,
        *,
        request_id: str | uuid.UUID,
        state_hash: bytes,
        mode: Mode = "per-decision",
    ) -> Future[EnvelopeV2]:
        """Queue one decision; the future raises the same ``ProofError`` as ``sign_decision``."""
        if self._signer is not None:
            return self._executor.submit(
                sign_decision,
                decision,
                self._signer,
                request_id=request_id,
                state_hash=state_hash,
                mode=mode,
            )
        return self._executor.submit(_sign_in_worker, decision, str(request_id), state_hash, mode)

    def sign_all(
        self, items: Iterable[tuple[Decision, str, bytes]], mode: Mode = "per-decision"
    ) -> list[EnvelopeV2]:
        futures = [self.submit(d, request_id=r, state_hash=s, mode=mode) for d, r, s in items]
        return [f.result() for f in futures]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SigningPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
