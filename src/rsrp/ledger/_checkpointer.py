"""The log's checkpointer: signs a checkpoint every N entries or T milliseconds.

c2sp.org/tlog-checkpoint §Signatures: "A log MUST not sign any checkpoint which is
inconsistent with any checkpoint it previously signed." Before signing, the
checkpointer re-opens its last stored checkpoint with its own keys, then checks
an RFC 9162 §2.1.4 consistency proof from it to the new tree head; on any doubt
it refuses with :class:`InconsistentTreeError` and signs nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from rsrp.errors import ConfigError, LedgerError
from rsrp.ledger._checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from rsrp.ledger._errors import CheckpointError
from rsrp.ledger._log import Log
from rsrp.ledger._note import NoteSigner, NoteVerifier, sign_note
from rsrp.ledger._storage import StoredCheckpoint
from rsrp.ledger._verify import verify_consistency

__all__ = [
    "CheckpointStore",
    "Checkpointer",
    "CheckpointerPolicy",
    "InconsistentTreeError",
    "LogView",
    "NoteBytesStore",
    "TreeView",
]


_log = logging.getLogger(__name__)


class InconsistentTreeError(CheckpointError):
    """The tree head is not an append-only extension of the last signed checkpoint."""


class TreeView(Protocol):
    """The log's current tree: size, root at a size, consistency proofs (ledger-core API)."""

    @property
    def size(self) -> int: ...

    def root(self, size: int | None = None) -> bytes: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...


class CheckpointStore(Protocol):
    """Where signed checkpoints are kept: ledger-core's :class:`rsrp.ledger.Log` API."""

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def store_checkpoint(
        self,
        size: int,
        root: bytes,
        note: bytes,
        *,
        timestamp_token: bytes | None = None,
        cosignatures: bytes | None = None,
        created_at: dt.datetime | None = None,
    ) -> StoredCheckpoint: ...


class NoteBytesStore(Protocol):
    """The simpler store some callers wrap around a log: signed-note bytes only."""

    def latest_checkpoint(self) -> bytes | None: ...

    def store_checkpoint(self, size: int, note: bytes) -> None: ...


class LogView(TreeView, CheckpointStore, Protocol):
    """A log that is both its tree and its checkpoint store (as :class:`rsrp.ledger.Log`)."""


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

    ``tree`` is the log's tree and ``store`` its checkpoint store; with ledger-core's
    :class:`rsrp.ledger.Log` pass the same object twice (the store then also keeps
    the RFC 3161 token). A :class:`NoteBytesStore` keeps the note bytes only.
    ``timestamper`` (optional) returns an RFC 3161 token for a checkpoint text, e.g.
    ``lambda text: request_timestamp(url, text).encode().encode()``.
    ``signers`` are the log's note key (Ed25519, type 0x01) and its ML-DSA-44
    cosignature key (type 0x06); ``verifiers`` are their public halves, used to
    re-open the previous checkpoint so a tampered store is never trusted.
    """

    def __init__(
        self,
        origin: str,
        tree: TreeView,
        store: CheckpointStore | NoteBytesStore,
        signers: Sequence[NoteSigner],
        verifiers: Sequence[NoteVerifier],
        policy: CheckpointerPolicy | None = None,
        clock_ms: Callable[[], int] = _monotonic_ms,
        timestamper: Callable[[bytes], bytes] | None = None,
    ) -> None:
        if not signers or not verifiers:
            raise ConfigError("a checkpointer needs at least one signing key and its vkey")
        self.origin = origin
        self.log = tree
        self.store = store
        self.timestamper = timestamper
        self.signers = tuple(signers)
        self.verifiers = tuple(verifiers)
        self.policy = policy or CheckpointerPolicy()
        self.clock_ms = clock_ms
        self._lock = threading.Lock()
        self._last_ms = clock_ms()
        self._last: SignedCheckpoint | None = self.previous()

    def previous(self) -> SignedCheckpoint | None:
        """The last stored checkpoint, verified with the log's own keys."""
        stored = self.store.latest_checkpoint()
        if stored is None:
            return None
        note = stored if isinstance(stored, bytes) else stored.note
        try:
            signed = open_checkpoint(note, self.origin, self.verifiers)
        except LedgerError as e:
            raise InconsistentTreeError(
                f"the stored checkpoint does not verify with the log's keys: {e}"
            ) from e
        if not isinstance(stored, bytes) and (
            (signed.checkpoint.size, signed.checkpoint.root_hash) != (stored.size, stored.root)
        ):
            raise InconsistentTreeError("the stored checkpoint's note and its row disagree")
        return signed

    def due(self) -> bool:
        """True when the cadence asks for a new checkpoint."""
        last = self._last.checkpoint.size if self._last else 0
        new = self.log.size - last
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
            size = self.log.size
            root = self.log.root(size)
            if prev is not None:
                self._check_consistent(prev.checkpoint, size, root)
                if size == prev.checkpoint.size:
                    self._last, self._last_ms = prev, self.clock_ms()
                    return prev
            cp = Checkpoint(self.origin, size, root)
            note = sign_note(cp.body(), self.signers)
            signed = open_checkpoint(note, self.origin, self.verifiers)
            # The stamp covers the note text (see _timestamp); a TSA outage must not stop
            # the log, so the token is optional here and attached when obtained.
            self._store(cp, note)
            self._last, self._last_ms = signed, self.clock_ms()
            return signed

    def _store(self, cp: Checkpoint, note: bytes) -> None:
        if isinstance(self.store, Log):
            self.store.store_checkpoint(
                cp.size, cp.root_hash, note, timestamp_token=self._stamp(cp)
            )
        else:
            if self.timestamper is not None:
                _log.warning("a NoteBytesStore cannot keep the RFC 3161 token; not stamped")
            cast("NoteBytesStore", self.store).store_checkpoint(cp.size, note)

    def _stamp(self, cp: Checkpoint) -> bytes | None:
        if self.timestamper is None:
            return None
        try:
            return self.timestamper(cp.body_bytes())
        except LedgerError as e:
            _log.warning("checkpoint %d signed without a time-stamp: %s", cp.size, e)
            return None

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
            proof = self.log.consistency_proof(prev.size, size)
            verify_consistency(prev.size, size, proof, prev.root_hash, root)
        except LedgerError as e:
            raise InconsistentTreeError(
                f"tree {size} is not consistent with checkpoint {prev.size}: {e}"
            ) from e

    def run(self, stop: threading.Event, poll_ms: int = 10) -> None:
        """Sign on cadence until ``stop`` is set (for a background thread).

        Any failure stops the loop (fail closed: no more checkpoints) after logging it.
        """
        while not stop.wait(poll_ms / 1000):
            try:
                self.maybe_checkpoint()
            except LedgerError:
                _log.exception("checkpointer for %s stopped", self.origin)
                raise
