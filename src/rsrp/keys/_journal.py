"""The append-only key-event journal: JSON lines chained by SHA-256.

Each line is one JSON object ``{"seq", "prev", "time", "actor", "event", "key"}``
where ``prev`` is the hex SHA-256 of the previous line's bytes (without its
newline; 64 zeros for the first line) and ``key`` holds every attribute of the
key after the event (:meth:`KeyInfo.to_json`). Editing, inserting, reordering or
deleting a line breaks the chain. Cutting lines off the *end* leaves a valid
shorter chain: pass ``expected_head`` (the hash of the last line, kept
elsewhere, e.g. published in a checkpoint) to detect that.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rsrp.keys._errors import JournalError
from rsrp.keys._model import KeyInfo, format_time, parse_time

__all__ = ["GENESIS", "JournalEvent", "KeyJournal", "verify_journal"]

GENESIS = "0" * 64
_MAX_LINE = 64 * 1024
_EVENT = re.compile(r"^[a-z][a-z-]{1,31}\Z")
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")


@dataclass(frozen=True, slots=True)
class JournalEvent:
    seq: int
    prev: str
    time: datetime
    actor: str
    event: str
    key: KeyInfo
    line_hash: str


def _encode(seq: int, prev: str, time: datetime, actor: str, event: str, key: KeyInfo) -> bytes:
    obj: dict[str, Any] = {
        "seq": seq,
        "prev": prev,
        "time": format_time(time),
        "actor": actor,
        "event": event,
        "key": key.to_json(),
    }
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _decode(line: bytes, lineno: int) -> JournalEvent:
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise JournalError(f"journal line {lineno}: not JSON ({e})") from e
    if not isinstance(obj, dict) or set(obj) != {"seq", "prev", "time", "actor", "event", "key"}:
        raise JournalError(f"journal line {lineno}: wrong field set")
    seq, prev, actor, event = obj["seq"], obj["prev"], obj["actor"], obj["event"]
    if type(seq) is not int or not isinstance(prev, str) or not _HEX64.match(prev):
        raise JournalError(f"journal line {lineno}: bad seq or prev")
    if not isinstance(actor, str) or not isinstance(event, str) or not _EVENT.match(event):
        raise JournalError(f"journal line {lineno}: bad actor or event")
    try:
        key = KeyInfo.from_json(obj["key"])
        time = parse_time(obj["time"]) if isinstance(obj["time"], str) else None
    except JournalError:
        raise
    except Exception as e:
        raise JournalError(f"journal line {lineno}: {e}") from e
    if time is None:
        raise JournalError(f"journal line {lineno}: bad time")
    if _encode(seq, prev, time, actor, event, key) != line:
        # One canonical spelling per event, so a hash chain over bytes means what it says.
        raise JournalError(f"journal line {lineno}: not in canonical form")
    return JournalEvent(seq, prev, time, actor, event, key, hashlib.sha256(line).hexdigest())


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):
        raise JournalError(f"{path}: last line is incomplete (no final newline)")
    for i, line in enumerate(data.split(b"\n")[:-1], start=1):
        if len(line) > _MAX_LINE:
            raise JournalError(f"journal line {i}: longer than {_MAX_LINE} bytes")
        yield i, line


def verify_journal(
    path: str | os.PathLike[str], *, expected_head: str | None = None
) -> list[JournalEvent]:
    """Check the whole chain of ``path`` and return its events.

    Raises :class:`JournalError` naming the first bad line: malformed, out of
    sequence, or whose ``prev`` is not the SHA-256 of the line before; and, when
    ``expected_head`` is given, if the last line's hash differs (tail truncation).
    """
    events: list[JournalEvent] = []
    prev = GENESIS
    for lineno, line in _lines(Path(path)):
        ev = _decode(line, lineno)
        if ev.seq != lineno - 1:
            raise JournalError(f"journal line {lineno}: seq {ev.seq}, want {lineno - 1}")
        if ev.prev != prev:
            raise JournalError(f"journal line {lineno}: hash chain broken (prev does not match)")
        prev = ev.line_hash
        events.append(ev)
    if expected_head is not None and prev != expected_head:
        raise JournalError(f"journal head is {prev}, want {expected_head} (truncated or replaced?)")
    return events


class KeyJournal:
    """Appends events to one journal file (0600), fsyncing each line."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def head(self) -> tuple[int, str]:
        """``(next seq, hash of last line)``, after verifying the chain."""
        events = verify_journal(self.path)
        return (len(events), events[-1].line_hash if events else GENESIS)

    def append(self, event: str, key: KeyInfo, *, actor: str, time: datetime) -> JournalEvent:
        """Verify the chain so far, then append one event. Refuses to extend a broken chain."""
        if not _EVENT.match(event):
            raise JournalError(f"invalid event name {event!r}")
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # An exclusive lock from reading the head to the fsync: two processes appending
            # at once would otherwise both link to the same previous line (a forked chain).
            fcntl.flock(fd, fcntl.LOCK_EX)
            seq, prev = self.head()
            line = _encode(seq, prev, time, actor, event, key)
            os.write(fd, line + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        return JournalEvent(seq, prev, time, actor, event, key, hashlib.sha256(line).hexdigest())

    def events(self) -> list[JournalEvent]:
        return verify_journal(self.path)
