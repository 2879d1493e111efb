"""Witness policies: which cosignatures a client requires before trusting a checkpoint.

c2sp.org/tlog-proof §Verifying step 3: "One possible policy is to require k valid
cosignatures out of n known witnesses". A :class:`Threshold` is k-of-n over
witnesses or nested policies; :func:`all_of` and :func:`any_of` are its ends.
Policies refuse to be empty (STYLE point 8): an empty policy would accept anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rsrp.ledger._note import NoteSignature, NoteVerifier, parse_note
from rsrp.ledger._witness_errors import WitnessPolicyError

__all__ = ["Threshold", "WitnessKey", "all_of", "any_of", "verify_witnesses"]


@dataclass(frozen=True, slots=True)
class WitnessKey:
    """One witness: a display name and its cosigning verifier(s) (e.g. Ed25519 and ML-DSA-44)."""

    name: str
    verifiers: tuple[NoteVerifier, ...]

    def __post_init__(self) -> None:
        if not self.verifiers:
            raise WitnessPolicyError(f"witness {self.name!r} has no key")

    def satisfied(self, text: bytes, sigs: Sequence[NoteSignature]) -> frozenset[str]:
        """``{name}`` if a line from one of our keys verifies; any failing known line raises.

        Every matching line is checked (signed-note: a known key's signature that
        fails to verify rejects the whole note), not just the first.
        """
        keys = {(v.name, v.key_id): v for v in self.verifiers}
        found = False
        for s in sigs:
            v = keys.get((s.name, s.key_id))
            if v is not None:
                v.verify(text, s.signature)
                found = True
        return frozenset({self.name}) if found else frozenset()


@dataclass(frozen=True, slots=True)
class Threshold:
    """At least ``k`` of ``members`` (witnesses or nested policies) must be satisfied."""

    k: int
    members: tuple[WitnessKey | Threshold, ...]

    def __post_init__(self) -> None:
        if not self.members:
            raise WitnessPolicyError("a witness policy must name at least one witness")
        if not 1 <= self.k <= len(self.members):
            raise WitnessPolicyError(
                f"threshold {self.k} must be between 1 and the {len(self.members)} members"
            )

    def satisfied(self, text: bytes, sigs: Sequence[NoteSignature]) -> frozenset[str]:
        """The witnesses whose cosignatures count, if the threshold is met; else empty."""
        met = [m.satisfied(text, sigs) for m in self.members]
        hits = [m for m in met if m]
        return frozenset().union(*hits) if len(hits) >= self.k else frozenset()


def all_of(*members: WitnessKey | Threshold) -> Threshold:
    return Threshold(len(members), tuple(members))


def any_of(*members: WitnessKey | Threshold) -> Threshold:
    return Threshold(1, tuple(members))


def verify_witnesses(note: bytes, policy: Threshold) -> frozenset[str]:
    """Check a checkpoint note's cosignatures against ``policy``; return who cosigned.

    Raises :class:`WitnessPolicyError` if the policy is not met, and
    :class:`SignatureInvalidError` if a known witness's line fails to verify.
    """
    parsed = parse_note(note)
    names = policy.satisfied(parsed.text.encode("utf-8"), parsed.signatures)
    if not names:
        raise WitnessPolicyError(
            f"witness policy not satisfied (needs {policy.k} of {len(policy.members)})"
        )
    return names
