"""Divergences found auditing rsrp.ledger against the C2SP texts and their reference code.

Each test pins the behaviour of the spec (and of torchwood / Go's x/mod / tessera where the
spec leaves room) on a point where rsrp used to differ; docs/ledger-checkpoints.md lists them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from rsrp.errors import LedgerError
from rsrp.ledger import (
    Checkpoint,
    Checkpointer,
    Log,
    MemoryTree,
    TamperError,
    TilesSource,
    UnsupportedCheckpointError,
    Witness,
    WitnessServer,
    WitnessState,
    audit,
    checkpoint_note_verifier,
    entries_path,
    export_tiles,
    generate_key,
    open_note,
    sign_note,
    signer_from_skey,
    tile_path,
    verifier_from_vkey,
)
from rsrp.ledger._witness import AddCheckpointRequest, format_add_checkpoint

ORIGIN = "example.com/log"
WITNESS = "witness.example/w1"
ROOT = hashlib.sha256(b"root").digest()


def _log_note(extensions: tuple[str, ...]) -> tuple[bytes, str]:
    skey, vkey = generate_key(ORIGIN)
    body = Checkpoint(ORIGIN, 5, ROOT, extensions).body()
    return sign_note(body, [signer_from_skey(skey)]), vkey


@pytest.mark.parametrize("key_type", ["cosignature-mldsa44", "cosignature-ed25519"])
def test_witness_and_extension_lines(tmp_path: Path, key_type: str) -> None:
    """An ML-DSA-44 witness cannot cover extension lines (tlog-cosignature §ML-DSA-44 signed
    message; torchwood refuses to sign them): 422 before any state change. An Ed25519
    witness signs them (§Ed25519 signed message includes them)."""
    note, log_vkey = _log_note(("extension 1",))
    skey, wvkey = generate_key(WITNESS, key_type)
    state = WitnessState(tmp_path / "w.db")
    witness = Witness(state, [signer_from_skey(skey)], {ORIGIN: [verifier_from_vkey(log_vkey)]})
    server = WitnessServer(witness).start()
    try:
        body = format_add_checkpoint(AddCheckpointRequest(0, (), note))
        r = httpx.post(server.url + "/add-checkpoint", content=body)
        if key_type == "cosignature-mldsa44":
            assert r.status_code == UnsupportedCheckpointError.status == 422, r.text
            assert "extension lines" in r.text
            assert state.get(ORIGIN) is None
            # Without the extension line the same witness cosigns.
            plain, plain_vkey = _log_note(())
            witness.logs[ORIGIN] = (verifier_from_vkey(plain_vkey),)
            body = format_add_checkpoint(AddCheckpointRequest(0, (), plain))
            r = httpx.post(server.url + "/add-checkpoint", content=body)
            note = plain
        assert r.status_code == 200, r.text
        text = note[: note.rindex(b"\n\n") + 1]
        opened = open_note(text + b"\n" + r.content, [verifier_from_vkey(wvkey)])
        assert len(opened.verified) == 1
    finally:
        server.stop()
        state.close()


# --- tlog-tiles ----------------------------------------------------------------------------


def _grown_log(tmp_path: Path) -> tuple[Path, bytes, str, list[bytes]]:
    """A log checkpointed at 100 then 300 entries, exported at 300: the partial tiles of size
    100 are superseded by the full tile 000 and are not published (§Partial Tiles)."""
    skey, vkey = generate_key(ORIGIN)
    entries = [b"entry %d" % i for i in range(300)]
    with Log.open(tmp_path / "l.db") as log:
        cpr = Checkpointer(ORIGIN, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)])
        log.append_many(entries[:100])
        cpr.checkpoint()
        old = log.checkpoint_at(100)
        assert old is not None
        log.append_many(entries[100:])
        cpr.checkpoint()
        export_tiles(log.backend, tmp_path / "out")
    return tmp_path / "out", old.note, vkey, entries


def test_tiles_reader_falls_back_to_the_full_tile(tmp_path: Path) -> None:
    """§Partial Tiles: a log MAY delete a partial tile once the full one exists, and clients
    MAY fetch the full tile instead. Auditing at the old size 100 must then use the first 100
    hashes of tile/0/000 and the first 100 entries of tile/entries/000."""
    out, old_note, vkey, entries = _grown_log(tmp_path)
    assert not (out / tile_path(0, 0, 100)).exists() and (out / tile_path(0, 0)).exists()
    (out / "checkpoint").write_bytes(old_note)
    src = TilesSource(out)
    verify = checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(vkey)])
    report = audit(src, node_levels=src.node_levels(), verify_note=verify)
    assert (report.size, report.root) == (100, MemoryTree.from_entries(entries[:100]).root())
    # The fallback is held to the full tile's exact size: a truncated one is caught.
    (out / tile_path(0, 0)).write_bytes((out / tile_path(0, 0)).read_bytes()[:-1])
    with pytest.raises(TamperError, match=r"tile/0/000 is 8191 bytes, want 8192"):
        audit(TilesSource(out), node_levels=[], verify_note=verify)


def test_tiles_reader_full_bundle_fallback_checks_the_whole_bundle(tmp_path: Path) -> None:
    out, old_note, vkey, _ = _grown_log(tmp_path)
    (out / "checkpoint").write_bytes(old_note)
    bundle = out / entries_path(0)
    bundle.write_bytes(bundle.read_bytes() + b"\x00")  # one byte after entry 255
    verify = checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(vkey)])
    with pytest.raises(TamperError, match="trailing bytes"):
        audit(TilesSource(out), node_levels=[], verify_note=verify)


def test_uint16_bundle_limit_is_the_log_entry_limit(tmp_path: Path) -> None:
    """§Log entries: bundles are uint16 length-prefixed. The log refuses a longer entry at
    append, and one of exactly 65535 bytes exports and reads back intact."""
    skey, vkey = generate_key(ORIGIN)
    big = bytes(range(256)) * 255 + b"x" * 255
    assert len(big) == 0xFFFF
    with Log.open(tmp_path / "l.db") as log:
        with pytest.raises(LedgerError, match="65536 bytes"):
            log.append_many([b"x" * 0x10000])
        cpr = Checkpointer(ORIGIN, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)])
        log.append_many([b"small", big])
        cpr.checkpoint()
        export_tiles(log.backend, tmp_path / "out")
    bundle = (tmp_path / "out" / entries_path(0, 2)).read_bytes()
    assert bundle == b"\x00\x05small\xff\xff" + big
    _, data, _ = TilesSource(tmp_path / "out").read_entry_columns(0, 2)
    assert list(data) == [b"small", big]
