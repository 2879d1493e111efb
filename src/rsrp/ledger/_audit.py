"""Full audit of a stored log: recompute every leaf, node and root; check every checkpoint.

Trusts nothing stored: leaf hashes are recomputed from the entry bytes, every complete node
from the leaves, every checkpoint root from the recomputed tree, and consecutive checkpoints
are linked by RFC 9162 §2.1.4 consistency proofs. The first problem found raises
:class:`TamperError` naming the first bad index and what is wrong.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rsrp.errors import RsrpError
from rsrp.ledger._audit_pool import CHUNK, check_chunk, check_packed, parallel_leaves
from rsrp.ledger._errors import MerkleProofError, TamperError
from rsrp.ledger._memory import MemoryTree
from rsrp.ledger._packed import PackedEntries
from rsrp.ledger._storage import AuditSource, StoredCheckpoint
from rsrp.ledger._tree import STRATUM, build_levels, complete_levels
from rsrp.ledger._verify import verify_consistency
from rsrp.ledger.rfc6962 import HASH_SIZE

__all__ = ["AuditReport", "AuditSource", "EntryCheck", "Progress", "audit"]

Progress = Callable[[int, int], None]  # (entries checked, entries in total)
#: Checks one entry on its own (index, bytes), e.g. an envelope's signature; raises RsrpError.
EntryCheck = Callable[[int, bytes], None]
_CHUNK = CHUNK


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What a successful audit checked."""

    size: int
    root: bytes
    nodes_checked: int
    checkpoints: tuple[StoredCheckpoint, ...]
    signatures_checked: bool


def _leaves(
    src: AuditSource, size: int, progress: Progress | None, workers: int = 0
) -> list[list[bytes]]:
    """Recompute every leaf hash, in chunks; whole-chunk comparisons keep this at hashing speed.

    Returns levels: every leaf hash (level 0), and above it a correct prefix of each level
    (what worker processes hashed, if any) for :func:`complete_levels` to finish.
    """
    url = getattr(src, "url", None)
    levels: list[list[bytes]] = [[]]
    if workers > 0 and isinstance(url, str):
        levels = parallel_leaves(url, size, workers, progress)
    hashes = levels[0]
    start = len(hashes)
    whole = start % _CHUNK == 0  # so far only whole chunks: each chunk's subtree is aligned
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-read") as pool:
        # Read the next chunk while this one is hashed: a packed read runs in the database
        # without the GIL (see ._packed), so reading overlaps hashing.
        ahead = pool.submit(_read_chunk, src, start)
        while True:
            got = ahead.result()
            if isinstance(got, PackedEntries):
                n = len(got)
                ahead = pool.submit(_read_chunk, src, start + n)
                if not check_packed(got, hashes):
                    # Something differs: the rows, one by one, say exactly what.
                    idx, data, stored = src.read_entry_columns(start, n)
                    check_chunk(start, idx, data, stored, hashes)
                    if len(idx) < n:
                        raise TamperError(f"entry {start + len(idx)} is missing", start + len(idx))
            else:
                idx, data, stored = got
                if not idx:
                    break
                n = len(idx)
                ahead = pool.submit(_read_chunk, src, start + n)
                check_chunk(start, idx, data, stored, hashes)
            whole = whole and n == _CHUNK
            if whole:
                # Hash the chunk's subtree now, while the next chunk is read (not all levels
                # at the end, when there is nothing left to read).
                sub = build_levels(hashes[start:])
                while len(levels) < len(sub):
                    levels.append([])
                for level, part in zip(levels[1:], sub[1:], strict=True):
                    level += part
            start += n
            if progress:
                progress(min(start, size), size)
    if start < size:
        raise TamperError(
            f"entry {start} is missing: the log holds {start} entries but its tree head "
            f"says {size} (log truncated)",
            start,
        )
    return levels


def _read_chunk(
    src: AuditSource, start: int
) -> PackedEntries | tuple[Sequence[int], Sequence[bytes], Sequence[bytes]]:
    """The chunk at ``start``: packed if the source can (a SQL back-end), else as columns."""
    packed = getattr(src, "read_entry_packed", None)
    chunk = None if packed is None else packed(start, _CHUNK)
    if isinstance(chunk, PackedEntries) and len(chunk):
        return chunk
    return src.read_entry_columns(start, _CHUNK)


def _locate(
    src: AuditSource, lo: int, count: int, span: str, verify_entry: EntryCheck | None
) -> None:
    """Narrow a wrong stored node to the exact entry, when entries carry their own evidence.

    The stored node only says that one of its entries changed (together with its leaf hash,
    else the leaf check would have caught it). An entry's own signature can say which: raise
    at the first entry in ``[lo, lo + count)`` that ``verify_entry`` rejects, if any does.
    """
    if verify_entry is None:
        return
    idx, data, _ = src.read_entry_columns(lo, min(count, _CHUNK))
    for i, entry in zip(idx, data, strict=True):
        try:
            verify_entry(i, entry)
        except RsrpError as e:
            raise TamperError(
                f"entry {i} fails its own check ({e}), and the {span} differs from the hash "
                f"of its entries: entry {i} was altered together with its leaf hash",
                i,
            ) from e


def _check_nodes(
    src: AuditSource,
    tree: MemoryTree,
    levels: Sequence[int] | None,
    verify_entry: EntryCheck | None = None,
) -> tuple[int, TamperError | None]:
    """Compare stored nodes with recomputed ones; raise on a wrong or missing one.

    Nodes beyond the tree are returned (not raised) so the caller can first report entries
    beyond the head, which explain them.
    """
    checked, extra = 0, None
    packed = getattr(src, "read_node_packed", None)
    for level in levels if levels is not None else range(STRATUM, len(tree.levels), STRATUM):
        want = tree.levels[level] if level < len(tree.levels) else []
        start = 0
        while True:
            # Packed (one bytes comparison) while all is well; rows to say what is wrong, and
            # at the end of the level, to see any node beyond it.
            got = packed(level, start, _CHUNK) if packed is not None else None
            n = len(got) // HASH_SIZE if isinstance(got, bytes) else 0
            if n and got == b"".join(want[start : start + n]):
                start, checked = start + n, checked + n
                continue
            idx, stored = src.read_node_columns(level, start, _CHUNK)
            if not idx:
                break
            n = len(idx)
            contiguous = idx[0] == start and idx[-1] == start + n - 1
            if contiguous and list(stored) == want[start : start + n]:
                start, checked = start + n, checked + n
                continue
            for k, (i_got, h) in enumerate(zip(idx, stored, strict=True)):
                i = start + k
                lo = min(i_got, i) << level
                span = f"tree node (level {level}, index {min(i_got, i)}) over entries [{lo}, "
                span += f"{lo + (1 << level)})"
                if i_got > i and i < len(want):
                    raise TamperError(f"{span} is missing: stored tree altered at entry {lo}", lo)
                if i >= len(want):
                    if extra is None or lo < (extra.index or 0):
                        extra = TamperError(f"{span} should not exist beyond the tree", lo)
                    break
                if h != want[i]:
                    _locate(src, lo, 1 << level, span, verify_entry)
                    raise TamperError(
                        f"{span} differs from the hash of its entries: an entry in that range "
                        "(with its leaf hash) or the node itself was altered",
                        lo,
                    )
            start, checked = start + n, checked + n
        if start < len(want):
            lo = start << level
            raise TamperError(
                f"tree node (level {level}, index {start}) over entries from {lo} is missing",
                lo,
            )
    return checked, extra


def _check_checkpoints(
    tree: MemoryTree,
    cps: list[StoredCheckpoint],
    verify_note: Callable[[StoredCheckpoint], None] | None,
) -> None:
    prev: StoredCheckpoint | None = None
    for cp in cps:
        if cp.size > tree.size:
            raise TamperError(
                f"checkpoint at size {cp.size} covers more entries than the log's {tree.size}: "
                f"entries from {tree.size} were deleted (log truncated)",
                tree.size,
            )
        actual = tree.root(cp.size)
        if cp.root != actual:
            lo = prev.size if prev else 0
            raise TamperError(
                f"checkpoint at size {cp.size}: signed root {cp.root.hex()} but the entries "
                f"give {actual.hex()}: an entry in [{lo}, {cp.size}) was altered, or the "
                "checkpoint was swapped",
                lo,
            )
        if verify_note is not None:
            verify_note(cp)
        if prev is not None:
            if cp.created_at < prev.created_at:
                raise TamperError(
                    f"checkpoint at size {cp.size} was created before the one at size "
                    f"{prev.size}: checkpoints swapped or rolled back",
                    prev.size,
                )
            try:
                verify_consistency(
                    prev.size,
                    cp.size,
                    tree.consistency_proof(prev.size, cp.size),
                    prev.root,
                    cp.root,
                )
            except MerkleProofError as e:
                raise TamperError(
                    f"checkpoints at sizes {prev.size} and {cp.size} are not consistent: {e}",
                    prev.size,
                ) from e
        prev = cp


def audit(
    src: AuditSource,
    *,
    progress: Progress | None = None,
    node_levels: Sequence[int] | None = None,
    verify_note: Callable[[StoredCheckpoint], None] | None = None,
    trusted: Sequence[tuple[int, bytes]] = (),
    workers: int = 0,
    verify_entry: EntryCheck | None = None,
) -> AuditReport:
    """Recompute and check the whole log; raise :class:`TamperError` at the first problem.

    ``node_levels``: the levels whose stored nodes to compare (default: the stored strata).
    ``verify_note``: checks a checkpoint's signed note (signatures, and that the note names the
    row's size and root); without it, signatures are not checked and the report says so.
    ``trusted``: (size, root) pairs the auditor saw before (an earlier audit, a receipt, a
    witness): a log that no longer contains them was truncated, rewritten or rolled back.
    ``workers``: when > 0 and ``src`` is a storage back-end (it has a ``url``), that many
    worker processes read and check the entries' leaf hashes in parallel (see
    :mod:`._audit_pool`); the default reads and hashes in this process. Workers are forked
    where the platform can (started in milliseconds): call it from a process whose other
    threads hold no locks a child would need (a CLI, a batch job), not from a busy server.
    ``verify_entry``: an entry's own check (e.g. its envelope signature), used only to name
    the exact entry when a stored node shows that an entry was altered with its leaf hash.
    """
    # Millions of short-lived containers: the cyclic GC would rescan them again and again
    # and nothing here creates cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _audit(src, progress, node_levels, verify_note, trusted, workers, verify_entry)
    finally:
        if gc_was_enabled:
            gc.enable()


def _audit(
    src: AuditSource,
    progress: Progress | None,
    node_levels: Sequence[int] | None,
    verify_note: Callable[[StoredCheckpoint], None] | None,
    trusted: Sequence[tuple[int, bytes]],
    workers: int,
    verify_entry: EntryCheck | None,
) -> AuditReport:
    size, head_root = src.head()
    levels = _leaves(src, size, progress, workers)
    n_leaves = len(levels[0])
    if n_leaves > size:  # entries beyond the head: reported below, after the nodes
        levels[0] = levels[0][:size]
    tree = MemoryTree(complete_levels(levels))
    # Nodes first: an entry inserted mid-log shows up there at its own index, before the
    # surplus entry at the end does.
    nodes, extra = _check_nodes(src, tree, node_levels, verify_entry)
    if n_leaves > size:
        raise TamperError(
            f"entry {size} exists beyond the tree head size {size}: entry inserted or "
            "tree head rolled back",
            size,
        )
    if extra is not None:
        raise extra
    if tree.root() != head_root:
        raise TamperError(
            f"tree head root {head_root.hex()} is not the root of the {size} stored entries "
            f"({tree.root().hex()})",
            size,
        )
    cps = sorted(src.checkpoints(), key=lambda c: c.size)
    _check_checkpoints(tree, cps, verify_note)
    for t_size, t_root in trusted:
        if t_size > size:
            raise TamperError(
                f"log truncated or rolled back: a trusted checkpoint covers {t_size} entries "
                f"but the log has {size}",
                size,
            )
        if tree.root(t_size) != t_root:
            raise TamperError(
                f"log rewritten: the trusted root for size {t_size} is {t_root.hex()}, the "
                f"log's is {tree.root(t_size).hex()}",
                0,
            )
        if cps and cps[-1].size < t_size:
            raise TamperError(
                f"checkpoint rolled back: a trusted checkpoint is at size {t_size} but the "
                f"log's latest stored checkpoint is at size {cps[-1].size}",
                cps[-1].size,
            )
    return AuditReport(size, tree.root(), nodes, tuple(cps), verify_note is not None)
