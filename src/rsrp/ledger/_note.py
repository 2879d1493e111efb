"""Signed notes, c2sp.org/signed-note v1, byte-compatible with golang.org/x/mod/sumdb/note.

A note is ``text`` (ending in a newline) + an empty line + one or more signature
lines ``— <name> base64(key ID || signature)``. Parsing is strict (STYLE point 11):
UTF-8 without control characters other than newline, a capped size and number of
signatures, strict base64. Verification raises, never returns ``False``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from rsrp.ledger._note_errors import (
    AmbiguousKeyError,
    MalformedNoteError,
    UnknownKeyError,
)

__all__ = [
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "VerifiedNote",
    "b64decode_strict",
    "is_valid_key_name",
    "open_note",
    "parse_note",
    "sign_note",
    "split_header_block",
]

#: Go's note.Open rejects more than 100 signature lines; the spec requires >= 16.
MAX_SIGNATURES = 100
#: 100 ML-DSA-44 cosignature lines are ~330 kB; anything past 1 MB is hostile.
MAX_NOTE_SIZE = 1_000_000

_SIG_PREFIX = "\u2014 "  # em dash U+2014, space
_SIG_SPLIT = b"\n\n"
_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f]")

# Go's unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property.
_UNICODE_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def is_valid_key_name(name: str) -> bool:
    """signed-note §Format: non-empty, no Unicode spaces, no ``+``.

    Control characters below U+0020 are refused too: a note may not contain them,
    so a key named with one could never sign anything. U+007F (DEL) is allowed, as
    in Go's ``isValidName``: notes may contain it, and refusing it here would make a
    note with an unknown key's DEL-named line fail to parse instead of ignoring it.
    """
    return (
        name != ""
        and "+" not in name
        and not any(c in _UNICODE_SPACES or ord(c) < 0x20 for c in name)
    )


def b64decode_strict(text: str, what: str = "base64") -> bytes:
    """RFC 4648 §4 standard base64, padded, canonical (re-encodes to the same text)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise MalformedNoteError(f"{what} is not valid base64") from e
    # Non-zero padding bits decode too; refusing them keeps one encoding per value.
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedNoteError(f"{what} is not canonical base64")
    return raw


def split_header_block(
    data: bytes, what: str, limit: int, error: type[Exception] = MalformedNoteError
) -> tuple[list[str], bytes]:
    """Split ``ASCII lines, empty line, rest`` (tlog-witness requests, tlog-proofs, receipts).

    Raises ``error`` on an oversized input, a missing empty line or non-ASCII header.
    """
    if len(data) > limit:
        raise error(f"{what} is larger than {limit} bytes")
    head, sep, rest = data.partition(_SIG_SPLIT)
    if not sep:
        raise error(f"{what} has no empty line after its header lines")
    try:
        return head.decode("ascii").split("\n"), rest
    except UnicodeDecodeError as e:
        raise error(f"{what} header lines must be ASCII") from e


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, uint32 key ID, and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The line ``— <name> base64(key ID || signature)\\n`` (signed-note §Signatures)."""
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed note: the signed text and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def to_bytes(self) -> bytes:
        """Serialise exactly as Go's ``note.Sign`` does: text, blank line, lines."""
        if not self.text.endswith("\n"):
            raise MalformedNoteError("note text must end with a newline")
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode("utf-8")


@runtime_checkable
class NoteVerifier(Protocol):
    """Verifies the signatures of one key (name, key ID) over a note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> None:
        """Raise ``SignatureInvalidError`` unless ``signature`` signs ``text``."""
        ...


@runtime_checkable
class NoteSigner(Protocol):
    """Signs note texts with one key (name, key ID)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes:
        """Return the signature bytes (without the key ID) over ``text``."""
        ...


@dataclass(frozen=True, slots=True)
class VerifiedNote:
    """The result of :func:`open_note`: the note plus which lines verified."""

    note: Note
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]

    @property
    def text(self) -> str:
        return self.note.text


def _check_chars(data: bytes, max_size: int) -> str:
    if len(data) > max_size:
        raise MalformedNoteError(f"note is {len(data)} bytes, more than the {max_size} allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedNoteError("note is not valid UTF-8") from e
    # UTF-8 never encodes a code point below U+0020 inside a multi-byte sequence, so a
    # byte scan finds exactly the forbidden characters.
    bad = _CONTROL.search(data)
    if bad is not None:
        raise MalformedNoteError(f"note contains control character U+{bad.group()[0]:04X}")
    return text


def _parse_sig_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise MalformedNoteError("signature line does not start with an em dash and a space")
    name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not is_valid_key_name(name) or b64 == "":
        raise MalformedNoteError("signature line has no valid key name and signature")
    raw = b64decode_strict(b64, "signature")
    if len(raw) < 5:
        raise MalformedNoteError("signature is shorter than a key ID and one byte")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(
    data: bytes, *, max_size: int = MAX_NOTE_SIZE, max_signatures: int = MAX_SIGNATURES
) -> Note:
    """Parse a signed note's syntax (signed-note §Format), verifying nothing.

    The text is everything up to and including the newline before the *last*
    empty line; every following line must be a signature line ending in newline.
    """
    _check_chars(data, max_size)
    split = data.rfind(_SIG_SPLIT)
    if split < 0:
        raise MalformedNoteError("note has no empty line before its signatures")
    # The split point is ASCII, so slicing the bytes keeps both halves valid UTF-8.
    body, sigs = data[: split + 1].decode("utf-8"), data[split + 2 :].decode("utf-8")
    if sigs == "" or not sigs.endswith("\n"):
        raise MalformedNoteError("note has no signature lines, or they do not end in newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > max_signatures:
        raise MalformedNoteError(f"note has {len(lines)} signatures, more than {max_signatures}")
    return Note(body, tuple(_parse_sig_line(line) for line in lines))


def _index_verifiers(
    verifiers: Iterable[NoteVerifier],
) -> tuple[dict[tuple[str, int], NoteVerifier], frozenset[tuple[str, int]]]:
    """Map (name, key ID) to its verifier; also return the pairs configured twice."""
    index: dict[tuple[str, int], NoteVerifier] = {}
    dup: set[tuple[str, int]] = set()
    for v in verifiers:
        k = (v.name, v.key_id)
        if k in index:
            dup.add(k)
        index[k] = v
    return index, frozenset(dup)


def open_note(
    data: bytes,
    verifiers: Sequence[NoteVerifier],
    *,
    max_size: int = MAX_NOTE_SIZE,
    max_signatures: int = MAX_SIGNATURES,
) -> VerifiedNote:
    """Parse ``data`` and verify its signatures from known keys (signed-note §Signatures).

    Like Go's ``note.Open``: lines from unknown keys are kept as unverified (an
    identical unknown line only once); a known key's line must verify, else
    :class:`SignatureInvalidError`; a repeated line from a known key is dropped
    unchecked; no verified line at all raises :class:`UnknownKeyError`.
    """
    note = parse_note(data, max_size=max_size, max_signatures=max_signatures)
    # Ambiguity only matters when the note actually uses the doubled key (as in Go).
    index, dup = _index_verifiers(verifiers)
    text = note.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    for sig in note.signatures:
        k = (sig.name, sig.key_id)
        if k in dup:
            raise AmbiguousKeyError(f"ambiguous key {sig.name}+{sig.key_id:08x}")
        v = index.get(k)
        if v is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if k in seen:
            continue
        seen.add(k)
        v.verify(text, sig.signature)
        verified.append(sig)
    if not verified:
        names = tuple(f"{s.name}+{s.key_id:08x}" for s in unverified)
        raise UnknownKeyError(
            "note has no verifiable signatures (signed by: " + ", ".join(names) + ")",
            names=names,
        )
    return VerifiedNote(note, tuple(verified), tuple(unverified))


def sign_note(note: Note | str, signers: Sequence[NoteSigner]) -> bytes:
    """Sign ``note`` with every signer, as Go's ``note.Sign``.

    Existing signature lines are kept first, except those from a key one of
    ``signers`` uses (replaced); the new lines follow in ``signers`` order.
    """
    if isinstance(note, str):
        note = Note(note, ())
    if not note.text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    _check_chars(note.text.encode("utf-8"), MAX_NOTE_SIZE)
    text = note.text.encode("utf-8")
    new: list[NoteSignature] = []
    for s in signers:
        if not is_valid_key_name(s.name) or not 0 <= s.key_id < 2**32:
            raise MalformedNoteError(f"invalid signer key name or ID: {s.name!r}")
        new.append(NoteSignature(s.name, s.key_id, s.sign(text)))
    replaced = {(s.name, s.key_id) for s in new}
    for old in note.signatures:
        if not is_valid_key_name(old.name):
            raise MalformedNoteError(f"invalid key name in existing signature: {old.name!r}")
    kept = [old for old in note.signatures if (old.name, old.key_id) not in replaced]
    out = Note(note.text, (*kept, *new))
    if len(out.signatures) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note would have more than {MAX_SIGNATURES} signatures")
    return out.to_bytes()
