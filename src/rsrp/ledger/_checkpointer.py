"""The log's checkpointer: signs a checkpoint every N entries or T milliseconds.

c2sp.org/tlog-checkpoint §Signatures: "A log MUST not sign any checkpoint which is
inconsistent with any checkpoint it previously signed." Before signing, the
checkpointer re-opens its last stored checkpoint with its own keys, then checks
an RFC 9162 §2.1.4 consistency proof from it to the new tree head; on any doubt
it refuses with :class:`InconsistentTreeError` and signs nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rsrp.errors import ConfigError, LedgerError
from rsrp.ledger._checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from rsrp.ledger._errors import CheckpointError
from rsrp.ledger._note import NoteSigner, NoteVerifier, sign_note
from rsrp.ledger._verify import verify_consistency

__all__ = [
    "CheckpointStore",
    "Checkpointer",
    "CheckpointerPolicy",
    "InconsistentTreeError",
    "TreeView",
]


class InconsistentTreeError(CheckpointError):
    """The tree head is not an append-only extension of the last signed checkpoint."""


class TreeView(Protocol):
    """The log's current tree: size, root at a size, consistency proofs (ledger-core API)."""

    @property
    def size(self) -> int: ...

    def root(self, size: int | None = None) -> bytes: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...


class CheckpointStore(Protocol):
    """Where signed checkpoint notes are kept (ledger-core's checkpoints table)."""

    def latest_checkpoint(self) -> bytes | None: ...

    def store_checkpoint(self, size: int, note: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class CheckpointerPolicy:
    """Sign when ``every_entries`` new entries arrived, or ``every_ms`` passed with any new one."""

    every_entries: int = 1000
    every_ms: int = 1000

    def __post_init__(self) -> None:
        if self.every_entries < 1 or self.every_ms < 1:
            raise ConfigError("checkpoint cadence must be at least 1 entry and 1 ms")


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class Checkpointer:
    """Signs checkpoints of one log (one origin, i.e. one jurisdiction) at a cadence.

    ``signers`` are the log's note key (Ed25519, type 0x01) and its ML-DSA-44
    cosignature key (type 0x06); ``verifiers`` are their public halves, used to
    re-open the previous checkpoint so a tampered store is never trusted.
    """

    def __init__(
        self,
        origin: str,
        tree: TreeView,
        store: CheckpointStore,
        signers: Sequence[NoteSigner],
        verifiers: Sequence[NoteVerifier],
        policy: CheckpointerPolicy | None = None,
        clock_ms: Callable[[], int] = _monotonic_ms,
    ) -> None:
        if not signers or not verifiers:
            raise ConfigError("a checkpointer needs at least one signing key and its vkey")
        self.origin = origin
        self.tree = tree
        self.store = store
        self.signers = tuple(signers)
        self.verifiers = tuple(verifiers)
        self.policy = policy or CheckpointerPolicy()
        self.clock_ms = clock_ms
        self._lock = threading.Lock()
        self._last_ms = clock_ms()
        self._last: SignedCheckpoint | None = self.previous()

    def previous(self) -> SignedCheckpoint | None:
        """The last stored checkpoint, verified with the log's own keys."""
        raw = self.store.latest_checkpoint()
        if raw is None:
            return None
        try:
            return open_checkpoint(raw, self.origin, self.verifiers)
        except LedgerError as e:
            raise InconsistentTreeError(
                f"the stored checkpoint does not verify with the log's keys: {e}"
            ) from e

    def due(self) -> bool:
        """True when the cadence asks for a new checkpoint."""
        last = self._last.checkpoint.size if self._last else 0
        new = self.tree.size - last
        if new <= 0:
            return False
        return new >= self.policy.every_entries or (
            self.clock_ms() - self._last_ms >= self.policy.every_ms
        )

    def maybe_checkpoint(self) -> SignedCheckpoint | None:
        """Sign a checkpoint if :meth:`due`, else return ``None``."""
        return self.checkpoint() if self.due() else None

    def checkpoint(self) -> SignedCheckpoint:
        """Sign and store a checkpoint of the current tree, if consistent with the last one.

        Returns the previous checkpoint unchanged when the tree has not grown.
        """
        with self._lock:
            prev = self.previous()
            size = self.tree.size
            root = self.tree.root(size)
            if prev is not None:
                self._check_consistent(prev.checkpoint, size, root)
                if size == prev.checkpoint.size:
                    self._last, self._last_ms = prev, self.clock_ms()
                    return prev
            cp = Checkpoint(self.origin, size, root)
            note = sign_note(cp.body(), self.signers)
            signed = open_checkpoint(note, self.origin, self.verifiers)
            self.store.store_checkpoint(size, note)
            self._last, self._last_ms = signed, self.clock_ms()
            return signed

    def _check_consistent(self, prev: Checkpoint, size: int, root: bytes) -> None:
        if size < prev.size:
            raise InconsistentTreeError(
                f"tree size {size} is smaller than the last checkpoint's {prev.size}: rollback"
            )
        if size == prev.size:
            if root != prev.root_hash:
                raise InconsistentTreeError(
                    f"tree of size {size} has a different root than the last checkpoint: fork"
                )
            return
        if prev.size == 0:
            return  # the empty tree is consistent with every tree
        try:
            proof = self.tree.consistency_proof(prev.size, size)
            verify_consistency(prev.size, size, proof, prev.root_hash, root)
        except LedgerError as e:
            raise InconsistentTreeError(
                f"tree {size} is not consistent with checkpoint {prev.size}: {e}"
            ) from e

    def run(self, stop: threading.Event, poll_ms: int = 10) -> None:
        """Sign on cadence until ``stop`` is set (for a background thread)."""
        while not stop.wait(poll_ms / 1000):
            self.maybe_checkpoint()
