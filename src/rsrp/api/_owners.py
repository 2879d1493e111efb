"""Which service processes are alive: one lock per process, held for its whole life.

An approval being concluded names its owner (this process's random id). Another
replica may take the conclusion over only once the owner is dead, and the operating
system (SQLite: an ``flock`` on ``<db>.owners/<id>.lock``) or the database server
(PostgreSQL: a session advisory lock) releases a dead process's lock at once, on
SIGKILL too. A live but slow owner keeps its lock, so its work is never taken over
under it: unlike a lease, no clock or timeout decides who may log a conclusion.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import psycopg

from rsrp.context._db import sqlite_path
from rsrp.errors import ServiceError

__all__ = ["OwnerLock", "OwnerLostError"]

log = logging.getLogger("rsrp.api.owners")

#: The first key of the two-key advisory lock space (distinct from the one-key space the
#: checkpoint leader uses): "rsrp" in ASCII.
_PG_CLASS = 0x72737270


class OwnerLostError(ServiceError):
    """This process no longer holds its owner lock: another replica may take its work over."""


def _pg_key(owner: str) -> int:
    return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:4], "big", signed=True)


class OwnerLock:
    """This process's liveness lock, and a probe of other owners' locks."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._pg = db_url.startswith(("postgresql://", "postgres://"))
        self._dir = None if self._pg else sqlite_path(db_url).with_suffix(".owners")
        self._mutex = threading.Lock()
        self._held: Any = None
        self.owner = ""
        self._acquire()

    def _acquire(self) -> None:
        for _ in range(8):  # a 32-bit PostgreSQL key may collide with a live owner's: re-draw
            owner = uuid.uuid4().hex
            try:
                if self._pg:
                    conn = psycopg.connect(self.db_url, autocommit=True)
                    got = conn.execute(
                        "SELECT pg_try_advisory_lock(%s, %s)", (_PG_CLASS, _pg_key(owner))
                    ).fetchone()
                    if not (got and got[0]):
                        conn.close()
                        continue
                    self._held = conn
                else:
                    assert self._dir is not None
                    self._dir.mkdir(parents=True, exist_ok=True)
                    # Locked before it appears under its name (rename keeps the inode's
                    # flock): a prober never finds a live owner's file unlocked.
                    fresh = self._dir / f"{owner}.new"
                    fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fresh.rename(self._dir / f"{owner}.lock")
                    self._held = fd
            except (OSError, psycopg.Error) as e:
                raise OwnerLostError(f"cannot take the process lock: {type(e).__name__}") from e
            self.owner = owner
            if self._dir is not None:
                self._forget_dead()
            return
        raise OwnerLostError("cannot take a process lock: every key drawn is held")

    def _forget_dead(self) -> None:
        """Remove the lock files of processes that died with nothing in flight (probing
        a dead owner's file removes it; nobody else ever would)."""
        assert self._dir is not None
        for path in self._dir.glob("*.lock"):
            with contextlib.suppress(OSError):
                self._file_alive(path.stem)

    def check(self, owner: str) -> None:
        """Raise :class:`OwnerLostError` unless this process still holds ``owner``'s lock.

        Called just before a ledger append: a PostgreSQL session that died (and with it
        the advisory lock) while the process lived means another replica may already
        be concluding the same approval.
        """
        with self._mutex:
            if owner != self.owner:
                raise OwnerLostError("the process lock was lost and re-taken meanwhile")
            if not self._pg:
                return  # an flock lives as long as the file descriptor, i.e. the process
            try:
                self._held.execute("SELECT 1")
            except psycopg.Error as e:
                self._relock()
                raise OwnerLostError("the process lock's database session ended") from e

    def _relock(self) -> None:
        """After the lock's session ended: a new identity (the old one's work is now
        anyone's, this process's sweep included)."""
        with contextlib.suppress(psycopg.Error):
            self._held.close()
        self._acquire()

    def alive(self, owner: str) -> bool:
        """True while the process that took ``owner``'s lock still holds it."""
        if owner == self.owner:
            return True
        with self._mutex:
            if self._pg:
                key = (_PG_CLASS, _pg_key(owner))
                try:
                    got = self._held.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
                    if got.fetchone() == (True,):
                        self._held.execute("SELECT pg_advisory_unlock(%s, %s)", key)
                        return False
                except psycopg.Error as e:
                    self._relock()
                    raise OwnerLostError(f"cannot probe process {owner}: {e}") from e
                return True
            return self._file_alive(owner)

    def _file_alive(self, owner: str) -> bool:
        assert self._dir is not None
        if owner == self.owner:
            return True
        if not owner.isalnum():  # never a path of our choosing otherwise
            return False
        path: Path = self._dir / f"{owner}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False  # its owner died and was cleaned up
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        # Dead: nobody ever locks this name again (ids are never reused), so remove it.
        with contextlib.suppress(OSError):
            path.unlink()
        return False

    def close(self) -> None:
        with self._mutex:
            held, self._held = self._held, None
            if isinstance(held, int):
                with contextlib.suppress(OSError):
                    assert self._dir is not None
                    (self._dir / f"{self.owner}.lock").unlink()
                os.close(held)
            elif held is not None:
                with contextlib.suppress(psycopg.Error):
                    # Released now, not when the server gets round to the closed session.
                    held.execute("SELECT pg_advisory_unlock_all()")
                    held.close()
