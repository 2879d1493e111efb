"""Inclusion and consistency proof generation over stored nodes, RFC 9162 §2.1.3.1, §2.1.4.1.

A proof is a list of subtree hashes. Every subtree in a proof is either perfect (one stored
node) or ends at the tree's right edge (a few stored nodes folded together), so a proof costs
one batched read of O(log n) nodes from a :class:`NodeSource`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rsrp.ledger._errors import InvalidSizeError
from rsrp.ledger._tree import NodeId, border_ids, fold_right, range_ids

__all__ = [
    "NodeSource",
    "consistency_proof",
    "consistency_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "root_at",
]


class NodeSource(Protocol):
    """Anything that returns the hashes of complete nodes ``(level, index)``, in order."""

    def get_nodes(self, ids: Sequence[NodeId], /) -> Sequence[bytes]: ...


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) as leaf ranges, bottom-up. Requires index < size."""
    if not 0 <= index < size:
        raise InvalidSizeError(f"index out of range: got index {index}, want < size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two < n
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(size1, D[0:size2]) as leaf ranges, bottom-up.

    Requires 0 < size1 <= size2; equal sizes give the empty proof.
    """
    if not 0 < size1 <= size2:
        raise InvalidSizeError(
            f"bad sizes: got size1 {size1}, size2 {size2}; want 0 < size1 <= size2"
        )
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, size2, size1, True
    while m != hi - lo:
        n = hi - lo
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        # SUBPROOF(m, D[m], false): the old tree's own subtree is part of the proof.
        out.append((lo, hi))
    out.reverse()
    return out


def _hashes_for(source: NodeSource, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    per_range = [range_ids(lo, hi) for lo, hi in ranges]
    wanted = sorted({i for ids in per_range for i in ids})
    got = dict(zip(wanted, source.get_nodes(wanted), strict=True))
    return [fold_right([got[i] for i in ids]) for ids in per_range]


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1: the inclusion proof for leaf ``index`` in the tree of ``size``."""
    return _hashes_for(source, inclusion_ranges(index, size))


def consistency_proof(source: NodeSource, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1: the consistency proof from tree ``size1`` to tree ``size2``."""
    return _hashes_for(source, consistency_ranges(size1, size2))


def root_at(source: NodeSource, size: int) -> bytes:
    """RFC 9162 §2.1.1: the root MTH(D[0:size]) (EMPTY_ROOT for 0), from O(log n) nodes."""
    if size < 0:
        raise InvalidSizeError(f"size must be >= 0, got {size}")
    ids = border_ids(size)
    return fold_right(list(source.get_nodes(ids)) if ids else [])
