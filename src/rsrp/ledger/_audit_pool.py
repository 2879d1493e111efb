"""Leaf checks of an audit spread over worker processes, each reading its own entry ranges.

In one process an audit is bound by the interpreter: the database driver builds a Python object
per row and hashlib hashes one short entry per call, both under the GIL, so reading cannot
overlap hashing. A worker process opens the database itself (by URL), reads one whole chunk of
entries (an aligned perfect subtree), recomputes and compares its leaf hashes exactly as
:func:`check_chunk` does in-process, hashes the chunk's subtree, and returns each level packed
in one bytes object. The parent assembles the levels, hashes the rest of the tree, and compares
stored nodes and roots with them as a one-process audit does.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import struct
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from itertools import chain, pairwise

from rsrp.ledger._errors import TamperError
from rsrp.ledger._packed import PackedEntries
from rsrp.ledger._storage import Backend
from rsrp.ledger._tree import build_levels
from rsrp.ledger.rfc6962 import HASH_SIZE

__all__ = ["CHUNK", "check_chunk", "check_packed", "parallel_leaves"]

#: Entries per read (and per worker task): a perfect subtree of 2**16 leaves.
CHUNK = 65_536
_sha256 = hashlib.sha256
_opened: dict[str, Backend] = {}  # per worker process: the back-end it reads from
_BLOCK = 1024  # hashes per struct call when splitting packed levels


@lru_cache(maxsize=32)
def _layout(count: int) -> struct.Struct:
    return struct.Struct(f"{HASH_SIZE}s" * count)


def _split(packed: bytes) -> Iterable[bytes]:
    """The 32-byte hashes packed in ``packed`` (struct splits them twice as fast as slicing)."""
    count = len(packed) // HASH_SIZE
    if count % _BLOCK:
        return _layout(count).unpack(packed)
    block = _layout(_BLOCK)
    step = HASH_SIZE * _BLOCK
    return chain.from_iterable(block.unpack_from(packed, k) for k in range(0, len(packed), step))


def check_chunk(
    start: int,
    idx: Sequence[int],
    data: Sequence[bytes],
    stored: Sequence[bytes],
    hashes: list[bytes],
) -> None:
    """Check one chunk of entries starting at ``start``; append its leaf hashes to ``hashes``."""
    try:
        fresh = [_sha256(b"\x00" + d).digest() for d in data]  # RFC 9162 §2.1.1 leaf hash
    except TypeError:  # SQLite stores any type in any column: an entry that is not a blob
        k, d = next((k, d) for k, d in enumerate(data) if not isinstance(d, bytes))
        raise TamperError(
            f"entry {start + k} is stored as {type(d).__name__}, not as bytes: entry altered",
            start + k,
        ) from None
    # Sources return strictly increasing indices (ORDER BY the primary key), so the first
    # and last index tell whether the chunk is contiguous.
    if idx[0] != start or idx[-1] != start + len(idx) - 1:
        k = next(k for k, i in enumerate(idx) if i != start + k)
        what = "missing" if idx[k] > start + k else "out of order"
        raise TamperError(
            f"entry {start + k} is {what} (found index {idx[k]} in its place)", start + k
        )
    if fresh != list(stored):
        k = next(k for k, h in enumerate(stored) if h != fresh[k])
        raise TamperError(
            f"entry {start + k}: stored leaf hash {stored[k].hex()} is not "
            f"SHA-256(0x00 || entry) = {fresh[k].hex()}: entry bytes or leaf hash altered",
            start + k,
        )
    hashes += fresh


def check_packed(chunk: PackedEntries, hashes: list[bytes]) -> bool:
    """Whether every stored leaf hash of a packed chunk is right; if so, append them.

    ``False`` says only that something differs: re-read the chunk row by row with
    :func:`check_chunk`, which names the first bad entry.
    """
    m, ends = chunk.messages, chunk.ends
    fresh = [_sha256(m[a:b]).digest() for a, b in pairwise(ends)]
    if b"".join(fresh) != chunk.leaf_hashes:  # one comparison for the whole chunk
        return False
    hashes += fresh
    return True


def _check_range(url: str, start: int) -> tuple[int, list[bytes]] | tuple[str, int | None]:
    """Worker: (count, packed levels) of the chunk's subtree at ``start``, or (message, index)."""
    from rsrp.ledger._log import open_backend  # the worker's own connection, by URL

    backend = _opened.get(url)
    if backend is None:
        backend = _opened[url] = open_backend(url)
    # Row by row, not packed (._packed): with every core busy hashing, the per-row read costs
    # less CPU than the database's aggregation; there is no idle core for it to run on.
    idx, data, stored = backend.read_entry_columns(start, CHUNK)
    if len(idx) != CHUNK:
        return len(idx), []  # irregular: the parent re-reads it in-process to report it
    fresh: list[bytes] = []
    try:
        check_chunk(start, idx, data, stored, fresh)
    except TamperError as e:  # exceptions cross processes as plain values
        return str(e), e.index
    return CHUNK, [b"".join(level) for level in build_levels(fresh)]


def parallel_leaves(
    url: str, size: int, workers: int, progress: Callable[[int, int], None] | None
) -> list[list[bytes]]:
    """Checked levels (leaf hashes first) of the whole chunks below ``size``, from workers.

    Stops early (returning what is checked so far) at an irregular chunk, so the caller's
    in-process reader goes over it and names the problem.
    """
    levels: list[list[bytes]] = [[]]
    full = size // CHUNK
    if full == 0:
        return levels
    # fork starts a worker in milliseconds; a worker touches none of the parent's connections.
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[tuple[int, list[bytes]] | tuple[str, int | None]]] = deque()
        for k in range(full):
            pending.append(pool.submit(_check_range, url, k * CHUNK))
        try:
            while pending:
                first, rest = pending.popleft().result()
                if isinstance(first, str):
                    raise TamperError(first, rest if isinstance(rest, int) else None)
                if first != CHUNK or not isinstance(rest, list):
                    break
                while len(levels) < len(rest):
                    levels.append([])
                for level, packed in zip(levels, rest, strict=False):
                    level += _split(packed)
                if progress:
                    progress(len(levels[0]), size)
        finally:
            for f in pending:
                f.cancel()
    return levels
