"""Witness errors, each carrying the HTTP status c2sp.org/tlog-witness §add-checkpoint assigns."""

from __future__ import annotations

from rsrp.errors import LedgerError

__all__ = [
    "CheckpointSignatureError",
    "ForkError",
    "InconsistentCheckpointError",
    "MalformedRequestError",
    "OldSizeConflictError",
    "RollbackError",
    "UnknownLogError",
    "UnsupportedCheckpointError",
    "WitnessError",
    "WitnessPolicyError",
    "WitnessUnavailableError",
]


class WitnessError(LedgerError):
    """A witness refused a checkpoint; ``status`` is the tlog-witness HTTP status."""

    status: int = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class MalformedRequestError(WitnessError):
    """The add-checkpoint body is malformed, or old size > checkpoint size (400)."""

    status = 400


class UnknownLogError(WitnessError):
    """The checkpoint's origin is not a log this witness follows (404)."""

    status = 404


class CheckpointSignatureError(WitnessError):
    """No valid signature from the log's trusted key(s), or one fails (403)."""

    status = 403


class OldSizeConflictError(WitnessError):
    """The client's old size is not the witness's latest cosigned size (409)."""

    status = 409

    def __init__(self, message: str, latest_size: int, *, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.latest_size = latest_size


class RollbackError(OldSizeConflictError):
    """A validly signed checkpoint smaller than the one already cosigned: log misbehaviour."""


class InconsistentCheckpointError(WitnessError):
    """The consistency proof does not verify, or size-0 has a wrong root (422)."""

    status = 422


class ForkError(InconsistentCheckpointError):
    """Same size as the cosigned checkpoint but a different root: a split view (422)."""


class UnsupportedCheckpointError(WitnessError):
    """A valid checkpoint this witness's keys cannot cosign (422).

    An ML-DSA cosignature does not cover extension lines (c2sp.org/tlog-cosignature
    §ML-DSA-44 signed message), so such a witness refuses checkpoints that have any,
    before touching its state; tlog-witness leaves the status open, 422 says "understood,
    not processable".
    """

    status = 422


class WitnessUnavailableError(WitnessError):
    """A witness could not be reached or answered outside the protocol."""

    status = 502


class WitnessPolicyError(LedgerError):
    """A checkpoint's cosignatures do not satisfy the witness policy, or the policy is invalid."""
