"""PostgreSQL connections lost to a server restart are replaced; appends stay exactly-once.

Runs a dedicated real PostgreSQL server (tests/fixtures/postgres.py) that the tests restart
with ``pg_ctl restart``. The lost-COMMIT-reply cases drop the writer's own server session with
``pg_terminate_backend`` at the precise moment, before or after a real COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from tests.fixtures.postgres import PostgresServer, create_database, own_postgres
from tests.ledger.ledger_signed import fill_and_sign

from rsrp.ledger import Log, MemoryTree, StorageError, audit
from rsrp.ledger._postgres import PostgresBackend


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with own_postgres() as srv:  # not the session's server: these tests restart it
        yield srv


def _entries(tag: str, n: int) -> list[bytes]:
    return [f"{tag}-{i}".encode() for i in range(n)]


def test_log_keeps_appending_and_auditing_across_restarts(server: PostgresServer) -> None:
    url = create_database(server)
    want: list[bytes] = []
    with Log.open(url) as log:
        for round_ in range(3):
            batch = _entries(f"r{round_}", 50)
            got = log.append_many(batch)
            assert got == range(len(want), len(want) + 50)
            want += batch
            server.restart()  # both the writer and the reader connection are now dead
            assert log.size == len(want)  # a read right after the restart works
        assert log.append(b"after") == len(want)  # and so does an append
        want.append(b"after")
        server.restart()
        signed = fill_and_sign(log, [len(want) + 10])  # checkpoint writes reconnect too
        want += [e.data for e in log.backend.read_entries(len(want), 10)]
        report = audit(log.backend)
        assert report.size == len(want) == 161
        assert report.root == MemoryTree.from_entries(want).root() == signed.roots[161]
    with Log.open(url) as again:  # the exact entries, each once, in order
        assert [e.data for e in again.backend.read_entries(0, 1000)] == want


class _DropAtCommit(PostgresBackend):
    """Loses its own server session once, just before or just after a real COMMIT."""

    def __init__(self, url: str, server: PostgresServer, how: str) -> None:
        self.server, self.how, self.armed = server, how, False
        super().__init__(url)

    def _commit(self, conn: Any) -> None:
        if not self.armed:
            super()._commit(conn)
            return
        self.armed = False
        if self.how == "before-commit":
            self._terminate(conn)
            super()._commit(conn)  # raises: the session is gone, nothing committed
        super()._commit(conn)  # committed; now the reply is "lost"
        if self.how == "reply-lost":
            self._terminate(conn)
        else:
            self.server.restart()  # the whole server goes away (and comes back)
        conn.execute("SELECT 1")  # raises: the server closed this session

    def _terminate(self, conn: Any) -> None:
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))


@pytest.mark.parametrize("how", ["reply-lost", "before-commit", "restart-after-commit"])
def test_commit_with_lost_connection_lands_exactly_once(server: PostgresServer, how: str) -> None:
    backend = _DropAtCommit(create_database(server), server, how)
    with Log(backend) as log:
        log.append_many(_entries("a", 5))
        backend.armed = True
        assert log.append_many(_entries("b", 7)) == range(5, 12)
        assert not backend.armed  # the drop really happened
        assert log.append(b"c") == 12
        stored = [e.data for e in backend.read_entries(0, 100)]
        assert stored == [*_entries("a", 5), *_entries("b", 7), b"c"]
        assert audit(backend).size == 13


def test_server_down_fails_closed_then_recovers(server: PostgresServer) -> None:
    url = create_database(server)
    with Log.open(url) as log:
        assert log.append(b"one") == 0
        server.halt()
        try:
            with pytest.raises(StorageError):
                log.append(b"lost")  # not acknowledged: there is no server
            with pytest.raises(StorageError):
                log.append(b"lost again")  # reconnecting fails too, and says so
        finally:
            server.restart()
        assert log.append(b"two") == 1  # nothing of the failed appends was stored
        assert [e.data for e in log.backend.read_entries(0, 10)] == [b"one", b"two"]
