"""C2SP tlog-tiles: export a log as static files, and read such a directory back for audit.

Layout (c2sp.org/tlog-tiles): ``checkpoint``; ``tile/<L>/<N>[.p/<W>]`` with 256 hashes per full
tile, where tile level L holds the tree's nodes at level 8*L; ``tile/entries/<N>[.p/<W>]``
entry bundles, each entry prefixed by its big-endian uint16 length. ``<N>`` is written in
zero-padded 3-digit path elements, all but the last prefixed with ``x`` (1234067 ->
``x001/x234/067``). Export writes the full tiles and the partial tiles of the published
(latest) checkpoint, plus the partial tiles of every earlier stored checkpoint whose full tile
does not exist yet (§Partial Tiles: "Logs MUST serve partial tiles corresponding to tree sizes
for which a checkpoint was produced").
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

from rsrp.errors import LedgerError
from rsrp.ledger._checkpoint import parse_checkpoint
from rsrp.ledger._errors import StorageError, TamperError
from rsrp.ledger._note import parse_note
from rsrp.ledger._storage import Backend, StoredCheckpoint
from rsrp.ledger.rfc6962 import HASH_SIZE

__all__ = ["TILE_WIDTH", "TilesSource", "entries_path", "export_tiles", "tile_levels", "tile_path"]

TILE_WIDTH = 256
_TILE_HEIGHT = 8  # log2(TILE_WIDTH): tree levels per tile level
_U16 = struct.Struct(">H")


def _index_path(n: int) -> str:
    if n < 0:
        raise ValueError(f"tile index must be >= 0, got {n}")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def tile_path(level: int, n: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` (c2sp.org/tlog-tiles §Merkle Tree). Requires 1 <= width <= 256."""
    if not 0 <= level <= 63 or not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"bad tile level {level} or width {width}")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{_index_path(n)}{suffix}"


def entries_path(n: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]`` (c2sp.org/tlog-tiles §Log entries)."""
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"bad entry bundle width {width}")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/entries/{_index_path(n)}{suffix}"


def _tiles_of(count: int) -> list[tuple[int, int]]:
    """(tile index, width) for ``count`` consecutive hashes of one level; no empty tile."""
    full, rest = divmod(count, TILE_WIDTH)
    return [(n, TILE_WIDTH) for n in range(full)] + ([(full, rest)] if rest else [])


def tile_levels(size: int) -> list[int]:
    """Tile levels present for a tree of ``size`` (level L has floor(size / 256**L) hashes)."""
    levels, level = [], 0
    while size >> (_TILE_HEIGHT * level):
        levels.append(level)
        level += 1
    return levels


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # readers of a served directory never see half a file


def _partial_widths(sizes: Sequence[int], latest: int) -> dict[int, list[int]]:
    """Per tile level, the partial-tile widths below the latest partial tile to also publish.

    A checkpoint size s has at tile level L the partial tile ``(s >> 8L) // 256`` of width
    ``(s >> 8L) % 256``. If that tile index is below the latest size's last tile at L, the full
    tile exists and the partial one may be dropped (§Partial Tiles); otherwise it is the same
    tile index as the latest partial tile, and its content is a prefix of it.
    """
    out: dict[int, list[int]] = {}
    for level in tile_levels(latest):
        last_n, last_w = divmod(latest >> (_TILE_HEIGHT * level), TILE_WIDTH)
        widths = set()
        for s in sizes:
            n, w = divmod(s >> (_TILE_HEIGHT * level), TILE_WIDTH)
            if n == last_n and 0 < w < last_w:
                widths.add(w)
        out[level] = sorted(widths)
    return out


def export_tiles(
    backend: Backend, directory: Path, *, progress: Callable[[int, int], None] | None = None
) -> StoredCheckpoint:
    """Write the log up to its latest stored checkpoint as C2SP tlog-tiles under ``directory``.

    Also writes, for every earlier stored checkpoint, the partial hash tiles (all levels) and
    entry bundle whose full tile is not yet published (c2sp.org/tlog-tiles §Partial Tiles).
    """
    cp = backend.latest_checkpoint()
    if cp is None:
        raise LedgerError("the log has no checkpoint to publish: sign one first")
    size = cp.size
    extra = _partial_widths([c.size for c in backend.checkpoints()], size)
    done = 0
    for n, width in _tiles_of(size):
        rows = backend.read_entries(n * TILE_WIDTH, width)
        if len(rows) != width or rows[-1].index != n * TILE_WIDTH + width - 1:
            raise StorageError(f"entries [{n * TILE_WIDTH}, {n * TILE_WIDTH + width}) incomplete")
        for w in [*(extra[0] if width < TILE_WIDTH else []), width]:
            bundle = b"".join(_U16.pack(len(r.data)) + r.data for r in rows[:w])
            _write(directory / entries_path(n, w), bundle)
            _write(directory / tile_path(0, n, w), b"".join(r.leaf_hash for r in rows[:w]))
        done += width
        if progress:
            progress(done, size)
    for level in tile_levels(size)[1:]:
        tree_level = _TILE_HEIGHT * level
        for n, width in _tiles_of(size >> tree_level):
            rows_n = backend.read_nodes(tree_level, n * TILE_WIDTH, width)
            if len(rows_n) != width:
                raise StorageError(f"tree nodes at level {tree_level} missing for tile {n}")
            for w in [*(extra[level] if width < TILE_WIDTH else []), width]:
                _write(directory / tile_path(level, n, w), b"".join(h for _, h in rows_n[:w]))
    # Published with the witnesses' cosignature lines appended (c2sp.org/tlog-witness).
    _write(directory / "checkpoint", cp.note + (cp.cosignatures or b""))
    return cp


class TilesSource:
    """An exported tiles directory read back as an :class:`AuditSource` (trusting nothing)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        try:
            self.note = (directory / "checkpoint").read_bytes()
        except OSError as e:
            raise TamperError(f"cannot read {directory / 'checkpoint'}: {e.strerror}", 0) from e
        cp = parse_checkpoint(parse_note(self.note).text)
        self.size, self.root = cp.size, cp.root_hash
        mtime = (directory / "checkpoint").stat().st_mtime
        self._created = dt.datetime.fromtimestamp(mtime, dt.UTC)

    def head(self) -> tuple[int, bytes]:
        return self.size, self.root

    def node_levels(self) -> list[int]:
        return [_TILE_HEIGHT * level for level in tile_levels(self.size)[1:]]

    def _file(self, rel: str, first_index: int, full: str | None = None) -> tuple[str, bytes]:
        """Read ``rel``; if that partial tile is gone, the ``full`` tile that replaced it.

        §Partial Tiles: a log "MAY delete any partial tile once the corresponding full tile
        is available", and clients MAY fall back to the full one (tessera's client does).
        """
        for path in (rel, full):
            if path is None:
                continue
            try:
                return path, (self.dir / path).read_bytes()
            except OSError:
                continue
        raise TamperError(f"{rel} is missing: entry {first_index} onwards unavailable", first_index)

    def _width(self, n: int, count: int) -> int:
        return min(TILE_WIDTH, count - n * TILE_WIDTH)

    def _hashes(self, level: int, n: int, count: int) -> list[bytes]:
        width = self._width(n, count)
        first = (n * TILE_WIDTH) << (_TILE_HEIGHT * level)
        full = tile_path(level, n) if width < TILE_WIDTH else None
        rel, data = self._file(tile_path(level, n, width), first, full)
        want = (TILE_WIDTH if rel == full else width) * HASH_SIZE
        if len(data) != want:
            raise TamperError(f"{rel} is {len(data)} bytes, want {want}", first)
        # A full tile read for a partial one: its first ``width`` hashes are the partial tile.
        return [data[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)]

    def _bundle(self, n: int) -> list[bytes]:
        width = self._width(n, self.size)
        full = entries_path(n) if width < TILE_WIDTH else None
        rel, data = self._file(entries_path(n, width), n * TILE_WIDTH, full)
        parsed = self._parse_bundle(rel, n, TILE_WIDTH if rel == full else width, data)
        return parsed[:width]

    @staticmethod
    def _parse_bundle(rel: str, n: int, width: int, data: bytes) -> list[bytes]:
        """Exactly ``width`` uint16-length-prefixed entries and nothing after them."""
        pos = 0
        out: list[bytes] = []
        while pos < len(data) and len(out) < width:
            if pos + 2 > len(data):
                break
            (length,) = _U16.unpack_from(data, pos)
            if pos + 2 + length > len(data):
                break
            out.append(data[pos + 2 : pos + 2 + length])
            pos += 2 + length
        if len(out) != width:
            bad = n * TILE_WIDTH + len(out)
            raise TamperError(f"{rel}: malformed entry bundle at entry {bad} (truncated)", bad)
        if pos != len(data):
            bad = n * TILE_WIDTH + width - 1
            raise TamperError(
                f"{rel}: malformed entry bundle: {len(data) - pos} trailing bytes after "
                f"entry {bad}",
                bad,
            )
        return out

    def read_entry_columns(
        self, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes], Sequence[bytes]]:
        idx: list[int] = []
        data: list[bytes] = []
        hashes: list[bytes] = []
        while len(idx) < limit and start < self.size:
            n, off = divmod(start, TILE_WIDTH)
            entries, leaves = self._bundle(n), self._hashes(0, n, self.size)
            take = min(len(entries) - off, limit - len(idx))
            idx += range(start, start + take)
            data += entries[off : off + take]
            hashes += leaves[off : off + take]
            start += take
        return idx, data, hashes

    def read_node_columns(
        self, level: int, start: int, limit: int
    ) -> tuple[Sequence[int], Sequence[bytes]]:
        if level % _TILE_HEIGHT:
            return [], []  # only every 8th level is published; the audit recomputes the rest
        count = self.size >> level
        idx: list[int] = []
        out: list[bytes] = []
        while len(idx) < limit and start < count:
            n, off = divmod(start, TILE_WIDTH)
            hashes = self._hashes(level // _TILE_HEIGHT, n, count)
            take = min(len(hashes) - off, limit - len(idx))
            idx += range(start, start + take)
            out += hashes[off : off + take]
            start += take
        return idx, out

    def checkpoints(self) -> list[StoredCheckpoint]:
        return [StoredCheckpoint(self.size, self.root, self.note, self._created)]
