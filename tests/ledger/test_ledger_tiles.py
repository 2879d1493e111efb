"""C2SP tlog-tiles export: paths, the spec's worked examples, bundle encoding, read-back audit."""

from __future__ import annotations

import re
import shutil
import struct
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ledger.ledger_signed import ORIGIN, fill_and_sign

from rsrp.ledger import (
    LedgerError,
    Log,
    MemoryTree,
    TamperError,
    TilesSource,
    audit,
    entries_path,
    export_tiles,
    tile_path,
    verifier_from_vkey,
)
from rsrp.ledger._checkpoint_audit import checkpoint_note_verifier


@pytest.mark.parametrize(
    ("args", "want"),
    [
        ((0, 0), "tile/0/000"),
        ((0, 1234067), "tile/0/x001/x234/067"),  # the spec's example
        ((1, 999), "tile/1/999"),
        ((1, 1000), "tile/1/x001/000"),
        ((2, 5, 1), "tile/2/005.p/1"),
        ((0, 1, 255), "tile/0/001.p/255"),
    ],
)
def test_tile_paths(args: tuple[int, ...], want: str) -> None:
    assert tile_path(*args) == want


def test_entry_bundle_paths_and_bad_widths() -> None:
    assert entries_path(1234067) == "tile/entries/x001/x234/067"
    assert entries_path(3, 112) == "tile/entries/003.p/112"
    for bad in (0, 257):
        with pytest.raises(ValueError):
            entries_path(0, bad)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_spec_example_size_256(tmp_path: Path) -> None:
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
    # tile of width 1" (c2sp.org/tlog-tiles).
    with Log.open(tmp_path / "l.db") as log:
        fill_and_sign(log, [256])
        export_tiles(log.backend, tmp_path / "out")
    assert _files(tmp_path / "out") == {
        "checkpoint",
        "tile/0/000",
        "tile/1/000.p/1",
        "tile/entries/000",
    }


def test_spec_example_size_70000(tmp_path: Path) -> None:
    # 273 full level-0 tiles, one partial of width 112, one full level-1 tile, one partial
    # level-1 tile of width 17, one partial level-2 tile of width 1 (c2sp.org/tlog-tiles).
    with Log.open(tmp_path / "l.db") as log:
        signed = fill_and_sign(log, [70_000])
        export_tiles(log.backend, tmp_path / "out")
        data = [e.data for e in log.backend.read_entries(0, 70_000)]
    files = _files(tmp_path / "out")
    level0 = [f for f in files if f.startswith("tile/0/")]
    assert len(level0) == 274 and "tile/0/273.p/112" in files
    assert {f for f in files if f.startswith(("tile/1/", "tile/2/"))} == {
        "tile/1/000",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
    }
    assert len([f for f in files if f.startswith("tile/entries/")]) == 274
    # A level-1 hash is the MTH of one full level-0 tile's 256 entries.
    tile1 = (tmp_path / "out/tile/1/001.p/17").read_bytes()
    assert tile1[:32] == MemoryTree.from_entries(data[256 * 256 : 256 * 257]).root()
    # Bundles: big-endian uint16 length, then the entry.
    bundle = (tmp_path / "out/tile/entries/273.p/112").read_bytes()
    first = data[273 * 256]
    assert bundle[:2] == struct.pack(">H", len(first)) and bundle[2 : 2 + len(first)] == first
    report = audit(
        TilesSource(tmp_path / "out"),
        node_levels=[8, 16],
        verify_note=checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(signed.vkey)]),
    )
    assert report.size == 70_000 and report.root == signed.roots[70_000]


def test_partial_tiles_of_every_checkpoint_whose_full_tile_is_missing(tmp_path: Path) -> None:
    # c2sp.org/tlog-tiles §Partial Tiles: partial tiles for every checkpointed size, at every
    # level, except where the full tile now exists. Latest 1000: level 0 ends at 003.p/232,
    # level 1 at 000.p/3. 5, 300, 520 have full level-0 tiles now; 800 shares tile 003.
    sizes = [5, 300, 520, 800, 1000]
    with Log.open(tmp_path / "l.db") as log:
        signed = fill_and_sign(log, sizes)
        export_tiles(log.backend, tmp_path / "out")
        notes = {s: cp.note for s in sizes if (cp := log.backend.checkpoint_at(s))}
        data = [e.data for e in log.backend.read_entries(0, 1000)]
    out = tmp_path / "out"
    partial = {f for f in _files(out) if ".p/" in f}
    assert partial == {
        "tile/0/003.p/32",
        "tile/0/003.p/232",
        "tile/entries/003.p/32",
        "tile/entries/003.p/232",
        "tile/1/000.p/1",
        "tile/1/000.p/2",
        "tile/1/000.p/3",
    }
    tree = MemoryTree.from_entries(data)
    level1 = (out / "tile/1/000.p/3").read_bytes()
    assert level1 == b"".join(tree.get_nodes([(8, i) for i in range(3)]))
    for w in (1, 2):
        assert (out / f"tile/1/000.p/{w}").read_bytes() == level1[: 32 * w]
    bundle = b"".join(struct.pack(">H", len(e)) + e for e in data[768:800])
    assert (out / "tile/entries/003.p/32").read_bytes() == bundle
    # The directory as it was published at size 800 audits from its own tiles.
    (out / "checkpoint").write_bytes(notes[800])
    src = TilesSource(out)
    verify = checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(signed.vkey)])
    report = audit(src, node_levels=src.node_levels(), verify_note=verify)
    assert report.size == 800 and report.root == signed.roots[800]


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, str]:
    with Log.open(tmp_path / "l.db") as log:
        signed = fill_and_sign(log, [300, 700])
        log.append_many([b"unsigned tail"] * 5)  # not published: beyond the checkpoint
        export_tiles(log.backend, tmp_path / "out")
    return tmp_path / "out", signed.vkey


def test_export_reads_back_and_audits(exported: tuple[Path, str]) -> None:
    out, vkey = exported
    src = TilesSource(out)
    assert src.head()[0] == 700
    assert (
        audit(
            src,
            node_levels=src.node_levels(),
            verify_note=checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(vkey)]),
        ).size
        == 700
    )


@pytest.mark.parametrize(
    ("damage", "reason", "index"),
    [
        ("flip-entry", "entry 517: stored leaf hash", 517),
        ("flip-leaf-tile", "entry 300: stored leaf hash", 300),
        ("truncate-bundle", "malformed entry bundle at entry 511", 511),
        ("trailing-garbage", "1 trailing bytes after entry 699", 699),
        ("delete-bundle", "is missing: entry 512", 512),
        ("flip-level1", "tree node (level 8, index 1)", 256),
    ],
)
def test_damaged_tiles_are_reported(
    exported: tuple[Path, str], damage: str, reason: str, index: int
) -> None:
    out, vkey = exported
    if damage == "flip-entry":
        p = out / "tile/entries/002.p/188"  # entries 512..699
        b = bytearray(p.read_bytes())
        pos = 0
        for _ in range(5):  # walk the length prefixes to entry 517
            pos += 2 + struct.unpack_from(">H", b, pos)[0]
        b[pos + 2] ^= 1
        p.write_bytes(bytes(b))
    elif damage == "flip-leaf-tile":
        p = out / "tile/0/001"
        b = bytearray(p.read_bytes())
        b[44 * 32] ^= 1
        p.write_bytes(bytes(b))
    elif damage == "truncate-bundle":
        p = out / "tile/entries/001"
        p.write_bytes(p.read_bytes()[:-3])
    elif damage == "trailing-garbage":
        p = out / "tile/entries/002.p/188"
        p.write_bytes(p.read_bytes() + b"\x00")
    elif damage == "delete-bundle":
        (out / "tile/entries/002.p/188").unlink()
    elif damage == "flip-level1":
        p = out / "tile/1/000.p/2"
        b = bytearray(p.read_bytes())
        b[40] ^= 1
        p.write_bytes(bytes(b))
    src = TilesSource(out)
    with pytest.raises(TamperError, match=re.escape(reason)) as err:
        audit(
            src,
            node_levels=src.node_levels(),
            verify_note=checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(vkey)]),
        )
    assert err.value.index == index


@pytest.fixture(scope="module")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("tiles")
    with Log.open(base / "l.db") as log:
        signed = fill_and_sign(log, [300])
        export_tiles(log.backend, base / "out")
    return base / "out", signed.vkey


_FILES = [
    "tile/0/000",
    "tile/0/001.p/44",
    "tile/entries/000",
    "tile/entries/001.p/44",
    "tile/1/000.p/1",
    "checkpoint",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(_FILES),
    how=st.sampled_from(["flip", "truncate", "append", "replace"]),
    data=st.data(),
)
def test_hostile_tile_files_fail_closed(
    small_export: tuple[Path, str], tmp_path: Path, name: str, how: str, data: st.DataObject
) -> None:
    out = tmp_path / f"copy-{uuid.uuid4().hex}"
    shutil.copytree(small_export[0], out)
    p = out / name
    b = bytearray(p.read_bytes())
    if how == "flip":
        i = data.draw(st.integers(0, len(b) - 1))
        b[i] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "truncate":
        del b[data.draw(st.integers(0, len(b) - 1)) :]
    elif how == "append":
        b += data.draw(st.binary(min_size=1, max_size=64))
    else:
        b = bytearray(data.draw(st.binary(max_size=9000)))
    p.write_bytes(bytes(b))
    verify = checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(small_export[1])])
    try:
        src = TilesSource(out)
        audit(src, node_levels=src.node_levels(), verify_note=verify)
    except LedgerError:
        return  # refused with our own error: fail closed
    # Accepted: only possible if the bytes are still exactly what was published.
    assert p.read_bytes() == (small_export[0] / name).read_bytes()
