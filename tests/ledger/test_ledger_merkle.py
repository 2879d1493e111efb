"""The fast Merkle code against the naive RFC oracle (hypothesis), plus malformed proofs."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.ledger.ledger_oracle import mth, path, proof

from rsrp.ledger import (
    InvalidSizeError,
    LedgerError,
    MalformedHashError,
    MemoryTree,
    ProofLengthError,
    RootMismatchError,
    hash_leaf,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)


def _entries(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") * (i % 3) for i in range(n)]


@st.composite
def _tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, 300))
    return size, draw(st.integers(0, size - 1))


@st.composite
def _two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(1, 300))
    return draw(st.integers(1, size2)), size2


@settings(max_examples=150, deadline=None)
@given(_tree_and_index())
def test_inclusion_agrees_with_oracle(case: tuple[int, int]) -> None:
    size, index = case
    d = _entries(size)
    tree = MemoryTree.from_entries(d)
    assert tree.root() == mth(d)
    got = tree.inclusion_proof(index, size)
    assert got == path(index, d)
    verify_inclusion(hash_leaf(d[index]), index, size, got, mth(d))


@settings(max_examples=150, deadline=None)
@given(_two_sizes())
def test_consistency_agrees_with_oracle(case: tuple[int, int]) -> None:
    size1, size2 = case
    d = _entries(size2)
    tree = MemoryTree.from_entries(d)
    got = tree.consistency_proof(size1, size2)
    assert got == proof(size1, d)
    assert tree.root(size1) == mth(d[:size1])
    verify_consistency(size1, size2, got, mth(d[:size1]), mth(d))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_incremental_append_equals_bulk_build(batches: list[int]) -> None:
    tree = MemoryTree()
    total = 0
    for n in batches:
        tree.append_leaf_hashes([hash_leaf(e) for e in _entries(total + n)[total:]])
        total += n
    assert tree.levels == MemoryTree.from_entries(_entries(total)).levels


@settings(max_examples=100, deadline=None)
@given(_tree_and_index(), st.data())
def test_any_bit_flip_in_an_inclusion_proof_is_caught(
    case: tuple[int, int], data: st.DataObject
) -> None:
    size, index = case
    d = _entries(size)
    tree = MemoryTree.from_entries(d)
    p = tree.inclusion_proof(index, size)
    if not p:
        return
    i = data.draw(st.integers(0, len(p) - 1))
    bit = data.draw(st.integers(0, 255))
    bad = [*p]
    bad[i] = bytes(b ^ (1 << (bit % 8)) if j == bit // 8 else b for j, b in enumerate(p[i]))
    with pytest.raises(RootMismatchError) as err:
        verify_inclusion(hash_leaf(d[index]), index, size, bad, tree.root())
    assert err.value.expected == tree.root()


@settings(max_examples=100, deadline=None)
@given(_two_sizes(), st.data())
def test_consistency_with_wrong_old_root_is_caught(
    case: tuple[int, int], data: st.DataObject
) -> None:
    size1, size2 = case
    d = _entries(size2)
    tree = MemoryTree.from_entries(d)
    p = tree.consistency_proof(size1, size2)
    other = data.draw(st.binary(min_size=32, max_size=32).filter(lambda r: r != mth(d[:size1])))
    with pytest.raises(LedgerError):
        verify_consistency(size1, size2, p, other, mth(d))


LEAF = hash_leaf(b"x")
TREE = MemoryTree.from_entries([b"a", b"b", b"c", b"d", b"e"])


@pytest.mark.parametrize(
    ("args", "error", "reason"),
    [
        ((LEAF, 5, 5, []), InvalidSizeError, "index out of range: got index 5, want < size 5"),
        ((LEAF, -1, 5, []), InvalidSizeError, "index out of range"),
        ((LEAF, 0, 2**64, []), InvalidSizeError, "size out of range"),
        ((LEAF, True, 5, []), InvalidSizeError, "must be an integer"),
        ((LEAF[:31], 0, 1, []), MalformedHashError, "leaf_hash must be 32 bytes, got 31"),
        (("x" * 32, 0, 1, []), MalformedHashError, "leaf_hash must be 32 bytes, got str"),
        ((LEAF, 0, 5, [LEAF]), ProofLengthError, "got 1 hashes, want 3"),
        ((LEAF, 0, 5, [LEAF] * 4), ProofLengthError, "got 4 hashes, want 3"),
        ((LEAF, 0, 5, [LEAF, LEAF, LEAF[:-1]]), MalformedHashError, "proof[2] must be 32 bytes"),
        ((LEAF, 0, 5, [LEAF, b"", LEAF]), MalformedHashError, "proof[1] must be 32 bytes, got 0"),
        ((LEAF, 0, 5, LEAF * 3), MalformedHashError, "not one string"),
    ],
    ids=[
        "index-equals-size",
        "negative-index",
        "size-beyond-uint64",
        "bool-index",
        "short-leaf",
        "str-leaf",
        "proof-too-short",
        "proof-too-long",
        "short-proof-hash",
        "empty-proof-hash",
        "proof-as-bytes",
    ],
)
def test_malformed_inclusion_inputs(
    args: tuple[object, ...], error: type[LedgerError], reason: str
) -> None:
    with pytest.raises(error, match=reason.replace("[", r"\[").replace("]", r"\]")):
        root_from_inclusion_proof(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "error", "reason"),
    [
        ((3, 2, [], b"r", b"r"), InvalidSizeError, r"size2 \(2\) < size1 \(3\)"),
        ((0, 2, [], b"r", b"r"), InvalidSizeError, "empty tree"),
        ((0, 0, [], b"r", b"r"), InvalidSizeError, "empty tree"),
        ((2, 2, [LEAF], b"r", b"r"), ProofLengthError, "got 1 hashes, want 0"),
        ((2, 5, [], TREE.root(2), TREE.root()), ProofLengthError, "got 0 hashes, want 2"),
        ((3, 5, [LEAF], TREE.root(3), TREE.root()), ProofLengthError, "want 4"),
        ((3, 5, [LEAF, LEAF, b"\0" * 33], TREE.root(3), TREE.root()), MalformedHashError, "33"),
        ((2, 2, [], TREE.root(2), TREE.root(3)), RootMismatchError, "root mismatch"),
    ],
    ids=[
        "size1-after-size2",
        "size1-zero",
        "both-zero",
        "equal-sizes-nonempty-proof",
        "empty-proof",
        "short-proof",
        "oversized-hash",
        "equal-sizes-different-roots",
    ],
)
def test_malformed_consistency_inputs(
    args: tuple[object, ...], error: type[LedgerError], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        verify_consistency(*args)  # type: ignore[arg-type]


def test_root_mismatch_names_expected_and_got() -> None:
    p = TREE.consistency_proof(3, 5)
    got = root_from_consistency_proof(3, 5, p, TREE.root(3))
    assert got == TREE.root()
    with pytest.raises(RootMismatchError) as err:
        verify_consistency(3, 5, p, TREE.root(3), TREE.root(4))
    assert (err.value.expected, err.value.got) == (TREE.root(4), TREE.root())
    assert TREE.root(4).hex() in str(err.value) and TREE.root().hex() in str(err.value)


def test_proof_generation_rejects_bad_sizes() -> None:
    with pytest.raises(InvalidSizeError):
        TREE.inclusion_proof(5, 5)
    with pytest.raises(InvalidSizeError):
        TREE.inclusion_proof(0, 6)
    with pytest.raises(InvalidSizeError):
        TREE.consistency_proof(0, 3)
    with pytest.raises(InvalidSizeError):
        TREE.consistency_proof(4, 3)
    assert TREE.consistency_proof(3, 3) == []


_junk = st.one_of(
    st.binary(max_size=40),
    st.binary(min_size=32, max_size=32),
    st.text(max_size=4),
    st.integers(),
    st.none(),
)
_size = st.one_of(st.integers(-3, 300), st.integers(2**63, 2**65), st.booleans())


@settings(max_examples=300, deadline=None)
@given(_size, _size, st.one_of(st.lists(_junk, max_size=12), _junk), _junk, _junk)
def test_hostile_inputs_only_raise_ledger_errors(
    a: int, b: int, proof: object, h1: object, h2: object
) -> None:
    # Whatever arrives (wrong types, sizes, lengths), verification fails closed with our errors.
    with contextlib.suppress(LedgerError):
        verify_inclusion(h1, a, b, proof, h2)  # type: ignore[arg-type]
    with contextlib.suppress(LedgerError):
        verify_consistency(a, b, proof, h1, h2)  # type: ignore[arg-type]
