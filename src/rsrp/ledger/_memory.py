"""An in-memory Merkle tree: every complete node kept in per-level lists.

Used to audit a log (recompute everything, then compare), to export tiles and in benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rsrp.ledger._errors import InvalidSizeError
from rsrp.ledger._proofs import consistency_proof, inclusion_proof, root_at
from rsrp.ledger._tree import NodeId, border_ids, build_levels, extend
from rsrp.ledger.rfc6962 import hash_leaf

__all__ = ["MemoryTree"]


class MemoryTree:
    """Complete-subtree nodes of a tree held in memory; a :class:`NodeSource`.

    >>> t = MemoryTree.from_entries([b"a", b"b", b"c"])
    >>> t.size, len(t.inclusion_proof(2, 3))
    (3, 1)
    """

    __slots__ = ("levels",)

    def __init__(self, levels: list[list[bytes]] | None = None) -> None:
        self.levels: list[list[bytes]] = levels if levels is not None else [[]]

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Sequence[bytes]) -> MemoryTree:
        """Build all levels at once (one list pass per level)."""
        return cls(build_levels(leaf_hashes))

    @classmethod
    def from_entries(cls, entries: Iterable[bytes]) -> MemoryTree:
        return cls.from_leaf_hashes([hash_leaf(e) for e in entries])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append_leaf_hashes(self, leaf_hashes: Sequence[bytes]) -> None:
        border = self.get_nodes(border_ids(self.size))
        runs = extend(self.size, border, leaf_hashes)
        self.levels[0].extend(leaf_hashes)
        for level, first, hashes in runs:
            while len(self.levels) <= level:
                self.levels.append([])
            # New nodes on a level always start at that level's old end.
            self.levels[level][first:] = hashes

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        out = []
        for level, index in ids:
            if level >= len(self.levels) or index >= len(self.levels[level]):
                raise InvalidSizeError(f"node ({level}, {index}) is not in a tree of {self.size}")
            out.append(self.levels[level][index])
        return out

    def root(self, size: int | None = None) -> bytes:
        return root_at(self, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check(size)
        return inclusion_proof(self, index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        self._check(size2)
        return consistency_proof(self, size1, size2)

    def _check(self, size: int) -> None:
        if size > self.size:
            raise InvalidSizeError(f"size {size} is beyond the tree's size {self.size}")
