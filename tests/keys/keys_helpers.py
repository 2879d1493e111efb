"""Shared helpers for the key-plane tests (imported, not collected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rsrp.keys import FileKeyStore, KeyInfo, KeyPolicy, KeyState, Purpose

PASSPHRASE = b"correct horse battery staple"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """A settable clock, so validity windows and state times are deterministic."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def file_store(
    directory: Path,
    *,
    clock: Clock | None = None,
    passphrase: bytes = PASSPHRASE,
    jurisdiction: str | None = "FR",
    policy: KeyPolicy | None = None,
) -> FileKeyStore:
    return FileKeyStore(
        directory,
        passphrase=lambda: passphrase,
        default_jurisdiction=jurisdiction,
        policy=policy,
        actor="test-operator",
        clock=clock or Clock(),
        scrypt_log2_n=14,  # the minimum the reader accepts; keeps tests fast
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes, to prove nothing changed."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def info(**kw: Any) -> KeyInfo:
    base: dict[str, Any] = {
        "key_id": "fr-test-1",
        "algorithm": "ed25519",
        "purpose": Purpose.DECISION_SIGNING,
        "jurisdiction": "FR",
        "not_before": T0,
        "not_after": T0 + timedelta(days=30),
        "state": KeyState.ACTIVE,
        "state_changed_at": T0,
        "created_at": T0,
    }
    base.update(kw)
    return KeyInfo(**base)
