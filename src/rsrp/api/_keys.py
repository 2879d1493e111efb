"""The service's keys: which it signs with, what an admin sees, and online rotation.

The service signs with the *active* key of each (purpose, algorithm) it needs in its
jurisdiction: the V2 decision key (composite ML-DSA-65 + ECDSA P-384), the log's
Ed25519 note key and its ML-DSA-44 cosignature key. :class:`ServiceKeys` lists the
store's keys with public material only (SPKI PEM, and C2SP vkeys for checkpoint
keys), rotates a key the service uses through ``KeyStore.rotate`` (journalled in the
store's hash-chained key-event journal with the admin as actor) and switches the
running stages to the successor at once. Other replicas follow within one sweep
(:meth:`ServiceKeys.follow`); until then their checkpointer's signing attempt with
the deactivated key fails and is retried, it never signs with it.

Checkpoints signed before a rotation still verify: the checkpointer re-opens the
last stored checkpoint with the current *and* the retired checkpoint keys
(compromised keys excluded), and offline verifiers accept any key of each
(name, signature type) they are given (docs/ledger-checkpoints.md).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from rsrp.errors import ServiceError
from rsrp.keys import (
    BaseKeyStore,
    JournalEvent,
    KeyInfo,
    KeyState,
    KeyStore,
    Purpose,
    Signer,
    spki_pem,
)
from rsrp.ledger import KeyStoreCosigner, KeyStoreNoteSigner, NoteVerifier, verifier_from_vkey

__all__ = [
    "CHECKPOINT_PQ_ALGORITHM",
    "COMPOSITE_ALGORITHM",
    "SERVICE_KEYS",
    "CheckpointKeys",
    "KeyNotRotatableError",
    "KeyView",
    "ServiceKeys",
    "active_key",
    "checkpoint_keys",
    "log_origin",
]

#: The composite signature V2 envelopes use (rsrp.keys.signer naming).
COMPOSITE_ALGORITHM = "mldsa65-ecdsa-p384-sha512"
#: The log's post-quantum checkpoint key: its tlog-cosignature type 0x06 line.
CHECKPOINT_PQ_ALGORITHM = "ml-dsa-44"
_COSIGN_ALGORITHMS = frozenset({"ml-dsa-44", "ml-dsa-65"})
#: What the service signs with: (purpose, algorithm) of its decision and checkpoint keys.
SERVICE_KEYS = (
    (Purpose.DECISION_SIGNING, COMPOSITE_ALGORITHM),
    (Purpose.CHECKPOINT_SIGNING, "ed25519"),
    (Purpose.CHECKPOINT_SIGNING, CHECKPOINT_PQ_ALGORITHM),
)


def log_origin(configured: str, jurisdiction: str) -> str:
    """The checkpoint origin (and log key name): ``ledger.origin`` or ``rsrp.local/<J>``."""
    return configured or f"rsrp.local/{jurisdiction}"


class KeyNotRotatableError(ServiceError):
    """The key is not one this service signs with, or is not live (HTTP 409)."""


def active_key(
    store: KeyStore,
    purpose: Purpose,
    algorithm: str,
    jurisdiction: str,
    infos: Sequence[KeyInfo] | None = None,
) -> str | None:
    """The id of the active key for (purpose, algorithm, jurisdiction), if any
    (``infos``: an already-read ``store.list()``)."""
    for info in store.list() if infos is None else infos:
        if (
            info.purpose is purpose
            and info.algorithm == algorithm
            and info.jurisdiction == jurisdiction
            and info.state is KeyState.ACTIVE
        ):
            return info.key_id
    return None


def _vkey(store: KeyStore, info: KeyInfo, origin: str) -> str | None:
    """The C2SP vkey of a checkpoint key under the log's origin (None for other keys)."""
    if info.purpose is not Purpose.CHECKPOINT_SIGNING:
        return None
    signer = store.signer(info.key_id)
    if info.algorithm == "ed25519":
        return KeyStoreNoteSigner(origin, signer).vkey
    if info.algorithm in _COSIGN_ALGORITHMS:
        return KeyStoreCosigner(origin, signer).vkey
    return None


@dataclass(frozen=True, slots=True)
class CheckpointKeys:
    """What the checkpointer signs with, and every key it accepts on a stored checkpoint."""

    note: KeyStoreNoteSigner
    cosigner: KeyStoreCosigner
    #: Current keys first, then retired ones (not compromised): older checkpoints verify.
    verifiers: tuple[NoteVerifier, ...]


def checkpoint_keys(
    store: KeyStore, origin: str, note_signer: Signer, pq_signer: Signer
) -> CheckpointKeys:
    note = KeyStoreNoteSigner(origin, note_signer)
    cosigner = KeyStoreCosigner(origin, pq_signer)
    current: list[NoteVerifier] = [verifier_from_vkey(note.vkey), cosigner.verifier()]
    seen = {(v.name, v.key_id) for v in current}
    for info in store.list():
        if info.jurisdiction != note_signer.jurisdiction or info.state in (
            KeyState.COMPROMISED,
            KeyState.PRE_ACTIVATION,
        ):
            continue
        vkey = _vkey(store, info, origin)
        if vkey is None:
            continue
        v = verifier_from_vkey(vkey)
        if (v.name, v.key_id) not in seen:
            seen.add((v.name, v.key_id))
            current.append(v)
    return CheckpointKeys(note, cosigner, tuple(current))


@runtime_checkable
class Rekeyable(Protocol):
    """The ledger stage's hook for switching checkpoint keys while it runs."""

    def rekey(self, keys: CheckpointKeys) -> None: ...


@runtime_checkable
class Resignable(Protocol):
    """The proof stage's current decision signer (replaced on rotation)."""

    signer: Signer


@dataclass(frozen=True, slots=True)
class KeyView:
    info: KeyInfo
    public_key_pem: str
    vkey: str | None
    in_use: bool


class ServiceKeys:
    """Admin view and rotation of the service's key store (public material only)."""

    def __init__(
        self,
        store: KeyStore,
        jurisdiction: str,
        origin: str,
        *,
        ledger: Rekeyable | None,
        proof: Resignable | None,
        in_use: dict[tuple[Purpose, str], str],
    ) -> None:
        self.store = store
        self.jurisdiction = jurisdiction
        self.origin = origin
        self.ledger = ledger
        self.proof = proof
        #: (purpose, algorithm) → the key id the running stages sign with.
        self.in_use = dict(in_use)
        self._lock = threading.Lock()

    def views(self) -> list[KeyView]:
        used = set(self.in_use.values())
        out = []
        for info in self.store.list():
            vkey = (
                _vkey(self.store, info, self.origin)
                if info.jurisdiction == self.jurisdiction
                else None
            )
            pem = spki_pem(self.store.public_key(info.key_id))
            out.append(KeyView(info, pem, vkey, info.key_id in used))
        return out

    def events(self, limit: int) -> list[JournalEvent]:
        """The newest ``limit`` key-journal events, oldest first (hash chain checked)."""
        return self.store.journal()[-limit:]

    def rotate(self, key_id: str, actor: str) -> tuple[KeyInfo, KeyInfo]:
        """Rotate a key the service signs with; return (old, new) after switching to new."""
        with self._lock:
            old = self.store.info(key_id)
            slot = (old.purpose, old.algorithm)
            if self.in_use.get(slot) != key_id or old.jurisdiction != self.jurisdiction:
                raise KeyNotRotatableError(
                    f"key {key_id} is not a key this service signs with; "
                    "rotate it with `rsrp keys rotate`"
                )
            store = self.store
            previous = store.actor if isinstance(store, BaseKeyStore) else None
            if isinstance(store, BaseKeyStore):
                store.actor = actor  # the journal names the admin who rotated
            try:
                new = store.rotate(key_id)
            finally:
                if isinstance(store, BaseKeyStore) and previous is not None:
                    store.actor = previous
            self._switch()
            return store.info(key_id), new

    def follow(self) -> bool:
        """Switch to the store's active keys if another replica rotated; True if switched."""
        with self._lock:
            return self._switch()

    def _switch(self) -> bool:
        """Point the running stages at the store's active keys; True if any changed."""
        infos = self.store.list()
        active = {
            s: active_key(self.store, s[0], s[1], self.jurisdiction, infos) for s in self.in_use
        }
        changed = {s: k for s, k in active.items() if k is not None and k != self.in_use[s]}
        if not changed:
            return False
        ed = active.get((Purpose.CHECKPOINT_SIGNING, "ed25519"))
        pq = active.get((Purpose.CHECKPOINT_SIGNING, CHECKPOINT_PQ_ALGORITHM))
        rekey = any(s[0] is Purpose.CHECKPOINT_SIGNING for s in changed)
        if rekey and self.ledger is not None and ed is not None and pq is not None:
            signers = (self.store.signer(ed), self.store.signer(pq))
            self.ledger.rekey(checkpoint_keys(self.store, self.origin, *signers))
        decision = changed.get((Purpose.DECISION_SIGNING, COMPOSITE_ALGORITHM))
        if decision is not None and self.proof is not None:
            self.proof.signer = self.store.signer(decision)
        self.in_use.update(changed)
        return True
