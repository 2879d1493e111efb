"""A transparency-log witness, c2sp.org/tlog-witness §add-checkpoint.

For each log origin it follows, the witness keeps the latest checkpoint it
cosigned. A new checkpoint is cosigned only if it is signed by the log's key and
a consistency proof from the last cosigned size verifies; rollbacks and forks are
refused with a specific :class:`WitnessError` (carrying the spec's HTTP status)
and, when the log's signature is valid, kept as an incident (evidence).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rsrp.errors import ConfigError, LedgerError
from rsrp.ledger._checkpoint import Checkpoint, parse_checkpoint, parse_decimal
from rsrp.ledger._cosignature import CosignatureKind
from rsrp.ledger._note import (
    MAX_NOTE_SIZE,
    Note,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    b64decode_strict,
    open_note,
    parse_note,
    sign_note,
    split_header_block,
)
from rsrp.ledger._note_errors import CheckpointError, EmptyTreeRootError, NoteError
from rsrp.ledger._verify import verify_consistency
from rsrp.ledger._witness_errors import (
    CheckpointSignatureError,
    ForkError,
    InconsistentCheckpointError,
    MalformedRequestError,
    OldSizeConflictError,
    RollbackError,
    UnknownLogError,
    UnsupportedCheckpointError,
)
from rsrp.ledger._witness_state import WitnessRecord, WitnessState

__all__ = [
    "MAX_PROOF_LINES",
    "AddCheckpointRequest",
    "Witness",
    "format_add_checkpoint",
    "parse_add_checkpoint",
]

#: tlog-witness: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_LINES = 63
_MAX_REQUEST = MAX_NOTE_SIZE + 64 * (MAX_PROOF_LINES + 1)


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    """An add-checkpoint body: old size, consistency proof, signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint_note: bytes


def format_add_checkpoint(req: AddCheckpointRequest) -> bytes:
    """Serialise an add-checkpoint request body (tlog-witness §add-checkpoint)."""
    lines = [f"old {req.old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in req.proof)]
    return "".join(lines).encode("ascii") + b"\n" + req.checkpoint_note


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Parse an add-checkpoint body strictly; any deviation is a 400."""
    lines, note = split_header_block(body, "request", _MAX_REQUEST, MalformedRequestError)
    first, proof_lines = lines[0], lines[1:]
    if not first.startswith("old "):
        raise MalformedRequestError("first line must be 'old <size>'")
    try:
        old = parse_decimal(first[4:], "old size")
        proof = tuple(b64decode_strict(line, "proof hash") for line in proof_lines)
    except LedgerError as e:
        raise MalformedRequestError(str(e)) from e
    if len(proof) > MAX_PROOF_LINES:
        raise MalformedRequestError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    if any(len(h) != 32 for h in proof):
        raise MalformedRequestError("consistency proof hashes must be 32 bytes")
    return AddCheckpointRequest(old, proof, note)


def _origin_line(note: bytes) -> str | None:
    """The first line of a note that did not parse, if it is one UTF-8 line at all."""
    first, sep, _ = note.partition(b"\n")
    if not sep or not first:
        return None
    try:
        return first.decode("utf-8")
    except UnicodeDecodeError:
        return None


class Witness:
    """Cosigns checkpoints of the logs it follows (``logs``: origin -> the log's verifiers)."""

    def __init__(
        self,
        state: WitnessState,
        signers: Sequence[NoteSigner],
        logs: Mapping[str, Sequence[NoteVerifier]],
    ) -> None:
        if not signers:
            raise ConfigError("a witness needs at least one cosigning key")
        for s in signers:
            # tlog-witness §add-checkpoint: "The signatures MUST be cosignatures" (timestamped,
            # c2sp.org/tlog-cosignature), never plain note signatures (type 0x01).
            if not isinstance(getattr(s, "kind", None), CosignatureKind):
                raise ConfigError(
                    f"witness key {s.name}+{s.key_id:08x} is not a cosignature key "
                    "(tlog-cosignature Ed25519 0x04 or ML-DSA-44 0x06)"
                )
        if not logs or any(not v for v in logs.values()):
            raise ConfigError("a witness must follow at least one log, each with a key")
        self.state = state
        self.signers = tuple(signers)
        self.logs = {origin: tuple(v) for origin, v in logs.items()}

    def add_checkpoint(self, body: bytes) -> bytes:
        """Handle an add-checkpoint request body; return the cosignature lines (200 body)."""
        req = parse_add_checkpoint(body)
        return "".join(s.line() for s in self.cosign(req, body)).encode("utf-8")

    def _open(self, note: bytes) -> tuple[Checkpoint, Note]:
        try:
            parsed = parse_note(note)
        except LedgerError as e:
            # tlog-witness: an unknown origin is a 404 whatever else is wrong; for a known
            # origin, a note that does not parse carries no verifiable signature from the
            # log's key (e.g. a signature line whose base64 does not decode canonically),
            # which is the 403 case ("such a note is malformed per signed-note").
            origin_line = _origin_line(note)
            if origin_line is None:
                raise MalformedRequestError(f"checkpoint note is malformed: {e}") from e
            if origin_line not in self.logs:
                raise UnknownLogError(f"unknown log origin {origin_line!r}") from e
            raise CheckpointSignatureError(f"checkpoint note is malformed: {e}") from e
        # Spec order: unknown origin (404), then the log signature (403), then content.
        origin = parsed.text.split("\n", 1)[0]
        verifiers = self.logs.get(origin)
        if verifiers is None:
            raise UnknownLogError(f"unknown log origin {origin!r}")
        try:
            open_note(note, verifiers)
        except NoteError as e:
            raise CheckpointSignatureError(f"checkpoint signature: {e}") from e
        try:
            cp = parse_checkpoint(parsed.text)
        except EmptyTreeRootError as e:
            raise InconsistentCheckpointError(str(e)) from e  # tlog-witness: 422
        except LedgerError as e:
            raise MalformedRequestError(f"checkpoint is malformed: {e}") from e
        return cp, parsed

    def cosign(self, req: AddCheckpointRequest, raw: bytes = b"") -> tuple[NoteSignature, ...]:
        """Verify ``req`` against the stored state; cosign, persist and return our lines."""
        cp, parsed = self._open(req.checkpoint_note)
        # Every key must be able to cosign this checkpoint (ML-DSA: no extension lines, an
        # origin of at most 255 bytes) before the state moves; the message is built unsigned.
        text = cp.body_bytes()
        for signer in self.signers:
            kind: CosignatureKind = signer.kind  # type: ignore[attr-defined]  # __init__ checked
            try:
                kind.message(signer.name, text, 0)
            except CheckpointError as e:
                raise UnsupportedCheckpointError(f"{e}; nothing was cosigned") from e
        try:
            with self.state.advance(cp.origin) as (current, out):
                self._check(req, cp, current)
                cosigned = sign_note(parsed, self.signers)
                ours = parse_note(cosigned).signatures[-len(self.signers) :]
                out.append(WitnessRecord(cp.origin, cp.size, cp.root_hash, cosigned))
        except (RollbackError, InconsistentCheckpointError) as e:
            # The log's signature is valid: this is evidence of misbehaviour.
            self.state.record_incident(
                cp.origin, type(e).__name__, str(e), raw or format_add_checkpoint(req)
            )
            raise
        return tuple(ours)

    def _check(self, req: AddCheckpointRequest, cp: Checkpoint, cur: WitnessRecord | None) -> None:
        latest = cur.size if cur else 0
        rollback = cur is not None and cp.size < cur.size
        if req.old_size > cp.size:  # tlog-witness: 400 comes before the 409 check
            if rollback:
                raise RollbackError(
                    f"rollback: checkpoint size {cp.size} < cosigned size {latest}",
                    latest,
                    status=400,
                )
            raise MalformedRequestError(f"old size {req.old_size} > checkpoint size {cp.size}")
        if rollback:  # old <= size < latest, so old != latest: the 409 case
            raise RollbackError(
                f"rollback: checkpoint size {cp.size} < cosigned size {latest}", latest
            )
        if req.old_size != latest:
            raise OldSizeConflictError(
                f"old size {req.old_size} is not the latest cosigned size {latest}", latest
            )
        if req.old_size == 0:
            if req.proof:
                raise InconsistentCheckpointError("old size 0 requires an empty consistency proof")
            return
        if cur is None:  # unreachable: latest == old_size > 0 implies a record
            raise OldSizeConflictError("no cosigned checkpoint for this origin", 0)
        if req.old_size == cp.size:
            if cp.root_hash != cur.root:
                raise ForkError(
                    f"fork: size {cp.size} cosigned with root {cur.root.hex()}, "
                    f"now presented with root {cp.root_hash.hex()}"
                )
            if req.proof:
                raise InconsistentCheckpointError("equal sizes require an empty proof")
            return
        try:
            verify_consistency(req.old_size, cp.size, req.proof, cur.root, cp.root_hash)
        except LedgerError as e:
            raise ForkError(
                f"checkpoint {cp.size} is not consistent with cosigned {cur.size}: {e}"
            ) from e

    def latest(self, origin_hash_hex: str) -> bytes | None:
        """The monitoring endpoint: the cosigned checkpoint whose origin hashes to the hex."""
        for origin in self.logs:
            if hashlib.sha256(origin.encode("utf-8")).hexdigest() == origin_hash_hex:
                rec = self.state.get(origin)
                return rec.note if rec else None
        return None
