"""The pipeline's stage interfaces: the service talks to policy, proof and ledger
through these small protocols, wired to the real implementations in ``_wiring``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rsrp.keys import KeyStore
from rsrp.policy.decision import Decision

__all__ = [
    "CheckpointView",
    "LedgerStage",
    "PolicyStage",
    "ProofStage",
    "ReceiptView",
    "Stages",
]


class PolicyStage(Protocol):
    """A loaded, compiled bundle."""

    @property
    def bundle_id(self) -> str: ...
    @property
    def bundle_version(self) -> str: ...
    @property
    def jurisdiction(self) -> str: ...
    @property
    def policy_hash(self) -> bytes: ...
    @property
    def bytecode_hash(self) -> bytes: ...

    def decide(self, data: Mapping[str, object], *, now: dt.datetime) -> Decision: ...


class ProofStage(Protocol):
    """Turns a decision into the canonical envelope bytes that go into the ledger."""

    @property
    def mode(self) -> str:
        """``batch`` or ``per-decision``."""
        ...

    def seal(self, decision: Decision, *, request_id: str, state_hash: bytes) -> bytes: ...

    def seal_many(self, items: Sequence[tuple[Decision, str, bytes]]) -> list[bytes]: ...

    def selftest(self) -> None:
        """Raise unless the signing key is usable (sign + verify a probe)."""
        ...


@dataclass(frozen=True, slots=True)
class CheckpointView:
    size: int
    root: bytes
    #: The signed note text (C2SP tlog-checkpoint in a signed note).
    note: str
    signed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ReceiptView:
    #: The C2SP tlog-proof@v1 text (index, inclusion path, signed checkpoint).
    tlog_proof: str
    #: The rsrp receipt file (envelope + tlog-proof [+ time-stamp]), as `rsrp receipt` reads it.
    receipt: str


class LedgerStage(Protocol):
    """The transparency log. ``append`` returns only after a durable commit."""

    def append(self, entry: bytes) -> int: ...
    def append_many(self, entries: Sequence[bytes]) -> list[int]: ...
    def size(self) -> int: ...
    def entry(self, index: int) -> bytes: ...
    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...
    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...
    def latest_checkpoint(self) -> CheckpointView | None: ...
    def receipt(self, index: int) -> ReceiptView | None:
        """The receipt of ``index`` once a checkpoint covers it, else None."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Stages:
    policy: PolicyStage
    proof: ProofStage
    ledger: LedgerStage
    #: The key store the real stages sign with (rsrp.api._keys); None for test doubles.
    keystore: KeyStore | None = None
