"""The fast Merkle code against the published RFC 6962 test data of transparency-dev/merkle."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from rsrp.ledger import (
    EMPTY_ROOT,
    LedgerError,
    MemoryTree,
    hash_leaf,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from rsrp.ledger._tree import fold_right, range_ids

VECTORS = Path(__file__).parent.parent / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


REF = _load("rfc6962-transparency-dev-merkle-reference-tree.json")
INCLUSION = _load("rfc6962-transparency-dev-merkle-inclusion.json")["cases"]
CONSISTENCY = _load("rfc6962-transparency-dev-merkle-consistency.json")["cases"]
LEAVES = [bytes.fromhex(x) for x in REF["leaf_inputs"]]


def _b64(value: str | None) -> bytes:
    # Go's encoding/json writes a nil []byte as null and decodes "" as an empty slice.
    return base64.b64decode(value or "", validate=True)


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def _id(case: dict[str, Any]) -> str:
    return str(case["file"]).removeprefix("testdata/")


def test_reference_leaves_are_the_published_inputs() -> None:
    assert LEAVES[0] == b"" and LEAVES[7] == bytes(range(0x60, 0x70))
    assert EMPTY_ROOT.hex() == REF["empty_root"]


@pytest.mark.parametrize("size", range(9))
def test_reference_root_at_each_size(size: int) -> None:
    tree = MemoryTree.from_entries(LEAVES[:size])
    assert tree.root().hex() == REF["root_hashes"][size]
    assert root_at(MemoryTree.from_entries(LEAVES), size).hex() == REF["root_hashes"][size]


def test_reference_node_hashes() -> None:
    tree = MemoryTree.from_entries(LEAVES)
    assert [[h.hex() for h in level] for level in tree.levels] == REF["node_hashes"]


@pytest.mark.parametrize("case", INCLUSION, ids=_id)
def test_inclusion_probe(case: dict[str, Any]) -> None:
    args = (
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(LedgerError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("case", CONSISTENCY, ids=_id)
def test_consistency_probe(case: dict[str, Any]) -> None:
    args = (
        case["size1"],
        case["size2"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(LedgerError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _on_reference_tree(size: int, root: str) -> bool:
    return size <= 8 and REF["root_hashes"][size] == _b64(root).hex()


# Happy-path probes over the reference tree: our generated proofs must equal the published ones.
REF_INCLUSION = [
    c
    for c in INCLUSION
    if not c["wantErr"]
    and _on_reference_tree(c["treeSize"], c["root"])
    and _b64(c["leafHash"]) == hash_leaf(LEAVES[c["leafIdx"]])
]
REF_CONSISTENCY = [
    c
    for c in CONSISTENCY
    if not c["wantErr"] and c["size1"] > 0 and _on_reference_tree(c["size2"], c["root2"])
]


def test_reference_probes_are_found() -> None:
    assert len(REF_INCLUSION) >= 4 and len(REF_CONSISTENCY) >= 4


@pytest.mark.parametrize("case", REF_INCLUSION, ids=_id)
def test_generated_inclusion_proof_matches_published(case: dict[str, Any]) -> None:
    tree = MemoryTree.from_entries(LEAVES)
    assert tree.inclusion_proof(case["leafIdx"], case["treeSize"]) == _proof(case["proof"])


@pytest.mark.parametrize("case", REF_CONSISTENCY, ids=_id)
def test_generated_consistency_proof_matches_published(case: dict[str, Any]) -> None:
    tree = MemoryTree.from_entries(LEAVES)
    assert tree.consistency_proof(case["size1"], case["size2"]) == _proof(case["proof"])


SUBTREES = _load("rfc6962-transparency-dev-merkle-subtree-vectors.json")


def _valid_subtrees(max_size: int) -> list[tuple[int, int]]:
    out = []
    for end in range(max_size + 1):
        for start in range(end + 1):
            n = end - start
            bit_ceil = 1 << (n - 1).bit_length() if n else 1
            if start == 0 or start == end or start % bit_ceil == 0:
                out.append((start, end))
    return out


def test_subtree_hash_vector() -> None:
    # MTH(D[start:end]) of every valid subtree, from stored-style nodes: range_ids + fold_right.
    size = SUBTREES["max_size"]
    tree = MemoryTree.from_entries([bytes([i]) for i in range(size)])
    rolling = hashlib.sha256()
    for start, end in _valid_subtrees(size):
        h = fold_right(tree.get_nodes(range_ids(start, end)))
        rolling.update(f"[{start}, {end}) {h.hex()}\n".encode())
    assert rolling.hexdigest() == SUBTREES["subtree_hash"]


def test_subtree_inclusion_vector() -> None:
    size = SUBTREES["max_size"]
    d = [bytes([i]) for i in range(size)]
    rolling = hashlib.sha256()
    for start, end in _valid_subtrees(size):
        sub = MemoryTree.from_entries(d[start:end])
        for index in range(start, end):
            proof = sub.inclusion_proof(index - start, end - start)
            line = f"{index} [{start}, {end})" + "".join(f" {p.hex()}" for p in proof)
            rolling.update(f"{line}\n".encode())
    assert rolling.hexdigest() == SUBTREES["subtree_inclusion"]
