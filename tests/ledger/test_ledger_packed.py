"""Packed chunk reads of entries and nodes (the audit's fast path) give the rows, or nothing.

On SQLite and real PostgreSQL: a packed chunk carries the same entry bytes and stored leaf
hashes as the row-by-row read, for any bytes (NULs, invalid UTF-8, empty entries); a chunk
the packing could misframe (leaf hash bytes shifted between rows, an entry that is not a
blob) is refused, and the audit still names the exact entry from the rows.
"""

from __future__ import annotations

import hashlib
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.ledger.ledger_sql import run_sql

from rsrp.ledger import Log, TamperError, audit
from rsrp.ledger._packed import PackedEntries, unpack_entries, unpack_nodes

# Every byte value, NULs inside and at the ends, empty, invalid UTF-8, one large entry.
ODD = [
    b"",
    b"\x00",
    b"\x00\x00x\x00",
    bytes(range(256)),
    b"\xff\xfe\xc3(",
    b"plain",
    b"\x80" * 65_535,
]


def _check_same(log: Log, start: int, limit: int) -> None:
    packed = log.backend.read_entry_packed(start, limit)  # type: ignore[attr-defined]
    idx, data, stored = log.backend.read_entry_columns(start, limit)
    assert isinstance(packed, PackedEntries) and len(packed) == len(idx) > 0
    assert packed.start == start and list(idx) == list(range(start, start + len(idx)))
    m, ends = packed.messages, packed.ends
    assert [m[a:b] for a, b in pairwise(ends)] == [b"\x00" + d for d in data]
    assert packed.leaf_hashes == b"".join(stored)


@pytest.mark.parametrize(("start", "limit"), [(0, 1), (0, 100), (3, 4), (5, 100), (20, 7)])
def test_packed_chunk_equals_the_rows(log: Log, start: int, limit: int) -> None:
    log.append_many(ODD + [b"e%d" % i for i in range(30)])
    _check_same(log, start, limit)
    assert log.backend.read_entry_packed(start + 1000, limit) is None  # type: ignore[attr-defined]
    audit(log.backend)


def _audit_error(url: str) -> TamperError:
    with Log.open(url) as log, pytest.raises(TamperError) as e:
        audit(log.backend)
    return e.value


def test_leaf_hash_bytes_shifted_between_rows_is_named(ledger_url: str) -> None:
    data = [b"e%d" % i for i in range(40)]
    with Log.open(ledger_url) as log:
        log.append_many(data)
    h5, h6 = (hashlib.sha256(b"\x00" + data[k]).digest() for k in (5, 6))
    # Concatenated, the stored leaf hashes are unchanged: only per-row lengths show it.
    run_sql(
        ledger_url,
        ("UPDATE entries SET leaf_hash = ? WHERE idx = 5", (h5[:31],)),
        ("UPDATE entries SET leaf_hash = ? WHERE idx = 6", (h5[31:] + h6,)),
    )
    with Log.open(ledger_url) as log:
        assert log.backend.read_entry_packed(0, 40) is None  # type: ignore[attr-defined]
    err = _audit_error(ledger_url)
    assert err.index == 5 and "entry 5: stored leaf hash" in str(err)


def test_entry_stored_as_text_is_named(tmp_path: object) -> None:
    # SQLite only: PostgreSQL's bytea column cannot hold another type.
    url = f"sqlite:///{tmp_path}/t.db"
    with Log.open(url) as log:
        log.append_many([b"e%d" % i for i in range(40)])
    run_sql(url, ("UPDATE entries SET data = CAST(data AS TEXT) WHERE idx = 7", ()))
    with Log.open(url) as log:
        assert log.backend.read_entry_packed(0, 40) is None  # type: ignore[attr-defined]
    err = _audit_error(url)
    assert err.index == 7 and "entry 7 is stored as str" in str(err)


def _row(order: object, lengths: object, messages: bytes = b"\x00a\x00b", n: int = 2) -> tuple:
    return (order, lengths, messages, bytes(32 * n), 0)


@pytest.mark.parametrize(
    "row",
    [
        _row("1,0", "2,2"),  # rows out of index order
        _row("0,2", "2,2"),  # a gap
        _row("1,2", "2,2"),  # not starting at start
        _row("0,1", "2,3"),  # lengths do not add up to the packed bytes
        _row("0,1", "4,0"),  # an empty leaf input (it always holds 0x00)
        _row("0,1", "1.5,2.5"),  # non-integer lengths
        _row("0,1", "2"),  # one length short
        _row("0,1", "x,y"),
        _row(b"\x00\x00\x00\x01\x00\x00\x00\x00", b"\x00\x00\x00\x02\x00\x00\x00\x02"),
        ("0,1", "2,2", b"\x00a\x00b", bytes(63), 0),  # a leaf hash short
        ("0,1", "2,2", b"\x00a\x00b", bytes(64), 1),  # flagged: not a blob or not 32 bytes
        ("0,1", "2,2", "text", bytes(64), 0),
        None,
        (None, None, None, None, None),
    ],
)
def test_unpack_refuses_anything_but_an_exact_run(row: tuple | None) -> None:
    assert unpack_entries(10, row) is None


def test_unpack_accepts_both_encodings() -> None:
    for order, lengths in [
        ("0,1", "2,2"),
        (bytes(4) + b"\x00\x00\x00\x01", b"\x00\x00\x00\x02" * 2),
    ]:
        got = unpack_entries(10, _row(order, lengths))
        assert got == PackedEntries(10, b"\x00a\x00b", [0, 2, 4], bytes(64))


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=30))
def test_unpack_frames_any_entries(entries: list[bytes]) -> None:
    msgs = [b"\x00" + e for e in entries]
    row = (
        ",".join(map(str, range(len(entries)))),
        ",".join(str(len(m)) for m in msgs),
        b"".join(msgs),
        bytes(32 * len(entries)),
        0,
    )
    got = unpack_entries(0, row)
    assert got is not None
    assert [got.messages[a:b] for a, b in pairwise(got.ends)] == msgs


def test_packed_nodes_equal_the_rows_and_shifted_bytes_are_named(ledger_url: str) -> None:
    with Log.open(ledger_url) as log:
        log.append_many([b"e%d" % i for i in range(40)])
        idx, stored = log.backend.read_node_columns(4, 0, 10)
        assert list(idx) == [0, 1]
        assert log.backend.read_node_packed(4, 0, 10) == b"".join(stored)  # type: ignore[attr-defined]
        assert log.backend.read_node_packed(4, 1, 10) == stored[1]  # type: ignore[attr-defined]
        assert log.backend.read_node_packed(4, 2, 10) is None  # type: ignore[attr-defined]
    a, b = stored
    run_sql(
        ledger_url,
        ("UPDATE nodes SET hash = ? WHERE level = 4 AND idx = 0", (a[:30],)),
        ("UPDATE nodes SET hash = ? WHERE level = 4 AND idx = 1", (a[30:] + b,)),
    )
    with Log.open(ledger_url) as log:
        assert log.backend.read_node_packed(4, 0, 10) is None  # type: ignore[attr-defined]
    err = _audit_error(ledger_url)
    assert err.index == 0 and "tree node (level 4, index 0)" in str(err)


@pytest.mark.parametrize(
    "row",
    [
        ("1,0", bytes(64), 0),
        ("0,2", bytes(64), 0),
        ("0,1", bytes(63), 0),
        ("0,1", bytes(64), 1),
        ("0,1", "text", 0),
        (b"", b"", 0),
        None,
        ("0", bytes(32)),
    ],
)
def test_unpack_nodes_refuses_anything_but_an_exact_run(row: tuple | None) -> None:
    assert unpack_nodes(row) is None


def test_unpack_nodes_accepts_an_exact_run() -> None:
    assert unpack_nodes(("0,1", bytes(64), 0)) == bytes(64)
    assert unpack_nodes((bytes(4) + b"\x00\x00\x00\x01", bytes(64), 0)) == bytes(64)
