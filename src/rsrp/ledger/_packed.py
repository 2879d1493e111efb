"""One audit chunk of entries packed in a few buffers, instead of a Python object per row.

Why: the sqlite3 module releases the GIL around each row's step but builds a tuple and two
bytes objects per row while holding it, so a reader thread fetching rows one by one hardly
overlaps with the hashing thread (each row waits for the hasher's switch interval). One
aggregate query per chunk does the whole read inside the database, in one call without the
GIL (SQLite) or in the server process (PostgreSQL); Python receives a few large buffers.

Nothing here is trusted more than a row read: :func:`unpack_entries` accepts a chunk only if
the packed entry indices are exactly ``start, start + 1, ...`` in order (so every buffer is in
index order: one query's aggregates all see the same row stream), every entry and stored leaf
hash is a blob, every leaf hash 32 bytes, and the entry lengths add up to the packed bytes.
Anything else returns ``None``, and the caller reads the rows one by one, which names the
problem precisely.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any

from rsrp.ledger._errors import StorageError
from rsrp.ledger.rfc6962 import HASH_SIZE

__all__ = ["PackedEntries", "packed_row", "unpack_entries", "unpack_nodes"]


@dataclass(frozen=True, slots=True)
class PackedEntries:
    """Entries ``[start, start + len(self))``: entry k's leaf input ``0x00 || entry`` (RFC
    9162 §2.1.1) is ``messages[ends[k]:ends[k + 1]]``; ``leaf_hashes`` are the stored ones."""

    start: int
    messages: bytes
    ends: list[int]
    leaf_hashes: bytes

    def __len__(self) -> int:
        return len(self.ends) - 1


@lru_cache(maxsize=4)
def _in_order(count: int, text: bool) -> bytes | str:
    # The offsets 0, 1, ..., count - 1 as an intact chunk packs them.
    if text:
        return ",".join(map(str, range(count)))
    return struct.pack(f">{count}I", *range(count))


def _count(order: object) -> int | None:
    """How many rows the packed index offsets hold, if they are exactly 0, 1, 2, ..."""
    if isinstance(order, bytes):
        count = len(order) // 4
        return count if order and order == _in_order(count, text=False) else None
    if isinstance(order, str):
        count = order.count(",") + 1
        return count if order == _in_order(count, text=True) else None
    return None


def packed_row(
    reading: Callable[[Callable[[Any], Any]], Any], sql: str, args: tuple[int, ...]
) -> tuple[object, ...] | None:
    """The one row of a packing query run by a back-end's ``reading``; ``None`` on an error
    (e.g. a chunk over the database's value size limit: the row-by-row read then runs)."""

    def op(cur: Any) -> Any:
        cur.execute(sql, args)
        return cur.fetchone()

    try:
        row = reading(op)
    except StorageError:
        return None
    return tuple(row) if row is not None else None


def unpack_nodes(row: tuple[object, ...] | None) -> bytes | None:
    """The stored hashes of a packed run of nodes from ``start``, or ``None`` unless exact.

    ``row``: the node indices minus ``start`` (as for :func:`unpack_entries`); the hashes
    concatenated; a true value if any hash is not a 32-byte blob.
    """
    if row is None or len(row) != 3:
        return None
    order, hashes, bad = row
    count = _count(order)
    if count is None or bad or not isinstance(hashes, bytes):
        return None
    return hashes if len(hashes) == HASH_SIZE * count else None


def _lengths(value: object, count: int) -> Sequence[int] | None:
    if isinstance(value, bytes) and len(value) == 4 * count:
        return struct.unpack(f">{count}I", value)
    if isinstance(value, str):
        try:  # json's C parser reads decimal integers twice as fast as map(int, split)
            sizes = json.loads(f"[{value}]")
        except ValueError:
            return None
        if isinstance(sizes, list) and len(sizes) == count:
            return sizes
    return None


def unpack_entries(start: int, row: tuple[object, ...] | None) -> PackedEntries | None:
    """Check one packed chunk; ``None`` unless it is exactly a contiguous run from ``start``.

    ``row``: the entry indices minus ``start``; the leaf input lengths (entry length + 1);
    the leaf inputs ``0x00 || entry`` concatenated; the stored leaf hashes concatenated; a
    true value if any entry or leaf hash is not a blob or any leaf hash is not 32 bytes. The
    first two are big-endian uint32 each in one bytes value, or decimal text joined by ``,``.
    """
    if row is None or len(row) != 5:
        return None
    order, lengths, messages, hashes, bad = row
    if not isinstance(messages, bytes) or not isinstance(hashes, bytes) or bad:
        return None
    count = _count(order)
    if count is None:
        return None
    sizes = _lengths(lengths, count)
    if sizes is None or len(hashes) != HASH_SIZE * count:
        return None
    ends = list(accumulate(sizes, initial=0))
    # A total that is not an int means a non-integer length: reject, do not slice with it.
    if type(ends[-1]) is not int or ends[-1] != len(messages) or min(sizes) < 1:
        return None
    return PackedEntries(start, messages, ends, hashes)
