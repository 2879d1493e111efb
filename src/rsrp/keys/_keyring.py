"""Verifiers from exported public keys: the :class:`Keyring` an auditor or peer holds.

An export directory holds, per key, ``<key id>.json``::

    {"format": "rsrp-public-key/1", "key": {KeyInfo fields}, "active_until": RFC 3339 | null,
     "public_key_pem": "-----BEGIN PUBLIC KEY-----..."}

and the same key as ``<key id>.pem`` for other tools. ``active_until`` is when the
key stopped signing (deactivated or compromised, from the key-event journal).
``keyring.verifier(key_id, at=t)`` gives a :class:`Verifier` only if the key could
sign at ``t``: inside its validity window, not before activation, not after
``active_until``, and never for a key in the compromised state.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rsrp import crypto
from rsrp.keys._errors import (
    KeyFileCorruptError,
    KeyNotValidAtError,
    UnknownKeyError,
)
from rsrp.keys._export import spki_pem
from rsrp.keys._material import crypto_errors, load_public
from rsrp.keys._model import KeyInfo, KeyState, format_time, parse_time
from rsrp.keys._store import BaseKeyStore, utc_now

__all__ = ["EXPORT_FORMAT", "Keyring", "KeyringEntry", "KeyringVerifier", "export_public"]

EXPORT_FORMAT = "rsrp-public-key/1"
_MAX_EXPORT = 256 * 1024


@dataclass(frozen=True, slots=True)
class KeyringEntry:
    info: KeyInfo
    active_until: datetime | None
    public_key: crypto.PublicKey

    def check_valid_at(self, at: datetime) -> None:
        i = self.info
        if i.state in (KeyState.PRE_ACTIVATION, KeyState.COMPROMISED):
            raise KeyNotValidAtError(f"key {i.key_id} is {i.state.value}: it verifies nothing")
        if at < i.not_before or (i.not_after is not None and at >= i.not_after):
            raise KeyNotValidAtError(f"key {i.key_id} was outside its validity window at {at}")
        if self.active_until is not None and at > self.active_until:
            raise KeyNotValidAtError(
                f"key {i.key_id} stopped signing at {format_time(self.active_until)}; "
                f"it cannot have signed at {format_time(at)}"
            )


@dataclass(frozen=True, slots=True)
class KeyringVerifier:
    """A :class:`rsrp.keys.signer.Verifier` over one exported public key."""

    key_id: str
    algorithm: str
    public_key: crypto.PublicKey

    def verify(self, message: bytes, signature: bytes, *, context: bytes = b"") -> None:
        """Raise :class:`SignatureInvalidError` (with the failing component) or return."""
        with crypto_errors(f"verifying with {self.key_id}"):
            self.public_key.verify(message, signature, context)


class Keyring:
    """Public keys by key id, with validity windows and states."""

    def __init__(self, entries: dict[str, KeyringEntry]) -> None:
        self._entries = dict(entries)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Keyring:
        """Load every ``*.json`` export in ``directory`` (strictly; any bad file fails)."""
        entries: dict[str, KeyringEntry] = {}
        for path in sorted(Path(directory).glob("*.json")):
            entry = _load_entry(path)
            if entry.info.key_id in entries:
                raise KeyFileCorruptError(f"key {entry.info.key_id} is exported twice")
            entries[entry.info.key_id] = entry
        return cls(entries)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._entries

    def entries(self) -> list[KeyringEntry]:
        return [self._entries[k] for k in sorted(self._entries)]

    def entry(self, key_id: str) -> KeyringEntry:
        try:
            return self._entries[key_id]
        except KeyError:
            raise UnknownKeyError(f"key {key_id!r} is not in the keyring") from None

    def verifier(self, key_id: str, *, at: datetime | None = None) -> KeyringVerifier:
        """A verifier for ``key_id`` if that key could sign at ``at`` (default: now).

        Raises :class:`UnknownKeyError` or :class:`KeyNotValidAtError`."""
        entry = self.entry(key_id)
        entry.check_valid_at(at or utc_now())
        return KeyringVerifier(key_id, entry.info.algorithm, entry.public_key)


def _load_entry(path: Path) -> KeyringEntry:
    data = path.read_bytes()
    if len(data) > _MAX_EXPORT:
        raise KeyFileCorruptError(f"{path.name}: larger than {_MAX_EXPORT} bytes")
    try:
        obj = json.loads(data)
        if not isinstance(obj, dict) or set(obj) != {
            "format",
            "key",
            "active_until",
            "public_key_pem",
        }:
            raise KeyFileCorruptError(f"{path.name}: wrong field set")
        if obj["format"] != EXPORT_FORMAT or not isinstance(obj["public_key_pem"], str):
            raise KeyFileCorruptError(f"{path.name}: not an {EXPORT_FORMAT} export")
        info = KeyInfo.from_json(obj["key"])
        until = obj["active_until"]
        active_until = None if until is None else parse_time(str(until))
    except KeyFileCorruptError:
        raise
    except Exception as e:
        raise KeyFileCorruptError(f"{path.name}: {e}") from e
    public = load_public(obj["public_key_pem"].encode())
    if public.algorithm != info.algorithm:
        raise KeyFileCorruptError(
            f"{path.name}: public key is {public.algorithm}, metadata says {info.algorithm}"
        )
    if path.stem != info.key_id:
        raise KeyFileCorruptError(f"{path.name} holds key {info.key_id}")
    return KeyringEntry(info, active_until, public)


def _active_until(store: BaseKeyStore, key_id: str) -> datetime | None:
    for ev in store.journal():
        if ev.key.key_id == key_id and ev.key.state in (
            KeyState.DEACTIVATED,
            KeyState.COMPROMISED,
        ):
            return ev.key.state_changed_at
    return None


def export_public(store: BaseKeyStore, key_id: str, directory: str | os.PathLike[str]) -> Path:
    """Write ``<key id>.json`` and ``<key id>.pem`` for ``key_id`` into ``directory``."""
    from rsrp.keys._atomic import atomic_write

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    info = store.info(key_id)
    pem = spki_pem(store.public_key(key_id))
    until = _active_until(store, key_id)
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "key": info.to_json(),
        "active_until": None if until is None else format_time(until),
        "public_key_pem": pem,
    }
    path = out / f"{key_id}.json"
    atomic_write(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
    atomic_write(out / f"{key_id}.pem", pem.encode())
    for p in (path, out / f"{key_id}.pem"):
        p.chmod(0o644)  # public material: readable by the auditors it is meant for
    return path
