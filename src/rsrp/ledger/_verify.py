"""Inclusion and consistency proof verification, RFC 9162 §2.1.3.2 and §2.1.4.2.

Computing is split from comparing: ``root_from_*`` returns the root a proof implies, and
``verify_*`` compares it with the expected root, raising :class:`RootMismatchError`. Edge cases
follow transparency-dev/merkle ``proof/verify.go`` (the ecosystem's reference behaviour):
``size1 == 0`` is always an error, ``size1 == size2`` needs an empty proof and equal roots.
"""

from __future__ import annotations

from collections.abc import Sequence

from rsrp.ledger._errors import (
    InvalidSizeError,
    MalformedHashError,
    ProofLengthError,
    RootMismatchError,
)
from rsrp.ledger.rfc6962 import HASH_SIZE, hash_children

__all__ = [
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

_MAX_SIZE = 2**64 - 1  # tree sizes are uint64 everywhere in the ecosystem


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSizeError(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= value <= _MAX_SIZE:
        raise InvalidSizeError(f"{name} out of range: got {value}, want 0 <= {name} < 2^64")


def _hash(name: str, value: object) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        got = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise MalformedHashError(f"{name} must be {HASH_SIZE} bytes, got {got}")
    return bytes(value)


def _bytes(name: str, value: object) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise MalformedHashError(f"{name} must be bytes, got {type(value).__name__}")
    return bytes(value)


def _proof(proof: Sequence[bytes] | object) -> list[bytes]:
    # Typed loosely on purpose: callers pass parsed, untrusted data; a bytes object is itself a
    # sequence (of ints) and must not be taken for a proof.
    if not isinstance(proof, Sequence) or isinstance(proof, bytes | bytearray | str):
        raise MalformedHashError("proof must be a sequence of 32-byte hashes, not one string")
    return [_hash(f"proof[{i}]", p) for i, p in enumerate(proof)]


def _decompose(index: int, size: int) -> tuple[int, int]:
    """Split an inclusion path for ``index`` in a tree of ``size`` into (inner, border) lengths.

    Inner nodes lie below the level where the paths to ``index`` and ``size - 1`` diverge;
    above it every sibling is a left-hand border node.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = hash_children(seed, h) if (index >> i) & 1 == 0 else hash_children(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    # Only left siblings count: the result is the same subtree as it was at the older size.
    for i, h in enumerate(proof):
        if (index >> i) & 1 == 1:
            seed = hash_children(h, seed)
    return seed


def _chain_border(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = hash_children(h, seed)
    return seed


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2: the root implied by an inclusion proof. Requires 0 <= index < size.

    Raises :class:`InvalidSizeError`, :class:`MalformedHashError` or :class:`ProofLengthError`.
    """
    _check_size("index", index)
    _check_size("size", size)
    if index >= size:
        raise InvalidSizeError(f"index out of range: got index {index}, want < size {size}")
    seed = _hash("leaf_hash", leaf_hash)
    hashes = _proof(proof)
    inner, border = _decompose(index, size)
    if len(hashes) != inner + border:
        raise ProofLengthError(len(hashes), inner + border)
    return _chain_border(_chain_inner(seed, hashes[:inner], index), hashes[inner:])


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf_hash`` is at ``index`` in the tree ``(size, root)``.

    Requires 0 <= index < size. Raises a :class:`MerkleProofError` subclass on any failure,
    :class:`RootMismatchError` (expected, got) when the proof leads to another root.
    """
    expected = _bytes("root", root)
    got = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if got != expected:
        raise RootMismatchError(expected, got)


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """RFC 9162 §2.1.4.2: the size2 root implied by a consistency proof from ``(size1, root1)``.

    Requires 0 < size1 <= size2. The proof's own view of the old root is checked against
    ``root1`` (:class:`RootMismatchError`) before the new root is returned.
    """
    _check_size("size1", size1)
    _check_size("size2", size2)
    old_root = _bytes("root1", root1)
    hashes = _proof(proof)
    if size2 < size1:
        raise InvalidSizeError(f"size2 ({size2}) < size1 ({size1})")
    if size1 == 0:
        raise InvalidSizeError("consistency proof from an empty tree (size1 = 0) is meaningless")
    if size1 == size2:
        if hashes:
            raise ProofLengthError(len(hashes), 0)
        return old_root

    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # height of the rightmost perfect subtree
    inner -= shift
    # A perfect old tree is its own rightmost subtree: the verifier already has its root.
    start = 0 if size1 == 1 << shift else 1
    if len(hashes) != start + inner + border:
        raise ProofLengthError(len(hashes), start + inner + border)
    seed = old_root if start == 0 else hashes[0]
    rest = hashes[start:]
    mask = (size1 - 1) >> shift
    if start == 1:
        got1 = _chain_border(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
        if got1 != old_root:
            raise RootMismatchError(old_root, got1)
    return _chain_border(_chain_inner(seed, rest[:inner], mask), rest[inner:])


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: check that tree ``(size2, root2)`` extends tree ``(size1, root1)``.

    Requires 0 < size1 <= size2. Raises a :class:`MerkleProofError` subclass on any failure.
    """
    expected = _bytes("root2", root2)
    got = root_from_consistency_proof(size1, size2, proof, root1)
    if got != expected:
        raise RootMismatchError(expected, got)
