"""Connections of the SQL back-ends: a writer and a reader, replaced when they break.

Each back-end keeps two connections: a writer used by one committer at a time (the log's
group commit serialises it) and a reader for proofs and audits, so reads never wait for an
fsync.

A connection the driver reports broken (server restart, network cut) is replaced on the next
use. A read that hit the break runs once more on the new connection (reads are idempotent). A
write transaction that broke before COMMIT was sent cannot have committed, so it runs once more
on a new connection. One that broke during COMMIT has an unknown outcome: the back-end asks the
server whether that transaction committed and re-reads what it wrote before acknowledging or
retrying, so appends stay exactly-once and acknowledged only after their commit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

from rsrp.ledger._errors import StorageError

__all__ = ["SqlConnections"]

#: How long to wait for the server to settle a transaction whose COMMIT reply was lost.
_RESOLVE_TIMEOUT_S = 30.0
_T = TypeVar("_T")


class SqlConnections:
    """The writer and reader connections of a DB-API database, with reconnection."""

    url: str
    DB_ERRORS: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str) -> None:
        self.url = url
        self._wlock = threading.Lock()
        self._rlock = threading.Lock()
        self._writer: Any = None
        self._reader: Any = None
        self._closed = False
        #: The open write transaction's id when the body learned it itself (``xact_in_body``).
        self._body_xact: Any = None

    # -- hooks ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def _connect_reader(self) -> Any:
        return self._connect()

    def _begin(self, cur: Any) -> None:
        raise NotImplementedError

    def _broken(self, conn: Any) -> bool:
        """Whether the driver found ``conn`` unusable (it must be replaced)."""
        return False

    def _xact_id(self, cur: Any) -> Any:
        """An id of the open write transaction to ask about later, or None."""
        return None

    def _xact_status(self, cur: Any, xact_id: Any) -> str | None:
        """``committed``, ``aborted``, ``in progress``, or None when the server cannot tell."""
        return None

    def _commit(self, conn: Any) -> None:
        conn.commit()

    # -- plumbing ------------------------------------------------------------------------
    def _read_cursor(self, conn: Any) -> Any:
        return conn.cursor()

    def _live(self, writer: bool) -> Any:
        """The writer or reader connection, replacing it first if it broke."""
        conn = self._writer if writer else self._reader
        if self._closed:
            raise StorageError(f"ledger database {self.url} is closed")
        if conn is not None and not self._broken(conn):
            return conn
        if conn is not None:
            with suppress(*self.DB_ERRORS):
                conn.close()
        try:
            conn = self._connect() if writer else self._connect_reader()
        except self.DB_ERRORS as e:
            raise StorageError(f"cannot reconnect to ledger database {self.url}: {e}") from e
        if writer:
            self._writer = conn
        else:
            self._reader = conn
        return conn

    def _reading(self, op: Callable[[Any], _T]) -> _T:
        """Run ``op(cursor)`` on the reader; once more on a new connection if it broke."""
        with self._rlock:
            for attempt in (1, 2):
                conn = self._live(writer=False)
                try:
                    return op(self._read_cursor(conn))
                except self.DB_ERRORS as e:
                    if attempt == 1 and self._broken(conn):
                        continue
                    raise StorageError(f"ledger read failed: {e}") from e
        raise AssertionError("unreachable")

    def _transact(
        self,
        body: Callable[[Any], _T],
        landed: Callable[[_T], bool] | None = None,
        *,
        xact_in_body: bool = False,
    ) -> _T:
        """Run ``body(cursor)`` in one write transaction and commit it.

        ``landed(result)`` re-reads the database to confirm that a transaction the server
        reports committed wrote what ``body`` did (checked only after a lost COMMIT reply).
        ``xact_in_body``: the body's first statement also returns the transaction id and
        stores it in ``self._body_xact`` (one round trip fewer than asking first).
        """
        with self._wlock:
            for attempt in (1, 2):
                conn = self._live(writer=True)
                cur = conn.cursor()
                xact_id, committing = None, False
                try:
                    self._begin(cur)
                    self._body_xact = None
                    xact_id = None if xact_in_body else self._xact_id(cur)
                    result = body(cur)
                    if xact_in_body:
                        xact_id = self._body_xact
                    committing = True
                    self._commit(conn)
                    return result
                except BaseException as e:
                    # The original error is the one to report, not a failed rollback.
                    with suppress(*self.DB_ERRORS):
                        conn.rollback()
                    if not isinstance(e, self.DB_ERRORS):
                        raise
                    if not self._broken(conn):
                        raise StorageError(f"ledger write failed: {e}") from e
                    if committing and self._committed(xact_id, e, landed, result):
                        return result
                    if attempt == 2:
                        raise StorageError(f"ledger write failed after reconnecting: {e}") from e
                    # Not committed: nothing of it is stored, run it again on a new connection.
        raise AssertionError("unreachable")

    def _committed(
        self,
        xact_id: Any,
        error: BaseException,
        landed: Callable[[_T], bool] | None,
        result: _T,
    ) -> bool:
        """After the connection broke during COMMIT: did that transaction commit?

        True only if the server says committed and ``landed()`` confirms it; False if the
        server says aborted. Anything else raises: the outcome is unknown, so the write is not
        acknowledged and must not be retried blindly.
        """
        deadline = time.monotonic() + _RESOLVE_TIMEOUT_S
        while True:
            try:  # the server may still be coming back: keep asking until the deadline
                status = (
                    None
                    if xact_id is None
                    else self._reading(lambda cur: self._xact_status(cur, xact_id))
                )
                ok = status == "committed" and (landed is None or landed(result))
            except StorageError as e:
                status, ok = f"cannot ask: {e}", False
            if status == "aborted":
                return False
            if ok:
                return True
            if status == "committed":
                raise StorageError(
                    f"the server reports transaction {xact_id} committed but its rows are not "
                    f"as written: refusing to acknowledge ({error})"
                )
            pending = status is not None and status.startswith(("in progress", "cannot ask"))
            if not pending or time.monotonic() > deadline:
                raise StorageError(
                    f"connection lost during COMMIT and the outcome of transaction {xact_id} "
                    f"is unknown ({status}): not acknowledged ({error})"
                ) from error
            time.sleep(0.1)

    def close(self) -> None:
        self._closed = True
        for conn in (self._reader, self._writer):
            if conn is not None:
                with suppress(*self.DB_ERRORS):  # best effort: nothing is pending on these
                    conn.close()
        self._reader = self._writer = None
