"""C2SP tlog-tiles against a real log: the test log published in transparency-dev/tessera.

tests/vectors/c2sp-tlog-tiles-tessera-testdata.json holds every file that Tessera's POSIX
storage wrote for a 15-entry log (partial tiles and entry bundles for each size 1..15, one
Ed25519-signed checkpoint per size, including the empty tree). Tessera's published test key
lets us re-sign: Ed25519 is deterministic, so our export must reproduce the files byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.ledger import (
    EMPTY_ROOT,
    Checkpointer,
    Log,
    MemoryTree,
    TilesSource,
    audit,
    checkpoint_note_verifier,
    entries_path,
    export_tiles,
    hash_leaf,
    open_checkpoint,
    signer_from_skey,
    tile_path,
    verifier_from_vkey,
)

_VEC = json.loads(
    (Path(__file__).parents[1] / "vectors/c2sp-tlog-tiles-tessera-testdata.json").read_text()
)
FILES: dict[str, bytes] = {k: bytes.fromhex(v) for k, v in _VEC["files"].items()}
ENTRIES = [e.encode() for e in _VEC["entries"]]
CHECKPOINTS = {int(k.split(".")[1]): v for k, v in FILES.items() if k.startswith("checkpoint.")}
SIZES = sorted(CHECKPOINTS)


def test_vector_covers_every_size() -> None:
    assert list(range(16)) == SIZES
    assert len(ENTRIES) == 15
    assert FILES["checkpoint"] == CHECKPOINTS[15]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"size{s}")
def test_tessera_checkpoint_verifies_with_our_root(size: int) -> None:
    # c2sp.org/tlog-checkpoint + signed-note: Tessera's checkpoint opens under its vkey, and
    # its root is our RFC 6962 MTH of the first ``size`` entries (the empty tree included).
    signed = open_checkpoint(CHECKPOINTS[size], _VEC["origin"], [verifier_from_vkey(_VEC["vkey"])])
    want = MemoryTree.from_entries(ENTRIES[:size]).root() if size else EMPTY_ROOT
    assert signed.checkpoint.size == size and signed.checkpoint.root_hash == want


@pytest.mark.parametrize("size", SIZES[1:], ids=lambda s: f"size{s}")
def test_tessera_partial_tiles_are_our_leaf_hashes(size: int) -> None:
    # tlog-tiles §Merkle Tree / §Log entries: tile/0/000.p/<W> is the W leaf hashes, the
    # bundle the W entries, each behind a big-endian uint16 length.
    assert tile_path(0, 0, size) in FILES and entries_path(0, size) in FILES
    assert FILES[tile_path(0, 0, size)] == b"".join(hash_leaf(e) for e in ENTRIES[:size])
    bundle = b"".join(len(e).to_bytes(2, "big") + e for e in ENTRIES[:size])
    assert FILES[entries_path(0, size)] == bundle


def _materialise(root: Path, checkpoint_size: int) -> Path:
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "checkpoint").write_bytes(CHECKPOINTS[checkpoint_size])
    return root


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"size{s}")
def test_our_tiles_reader_audits_the_tessera_log(tmp_path: Path, size: int) -> None:
    src = TilesSource(_materialise(tmp_path, size))
    report = audit(
        src,
        node_levels=src.node_levels(),
        verify_note=checkpoint_note_verifier(_VEC["origin"], [verifier_from_vkey(_VEC["vkey"])]),
    )
    assert report.size == size
    assert report.root == (MemoryTree.from_entries(ENTRIES[:size]).root() if size else EMPTY_ROOT)


def test_our_export_reproduces_tessera_byte_for_byte(tmp_path: Path) -> None:
    # Same history as Tessera's build_log.sh: one entry, then one checkpoint, 15 times. The
    # export must publish the partial tiles and bundles of every checkpoint size
    # (c2sp.org/tlog-tiles §Partial Tiles), i.e. exactly Tessera's files (bar the script's
    # saved checkpoint.N copies), byte for byte.
    origin, skey, vkey = _VEC["origin"], _VEC["skey"], _VEC["vkey"]
    with Log.open(tmp_path / "l.db") as log:
        cpr = Checkpointer(origin, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)])
        for entry in ENTRIES:
            log.append_many([entry])
            cpr.checkpoint()
        export_tiles(log.backend, tmp_path / "out")
    out = tmp_path / "out"
    written = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    published = {k: v for k, v in FILES.items() if not k.startswith("checkpoint.")}
    assert sorted(written) == sorted(published)
    assert written == published


def test_one_checkpoint_exports_only_its_own_partial_tiles(tmp_path: Path) -> None:
    origin, skey, vkey = _VEC["origin"], _VEC["skey"], _VEC["vkey"]
    with Log.open(tmp_path / "l.db") as log:
        cpr = Checkpointer(origin, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)])
        log.append_many(ENTRIES)
        cpr.checkpoint()
        export_tiles(log.backend, tmp_path / "out")
    out = tmp_path / "out"
    written = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert written == {
        "checkpoint": FILES["checkpoint"],
        "tile/0/000.p/15": FILES["tile/0/000.p/15"],
        "tile/entries/000.p/15": FILES["tile/entries/000.p/15"],
    }


def test_ledger_verify_cli_accepts_the_tessera_log(tmp_path: Path) -> None:
    # `rsrp ledger verify DIR` is the auditor's tool: it must accept a third-party tiled log.
    out = _materialise(tmp_path / "log", 15)
    root_hex = MemoryTree.from_entries(ENTRIES[:15]).root().hex()
    args = ["ledger", "verify", str(out), "--vkey", _VEC["vkey"], "--origin", _VEC["origin"]]
    res = CliRunner().invoke(app, [*args, "--trusted", f"7:{_root(7).hex()}"])
    assert res.exit_code == 0, res.output
    assert "15 entries" in res.output and root_hex in res.output
    # A checkpoint the auditor saw before that this log does not contain: refused.
    bad = CliRunner().invoke(app, [*args, "--trusted", f"7:{_root(8).hex()}"])
    assert bad.exit_code == 1, bad.output


def _root(size: int) -> bytes:
    return MemoryTree.from_entries(ENTRIES[:size]).root()
