"""Crash-safe file replacement: write a temp file, fsync, rename over, fsync the directory."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write", "ensure_private_dir"]


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (0700) if missing; refuse an existing directory others can read or write."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        from rsrp.keys._errors import KeyStoreError

        raise KeyStoreError(f"{path} is mode {mode:o}: a key store directory must be 0700")


def atomic_write(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically (mode 0600).

    After a crash, ``path`` holds either the old or the new bytes, never a mix: the
    data goes to a temp file in the same directory, is fsynced, renamed over ``path``
    (POSIX rename is atomic), and the directory entry is fsynced. With ``exclusive``,
    fail with FileExistsError if ``path`` already exists (no silent overwrite).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            # link() fails if the target exists: an atomic create-if-absent.
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
