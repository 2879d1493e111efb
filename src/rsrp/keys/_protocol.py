"""The :class:`KeyStore` protocol: what the rest of rsrp needs from a key store (issue 3).

:class:`rsrp.keys.BaseKeyStore` implements it for the ``file:`` and ``pkcs11:`` stores.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol, runtime_checkable

from rsrp.keys._journal import JournalEvent
from rsrp.keys._model import KeyInfo, Purpose
from rsrp.keys.signer import Signer

__all__ = ["KeyStore"]


@runtime_checkable
class KeyStore(Protocol):
    """What the rest of rsrp needs from a key store (issue 3)."""

    @property
    def scheme(self) -> str: ...
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
    ) -> KeyInfo: ...
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
    ) -> KeyInfo: ...
    def new_import_key(self) -> tuple[str, bytes]: ...
    def info(self, key_id: str) -> KeyInfo: ...
    def list(self) -> builtins.list[KeyInfo]: ...
    def public_key(self, key_id: str) -> bytes: ...
    def signer(self, key_id: str) -> Signer: ...
    def sign(
        self, key_id: str, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes: ...
    def decapsulate(
        self, key_id: str, ciphertext: bytes, *, jurisdiction: str | None = None
    ) -> bytes: ...
    def rotate(self, key_id: str, *, new_key_id: str | None = None) -> KeyInfo: ...
    def retire(self, key_id: str) -> KeyInfo: ...
    def destroy(self, key_id: str) -> KeyInfo: ...
    def journal(self) -> builtins.list[JournalEvent]: ...
    def check_journal(self) -> builtins.list[JournalEvent]: ...
