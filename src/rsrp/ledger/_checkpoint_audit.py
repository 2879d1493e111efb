"""The notes half of ``ledger verify``: check a stored checkpoint's signatures and stamp.

:func:`checkpoint_note_verifier` builds the ``verify_note`` callback that
ledger-core's :func:`rsrp.ledger.audit` calls for every stored checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cryptography import x509

from rsrp.errors import LedgerError
from rsrp.ledger._checkpoint_keys import open_log_checkpoint
from rsrp.ledger._errors import TamperError
from rsrp.ledger._note import NoteVerifier
from rsrp.ledger._storage import StoredCheckpoint
from rsrp.ledger._timestamp import TimestampToken, verify_timestamp
from rsrp.ledger._witness_policy import Threshold, verify_witnesses

__all__ = ["checkpoint_note_verifier"]


def checkpoint_note_verifier(
    origin: str,
    verifiers: Sequence[NoteVerifier],
    *,
    witness_policy: Threshold | None = None,
    tsa_roots: Sequence[x509.Certificate] = (),
) -> Callable[[StoredCheckpoint], None]:
    """A callback raising :class:`TamperError` unless the row's note is the log's, for its row.

    It checks the log signatures (one verified line per (name, signature type) of
    ``verifiers``, :mod:`rsrp.ledger._checkpoint_keys`), that the note's origin,
    size and root are the row's, the witness policy over the stored cosignatures
    (if a policy is given) and the RFC 3161 token (if roots are given; then required).
    """
    if not verifiers:
        raise LedgerError("checkpoint verification needs at least one log vkey")

    def verify(cp: StoredCheckpoint) -> None:
        try:
            signed = open_log_checkpoint(cp.note, origin, verifiers)
            body = signed.checkpoint
            if (body.size, body.root_hash) != (cp.size, cp.root):
                raise LedgerError(
                    f"note says size {body.size} root {body.root_hash.hex()}, "
                    f"the row says size {cp.size} root {cp.root.hex()}"
                )
            if witness_policy is not None:
                verify_witnesses(cp.note + (cp.cosignatures or b""), witness_policy)
            if tsa_roots:
                if cp.timestamp_token is None:
                    raise LedgerError("no RFC 3161 time-stamp stored")
                token = TimestampToken.decode(cp.timestamp_token.decode("ascii", "replace"))
                verify_timestamp(token, body.body_bytes(), tsa_roots)
        except LedgerError as e:
            raise TamperError(f"checkpoint at size {cp.size}: {e}", cp.size) from e

    return verify
