"""Node arithmetic for a tree stored as complete subtrees, and fast bulk hashing.

A node ``(level, index)`` is the root of the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes. A tree of any
size is the list of perfect subtrees of its binary decomposition (its "compact range"), so a
root or a proof needs O(log n) stored nodes and no recomputation of full levels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from rsrp.ledger.rfc6962 import EMPTY_ROOT, hash_children

__all__ = [
    "STRATUM",
    "NodeId",
    "border_ids",
    "build_levels",
    "complete_levels",
    "expand",
    "extend",
    "fold_right",
    "index_runs",
    "perfect_root",
    "range_ids",
]

NodeId = tuple[int, int]  # (level, index)

#: Storage keeps the complete nodes of every STRATUM-th level only (leaves are level 0). A node
#: in between is the root of at most 2**(STRATUM-1) stored nodes one stratum below: proofs
#: stay O(log n) reads, while appends write ~1/15 node row per entry instead of ~1.
STRATUM = 4

_sha256 = hashlib.sha256


def range_ids(lo: int, hi: int) -> list[NodeId]:
    """The perfect subtrees covering leaves ``[lo, hi)``, left to right, largest first.

    Requires that ``[lo, hi)`` is a subtree in the RFC 9162 §2.1.1 sense (``lo`` a multiple of
    the power of two at or above ``hi - lo``), which every range in a proof is.
    """
    ids: list[NodeId] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo:
            level = min(level, (lo & -lo).bit_length() - 1)
        ids.append((level, lo >> level))
        lo += 1 << level
    return ids


def expand(level: int, index: int) -> tuple[int, int, int]:
    """Where node ``(level, index)`` comes from: (stored level, first index, count)."""
    base = level - level % STRATUM
    shift = level - base
    return base, index << shift, 1 << shift


def index_runs(by_level: dict[int, set[int]], gap: int) -> list[tuple[int, int, int]]:
    """Wanted indices per level as runs ``(level, lo, hi)``; indices within ``gap`` share one."""
    runs: list[tuple[int, int, int]] = []
    for level, wanted in sorted(by_level.items()):
        ordered = sorted(wanted)
        lo = prev = ordered[0]
        for i in ordered[1:]:
            if i - prev > gap:
                runs.append((level, lo, prev))
                lo = i
            prev = i
        runs.append((level, lo, prev))
    return runs


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree from its 2**k bottom hashes (RFC 9162 §2.1.1 node rule)."""
    level = list(hashes)
    while len(level) > 1:
        level = _parents(level)
    return level[0]


def border_ids(size: int) -> list[NodeId]:
    """The compact range of a tree of ``size`` leaves: ``range_ids(0, size)``."""
    return range_ids(0, size)


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees (largest first): hash right to left.

    RFC 9162 §2.1.1 splits at the largest power of two, so the smaller right part is always
    complete before it is joined to its left neighbour. The empty range is ``EMPTY_ROOT``.
    """
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = hash_children(h, acc)
    return acc


def _parents(level: Sequence[bytes]) -> list[bytes]:
    # The hot loop of bulk building and full verification: one C call per hash.
    return [
        _sha256(b"\x01" + left + right).digest()
        for left, right in zip(level[0::2], level[1::2], strict=False)
    ]


def build_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """All complete nodes over ``leaf_hashes`` (which start at index 0), level by level."""
    return complete_levels([list(leaf_hashes)])


def complete_levels(levels: list[list[bytes]]) -> list[list[bytes]]:
    """Extend, in place, levels that hold all leaves but only a prefix of each higher level.

    Each higher level must already be correct as far as it goes (e.g. built chunk by chunk
    over aligned perfect subtrees); the missing complete nodes are hashed from the level below.
    """
    level = 0
    while len(levels[level]) > 1:
        if len(levels) == level + 1:
            levels.append([])
        above = levels[level + 1]
        above += _parents(levels[level][2 * len(above) :])
        level += 1
    return levels


def extend(
    size: int, border: Sequence[bytes], leaf_hashes: Sequence[bytes]
) -> list[tuple[int, int, list[bytes]]]:
    """The new complete nodes (above level 0) created by appending ``leaf_hashes`` at ``size``.

    ``border`` holds the hashes of ``border_ids(size)``. Returns ``(level, first_index,
    hashes)`` runs, one per level that gained nodes. Each level is hashed in one list pass.
    """
    ids = border_ids(size)
    if len(ids) != len(border):
        raise ValueError(f"border has {len(border)} hashes, want {len(ids)}")
    left_of = {level: h for (level, _), h in zip(ids, border, strict=True)}
    runs: list[tuple[int, int, list[bytes]]] = []
    level, first, cur = 0, size, list(leaf_hashes)
    while cur:
        if first & 1:
            # The first new node is a right child: its left sibling is an old border node.
            # (A new list: ``cur`` may already be recorded in ``runs``.)
            cur = [left_of[level], *cur]
            first -= 1
        parents = _parents(cur)
        if not parents:
            break
        level, first, cur = level + 1, first >> 1, parents
        runs.append((level, first, cur))
    return runs
