"""Divergences found auditing rsrp.ledger against the C2SP texts and their reference code.

Each test pins the behaviour of the spec (and of torchwood / Go's x/mod / tessera where the
spec leaves room) on a point where rsrp used to differ; docs/ledger-checkpoints.md lists them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.errors import LedgerError
from rsrp.ledger import (
    Checkpoint,
    Checkpointer,
    Log,
    MalformedCheckpointError,
    MalformedNoteError,
    MemoryTree,
    SignatureInvalidError,
    TamperError,
    TilesSource,
    UnknownKeyError,
    audit,
    checkpoint_note_verifier,
    entries_path,
    export_tiles,
    generate_key,
    open_note,
    parse_checkpoint,
    parse_note,
    signer_from_skey,
    tile_path,
    verifier_from_vkey,
)

ORIGIN = "example.com/log"
ROOT = hashlib.sha256(b"root").digest()


# --- signed-note ---------------------------------------------------------------------------

_GO = json.loads(
    (Path(__file__).parents[1] / "vectors/c2sp-signed-note-golang-x-mod.json").read_text()
)


def test_note_crlf_line_endings_are_malformed() -> None:
    """signed-note §Format: no control characters but U+000A, so CRLF notes are refused."""
    peter = verifier_from_vkey(_GO["peter_vkey"])
    good = (_GO["text"] + "\n" + _GO["peter_sig_line"]).encode()
    assert open_note(good, [peter]).verified
    for bad in (good.replace(b"\n", b"\r\n"), good[:-1] + b"\r\n"):
        with pytest.raises(MalformedNoteError, match="control character U\\+000D"):
            open_note(bad, [peter])


def test_note_split_is_at_the_last_empty_line() -> None:
    """signed-note §Format: "the text is separated from the signatures by the last empty
    line". An empty line between two signature lines turns the first into note text, so the
    signature no longer covers the text (as Go's note.Open: bytes.LastIndex)."""
    peter = verifier_from_vkey(_GO["peter_vkey"])
    enoch = verifier_from_vkey(_GO["enoch_vkey"])
    msg = (_GO["text"] + "\n" + _GO["peter_sig_line"] + "\n" + _GO["enoch_sig_line"]).encode()
    assert parse_note(msg).text == _GO["text"] + "\n" + _GO["peter_sig_line"]
    with pytest.raises(SignatureInvalidError):
        open_note(msg, [peter, enoch])
    with pytest.raises(UnknownKeyError):
        open_note(msg, [peter])  # the only signature line left is Enoch's, unknown here


def test_note_lines_sharing_only_name_or_only_key_id_are_ignored() -> None:
    """signed-note §Signatures: verifiers MUST ignore signatures from unknown keys "even if they
    share a name or ID (but not both) with a known key" — even when those lines are garbage."""
    peter = verifier_from_vkey(_GO["peter_vkey"])
    sig = base64.b64decode(_GO["peter_sig_line"].split(" ")[2])
    same_name = "\u2014 PeterNeumann " + base64.b64encode(b"\0\0\0\1" + sig[4:]).decode()
    same_id = "\u2014 PeterNeumann2 " + base64.b64encode(sig[:4] + b"\0" * 64).decode()
    msg = (_GO["text"] + "\n" + f"{same_name}\n{same_id}\n" + _GO["peter_sig_line"]).encode()
    opened = open_note(msg, [peter])
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in opened.unverified] == [
        ("PeterNeumann", 1),
        ("PeterNeumann2", peter.key_id),
    ]


def test_note_accepts_100_post_quantum_sized_signature_lines() -> None:
    """signed-note: verifiers MUST accept at least 16 signatures, "post-quantum signatures can
    be up to nearly 5kB". Our size cap must not bite before Go's 100-line cap: 99 unknown
    ML-DSA-87-sized lines (4+4627 bytes) plus one known line still open."""
    peter = verifier_from_vkey(_GO["peter_vkey"])
    junk = [
        f"\u2014 pq{i}.example/w {base64.b64encode(bytes([i]) * (4 + 4627)).decode()}\n"
        for i in range(99)
    ]
    msg = (_GO["text"] + "\n" + "".join(junk) + _GO["peter_sig_line"]).encode()
    assert len(msg) > 600_000
    opened = open_note(msg, [peter])
    assert len(opened.verified) == 1 and len(opened.unverified) == 99


# --- tlog-checkpoint -----------------------------------------------------------------------


def test_checkpoint_with_large_extension_lines_parses() -> None:
    """tlog-checkpoint sets no size limit; torchwood accepts bodies up to 1e6 bytes (we used
    to stop at 64 KiB). Beyond the note size cap it is refused."""
    exts = tuple(f"ext{i} " + "a" * 1000 for i in range(100))
    body = Checkpoint(ORIGIN, 5, ROOT, exts).body()
    assert 64 * 1024 < len(body) < 1_000_000
    assert parse_checkpoint(body).extensions == exts
    with pytest.raises(MalformedCheckpointError, match="larger than"):
        parse_checkpoint(Checkpoint(ORIGIN, 5, ROOT, ("a" * 1_000_000,)).body())


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


# --- tlog-proof: third-party proofs through the CLI ----------------------------------------

_SUMDB = json.loads(
    (Path(__file__).parents[1] / "vectors/c2sp-tlog-proof-sumdb-tessera.json").read_text()
)


def _verify_proof(tmp_path: Path, *args: str, proof: str | None = None) -> Result:
    f = tmp_path / "p.tlog-proof"
    f.write_text(proof if proof is not None else _SUMDB["proof"])
    return CliRunner().invoke(app, ["receipt", "verify-proof", str(f), *args])


@pytest.mark.parametrize(
    "leaf_args",
    [
        ["--leaf-hash", "0fa57c511c3b2ffcc0a05ad63172568d265aaf9844e9b636a0978795396f2ab1"],
        ["--leaf-hash", "D6V8URw7L/zAoFrWMXJWjSZar5hE6bY2oJeHlTlvKrE="],
        ["--leaf-file"],
    ],
    ids=["hex", "base64", "file"],
)
def test_cli_verifies_the_published_sumdb_tlog_proof(tmp_path: Path, leaf_args: list[str]) -> None:
    """The proof and leaf from transparency-dev/incubator cmd/tlog-verify/testdata, with that
    tool's flags (its README: --log-key, --origin, one of --leaf-hash / --leaf-file)."""
    if leaf_args == ["--leaf-file"]:
        leaf = tmp_path / "leaf.txt"
        leaf.write_bytes(_SUMDB["leaf"].encode())
        leaf_args = ["--leaf-file", str(leaf)]
    key = ["--log-key", _SUMDB["vkey"], "--origin", _SUMDB["origin"]]
    res = _verify_proof(tmp_path, *key, *leaf_args)
    assert res.exit_code == 0, res.output
    assert f"at tree size {_SUMDB['size']}" in res.output
    assert "sum.golang.org+033de0ae" in res.output


def test_cli_verify_proof_fails_closed(tmp_path: Path) -> None:
    good = ["--vkey", _SUMDB["vkey"], "--origin", _SUMDB["origin"]]
    leaf = ["--leaf-hash", _SUMDB["leaf_hash_hex"]]
    assert _verify_proof(tmp_path, *good, *leaf).exit_code == 0
    # Origin defaults to the key's name, as tlog-verify: sum.golang.org's origin differs.
    res = _verify_proof(tmp_path, "--vkey", _SUMDB["vkey"], *leaf)
    assert res.exit_code == 1 and "origin" in res.output
    res = _verify_proof(tmp_path, *good, "--leaf-hash", "00" * 32)
    assert res.exit_code == 1, res.output
    other = _SUMDB["proof"].replace("index 43930254", "index 43930253")
    assert _verify_proof(tmp_path, *good, *leaf, proof=other).exit_code == 1
    res = _verify_proof(tmp_path, *good)
    assert res.exit_code != 0 and "exactly one of --leaf-hash and --leaf-file" in res.output
    res = _verify_proof(tmp_path, *good, "--leaf-hash", "abcd")
    assert res.exit_code != 0 and "32 bytes" in res.output
