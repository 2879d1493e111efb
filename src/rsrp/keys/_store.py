"""The lifecycle logic every key-store back-end shares (:class:`BaseKeyStore`).

A back-end (software files, PKCS#11 token) implements the few ``_``-prefixed
material hooks of :class:`BaseKeyStore`; state changes, jurisdiction and policy
checks, rotation and the key-event journal live here once.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import fcntl
import getpass
import os
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from rsrp.keys._errors import JournalError, JurisdictionError, KeyExistsError, KeyStoreError
from rsrp.keys._journal import JournalEvent, KeyJournal
from rsrp.keys._model import KeyInfo, KeyState, Purpose, check_jurisdiction, check_key_id
from rsrp.keys._policy import KeyPolicy

__all__ = ["BaseKeyStore", "StoreSigner", "default_actor", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_actor() -> str:
    """Who is acting, for the journal: ``RSRP_ACTOR`` or the OS user name."""
    return os.environ.get("RSRP_ACTOR") or getpass.getuser()


class BaseKeyStore(ABC):
    """Lifecycle, checks and journal over a back-end's material hooks."""

    scheme: str = ""

    def __init__(
        self,
        *,
        journal: KeyJournal,
        lock_path: Path | None = None,
        default_jurisdiction: str | None = None,
        policy: KeyPolicy | None = None,
        actor: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._journal = journal
        self.default_jurisdiction = (
            None if default_jurisdiction is None else check_jurisdiction(default_jurisdiction)
        )
        self.policy = policy or KeyPolicy()
        self.policy.check_store(self.scheme)
        self.actor = actor or default_actor()
        self.clock = clock
        self._lock = threading.RLock()
        self._lock_path = lock_path
        self._flock_depth = 0

    @contextlib.contextmanager
    def _mutex(self) -> Iterator[None]:
        """Serialise lifecycle changes: a thread lock, plus flock(2) on ``lock_path`` so that
        two processes cannot lose each other's read-modify-write of a key's state."""
        with self._lock:
            if self._flock_depth or self._lock_path is None:  # re-entered, or no file lock
                yield
                return
            self._lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._flock_depth = 1
                yield
            finally:
                self._flock_depth = 0
                os.close(fd)  # releases the lock

    # ---- back-end hooks -------------------------------------------------------------
    @abstractmethod
    def _exists(self, key_id: str) -> bool: ...
    @abstractmethod
    def _create(self, info: KeyInfo) -> None:
        """Generate material for ``info`` and persist both (the key id is new)."""

    @abstractmethod
    def _import(self, info: KeyInfo, pkcs8: bytes) -> None: ...
    @abstractmethod
    def new_import_key(self) -> tuple[str, bytes]:
        """A one-time AES-256 BYOK import key: ``(id, key bytes)`` (docs/key-custody.md)."""

    @abstractmethod
    def _unwrap_import(self, wrapping_key_id: str, wrapped: bytes) -> bytes:
        """RFC 5649-unwrap ``wrapped`` with a store-held import key; return PKCS#8 DER."""

    @abstractmethod
    def _forget_import_key(self, wrapping_key_id: str) -> None:
        """Delete a one-time import key after a successful import."""

    @abstractmethod
    def _algorithm_of_pkcs8(self, pkcs8: bytes) -> str: ...
    @abstractmethod
    def _load_info(self, key_id: str) -> KeyInfo:
        """Raise :class:`UnknownKeyError` if there is no such key."""

    @abstractmethod
    def _save_info(self, info: KeyInfo) -> None: ...
    @abstractmethod
    def _public_der(self, key_id: str) -> bytes: ...
    @abstractmethod
    def _sign(self, info: KeyInfo, message: bytes, context: bytes) -> bytes: ...
    @abstractmethod
    def _decapsulate(self, info: KeyInfo, ciphertext: bytes) -> bytes: ...
    @abstractmethod
    def _destroy_material(self, info: KeyInfo) -> None: ...
    @abstractmethod
    def _key_ids(self) -> builtins.list[str]: ...

    # ---- creation -------------------------------------------------------------------
    def _new_info(
        self,
        algorithm: str,
        purpose: Purpose,
        jurisdiction: str | None,
        key_id: str | None,
        not_before: datetime | None,
        not_after: datetime | None,
        test: bool,
        rotated_from: str | None = None,
    ) -> KeyInfo:
        jur = jurisdiction or self.default_jurisdiction
        if jur is None:
            raise JurisdictionError("no jurisdiction given and the store has no default")
        now = self.clock()
        kid = key_id or f"{jur.lower()}-{purpose.value}-{now:%Y%m%d}-{secrets.token_hex(4)}"
        check_key_id(kid)
        if self._exists(kid):
            raise KeyExistsError(f"key {kid} already exists; key ids are never reused")
        info = KeyInfo(
            key_id=kid,
            algorithm=algorithm,
            purpose=Purpose(purpose),
            jurisdiction=jur,
            not_before=not_before or now,
            not_after=not_after,
            state=KeyState.PRE_ACTIVATION,
            state_changed_at=now,
            created_at=now,
            test=test,
            rotated_from=rotated_from,
        )
        self.policy.check_key(info)
        return info

    def generate(
        self,
        algorithm: str,
        purpose: Purpose,
        *,
        jurisdiction: str | None = None,
        key_id: str | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        activate: bool = True,
        test: bool = False,
    ) -> KeyInfo:
        """Create a key (pre-activation), journal it, and activate it unless told not to."""
        with self._mutex():
            info = self._new_info(
                algorithm, purpose, jurisdiction, key_id, not_before, not_after, test
            )
            self._create(info)
            self._record("generate", info)
            return self._set_state(info.key_id, KeyState.ACTIVE, "activate") if activate else info

    def import_key(
        self,
        data: bytes,
        purpose: Purpose,
        *,
        wrapping_key_id: str | None = None,
        jurisdiction: str | None = None,
        key_id: str | None = None,
        not_after: datetime | None = None,
        test: bool = False,
    ) -> KeyInfo:
        """BYOK: import a customer key given as PKCS#8 (DER or PEM), or as an RFC 5649
        AES key wrap of the PKCS#8 DER under the import key ``wrapping_key_id`` that this
        store handed out (:meth:`new_import_key`). The key is activated."""
        with self._mutex():
            pkcs8 = (
                self._unwrap_import(wrapping_key_id, data)
                if wrapping_key_id is not None
                else _pkcs8_der(data)
            )
            algorithm = self._algorithm_of_pkcs8(pkcs8)
            info = self._new_info(algorithm, purpose, jurisdiction, key_id, None, not_after, test)
            self._import(info, pkcs8)
            if wrapping_key_id is not None:
                self._forget_import_key(wrapping_key_id)
            self._record("import", info)
            return self._set_state(info.key_id, KeyState.ACTIVE, "activate")

    # ---- reading --------------------------------------------------------------------
    def info(self, key_id: str) -> KeyInfo:
        """The key's attributes; :class:`UnknownKeyError` if there is no such key."""
        return self._load_info(check_key_id(key_id))

    def list(self) -> builtins.list[KeyInfo]:
        return [self._load_info(k) for k in sorted(self._key_ids())]

    def public_key(self, key_id: str) -> bytes:
        """SubjectPublicKeyInfo DER; still available after deactivation or destruction."""
        self.info(key_id)
        return self._public_der(key_id)

    def journal(self) -> builtins.list[JournalEvent]:
        """The key-event journal after checking its hash chain (:func:`verify_journal`)."""
        return self._journal.events()

    def check_journal(self) -> builtins.list[JournalEvent]:
        """Check the chain, and that every key's current attributes equal those of its
        last journal event: a key changed without a journal line (edited metadata, a
        crash between the two writes, or journal lines cut off the end) is reported."""
        events = self._journal.events()
        last: dict[str, KeyInfo] = {}
        for ev in events:
            last[ev.key.key_id] = ev.key
        problems = []
        for info in self.list():
            if info.key_id not in last:
                problems.append(f"{info.key_id}: no journal event")
            elif last[info.key_id] != info:
                problems.append(
                    f"{info.key_id}: store says {info.state.value}, journal's last event "
                    f"says {last[info.key_id].state.value} (or other attributes differ)"
                )
        problems += [
            f"{k}: journalled but absent from the store" for k in last if not self._exists(k)
        ]
        if problems:
            raise JournalError("journal and store disagree: " + "; ".join(problems))
        return events

    # ---- use ------------------------------------------------------------------------
    def _usable(self, key_id: str, jurisdiction: str | None) -> KeyInfo:
        info = self.info(key_id)
        if jurisdiction is not None and jurisdiction != info.jurisdiction:
            raise JurisdictionError(
                f"key {key_id} belongs to {info.jurisdiction}; refusing to act for {jurisdiction}"
            )
        self.policy.check_key(info)
        info.check_usable(self.clock())
        return info

    def sign(
        self, key_id: str, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        info = self._usable(key_id, jurisdiction)
        if info.is_kem:
            raise KeyStoreError(f"key {key_id} is a {info.algorithm} key: it does not sign")
        return self._sign(info, message, context)

    def decapsulate(
        self, key_id: str, ciphertext: bytes, *, jurisdiction: str | None = None
    ) -> bytes:
        info = self._usable(key_id, jurisdiction)
        if not info.is_kem:
            raise KeyStoreError(f"key {key_id} is a {info.algorithm} key: it does not decapsulate")
        return self._decapsulate(info, ciphertext)

    def signer(self, key_id: str) -> StoreSigner:
        """A :class:`Signer` bound to ``key_id``; each call re-checks state and jurisdiction."""
        info = self.info(key_id)
        self.policy.check_key(info)
        return StoreSigner(self, info.key_id, info.algorithm, info.jurisdiction)

    # ---- lifecycle ------------------------------------------------------------------
    def _record(self, event: str, info: KeyInfo) -> None:
        self._journal.append(event, info, actor=self.actor, time=self.clock())

    def _set_state(self, key_id: str, new: KeyState, event: str) -> KeyInfo:
        with self._mutex():
            info = self.info(key_id).transition(new, self.clock())
            self._save_info(info)
            self._record(event, info)
            return info

    def activate(self, key_id: str) -> KeyInfo:
        return self._set_state(key_id, KeyState.ACTIVE, "activate")

    def suspend(self, key_id: str) -> KeyInfo:
        return self._set_state(key_id, KeyState.SUSPENDED, "suspend")

    def retire(self, key_id: str) -> KeyInfo:
        """Deactivate: the key never signs again; its public key still verifies the past."""
        return self._set_state(key_id, KeyState.DEACTIVATED, "deactivate")

    def compromise(self, key_id: str) -> KeyInfo:
        return self._set_state(key_id, KeyState.COMPROMISED, "compromise")

    def destroy(self, key_id: str) -> KeyInfo:
        """Destroy the private material (SP 800-57 §7.1 "destroyed"); the metadata and
        public key remain so past signatures stay verifiable and the record complete."""
        with self._mutex():
            info = self.info(key_id)
            new = info.transition(KeyState.DESTROYED, self.clock())
            self._destroy_material(new)
            self._save_info(new)
            self._record("destroy", new)
            return new

    def rotate(self, key_id: str, *, new_key_id: str | None = None) -> KeyInfo:
        """Create and activate a successor (same algorithm, purpose, jurisdiction, test flag,
        and validity length if bounded), then deactivate ``key_id``. Returns the new key."""
        with self._mutex():
            old = self.info(key_id)
            if old.state not in (KeyState.ACTIVE, KeyState.SUSPENDED):
                raise KeyStoreError(f"key {key_id} is {old.state.value}; only a live key rotates")
            now = self.clock()
            not_after = None
            if old.not_after is not None:
                not_after = now + (old.not_after - old.not_before)
            new = self._new_info(
                old.algorithm,
                old.purpose,
                old.jurisdiction,
                new_key_id,
                now,
                not_after,
                old.test,
                rotated_from=old.key_id,
            )
            self._create(new)
            self._record("rotate", new)
            new = self._set_state(new.key_id, KeyState.ACTIVE, "activate")
            self._set_state(old.key_id, KeyState.DEACTIVATED, "deactivate")
            return new


def _pkcs8_der(data: bytes) -> bytes:
    """Accept PKCS#8 as DER or as PEM ("PRIVATE KEY"); refuse encrypted PEM and others."""
    stripped = data.strip()
    if not stripped.startswith(b"-----BEGIN"):
        return data
    import base64
    import re

    from rsrp.keys._errors import MalformedKeyMaterialError

    m = re.fullmatch(
        rb"-----BEGIN PRIVATE KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PRIVATE KEY-----",
        stripped,
    )
    if not m:
        raise MalformedKeyMaterialError("PEM must be one unencrypted 'PRIVATE KEY' (PKCS#8) block")
    try:
        return base64.b64decode(b"".join(m.group(1).split()), validate=True)
    except ValueError as e:
        raise MalformedKeyMaterialError(f"PEM body is not base64: {e}") from e


@dataclasses.dataclass(frozen=True, slots=True)
class StoreSigner:
    """A :class:`rsrp.keys.signer.Signer` over one key of a :class:`BaseKeyStore`."""

    store: BaseKeyStore
    key_id: str
    algorithm: str
    jurisdiction: str

    def public_key_der(self) -> bytes:
        return self.store.public_key(self.key_id)

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        return self.store.sign(self.key_id, message, context=context, jurisdiction=jurisdiction)
