"""Key metadata: :class:`KeyInfo`, purposes, jurisdictions and the NIST SP 800-57 lifecycle.

The lifecycle follows NIST SP 800-57 Part 1 Rev. 5 §7 (figure 5): a key is
pre-activation, active, suspended, deactivated, compromised or destroyed, and
only the transitions drawn there are allowed (:data:`TRANSITIONS`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from rsrp.keys._errors import InvalidTransitionError, KeyNotUsableError, KeyStoreError

__all__ = [
    "ISO_3166_ALPHA2",
    "KEM_ALGORITHMS",
    "SIGNATURE_ALGORITHMS",
    "TRANSITIONS",
    "KeyInfo",
    "KeyState",
    "Purpose",
    "check_jurisdiction",
    "check_key_id",
    "format_time",
    "parse_time",
]

# ISO 3166-1 alpha-2 officially assigned codes (ISO 3166 Maintenance Agency, 249 codes).
ISO_3166_ALPHA2 = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()  # noqa: SIM905 - a compact table
)

# A configured region id (e.g. "eu-west", "ecowas") is lower case and at least three
# characters, so it can never be confused with an ISO code.
_REGION_ID = re.compile(r"^[a-z][a-z0-9-]{2,31}\Z")
# Key ids become file names and token labels: no separators, no leading dot.
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


def check_jurisdiction(code: str) -> str:
    """Return ``code`` if it is an assigned ISO 3166-1 alpha-2 code or a region id, else raise."""
    if code in ISO_3166_ALPHA2 or _REGION_ID.match(code):
        return code
    raise KeyStoreError(
        f"invalid jurisdiction {code!r}: want an ISO 3166-1 alpha-2 code (e.g. 'FR') "
        "or a region id (lower case, 3-32 of a-z 0-9 -)"
    )


def check_key_id(key_id: str) -> str:
    """Return ``key_id`` if it matches ``[A-Za-z0-9][A-Za-z0-9._-]{0,127}``, else raise."""
    if not _KEY_ID.match(key_id):
        raise KeyStoreError(f"invalid key id {key_id!r}: want [A-Za-z0-9][A-Za-z0-9._-]{{0,127}}")
    return key_id


class Purpose(StrEnum):
    DECISION_SIGNING = "decision-signing"
    CHECKPOINT_SIGNING = "checkpoint-signing"
    POLICY_SIGNING = "policy-signing"
    WITNESS = "witness"
    DATA_ENCRYPTION = "data-encryption"
    TLS = "tls"


class KeyState(StrEnum):
    """NIST SP 800-57 Part 1 Rev. 5 §7.1 key states."""

    PRE_ACTIVATION = "pre-activation"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"
    COMPROMISED = "compromised"
    DESTROYED = "destroyed"


_S = KeyState
#: Allowed transitions, NIST SP 800-57 Part 1 Rev. 5 §7.2 (figure 5).
TRANSITIONS: dict[KeyState, frozenset[KeyState]] = {
    _S.PRE_ACTIVATION: frozenset({_S.ACTIVE, _S.COMPROMISED, _S.DESTROYED}),
    _S.ACTIVE: frozenset({_S.SUSPENDED, _S.DEACTIVATED, _S.COMPROMISED}),
    _S.SUSPENDED: frozenset({_S.ACTIVE, _S.DEACTIVATED, _S.COMPROMISED}),
    _S.DEACTIVATED: frozenset({_S.COMPROMISED, _S.DESTROYED}),
    _S.COMPROMISED: frozenset({_S.DESTROYED}),
    _S.DESTROYED: frozenset(),
}

SIGNATURE_ALGORITHMS = frozenset(
    {
        "ed25519",
        "ecdsa-p384-sha384",
        "ml-dsa-44",
        "ml-dsa-65",
        "ml-dsa-87",
        "mldsa65-ecdsa-p384-sha512",
    }
)
# X25519 and ML-KEM-768 alone are names the issue lists; rsrp.crypto offers them only
# combined as X-Wing, so generating them alone gives NotAvailableError.
KEM_ALGORITHMS = frozenset({"x25519", "ml-kem-768", "x-wing"})


def format_time(t: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and microseconds only when non-zero."""
    if t.tzinfo is None:
        raise KeyStoreError("naive datetime: key times must be timezone-aware")
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")


def parse_time(s: str) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset (strictly: no naive times)."""
    if not _RFC3339.match(s):
        raise KeyStoreError(f"invalid RFC 3339 time {s!r}")
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """Everything known about a key except its private material.

    ``state_changed_at`` is when the key entered ``state``; for a deactivated key it
    bounds the signatures a verifier accepts. ``rotated_from`` names the key this one
    replaced. ``test`` keys are refused in production mode.
    """

    key_id: str
    algorithm: str
    purpose: Purpose
    jurisdiction: str
    not_before: datetime
    not_after: datetime | None
    state: KeyState
    state_changed_at: datetime
    created_at: datetime
    test: bool = False
    rotated_from: str | None = None

    def __post_init__(self) -> None:
        check_key_id(self.key_id)
        check_jurisdiction(self.jurisdiction)
        if self.algorithm not in SIGNATURE_ALGORITHMS | KEM_ALGORITHMS:
            raise KeyStoreError(f"unknown algorithm {self.algorithm!r}")
        if self.is_kem != (self.purpose is Purpose.DATA_ENCRYPTION):
            raise KeyStoreError(
                f"purpose {self.purpose.value!r} does not fit algorithm {self.algorithm!r}"
            )
        if self.not_after is not None and self.not_after <= self.not_before:
            raise KeyStoreError("validity window is empty: not_after <= not_before")
        for t in (self.not_before, self.not_after, self.state_changed_at, self.created_at):
            if t is not None and t.tzinfo is None:
                raise KeyStoreError("naive datetime: key times must be timezone-aware")

    @property
    def is_kem(self) -> bool:
        return self.algorithm in KEM_ALGORITHMS

    def transition(self, new: KeyState, at: datetime) -> KeyInfo:
        """Return a copy in state ``new``.

        Raises :class:`InvalidTransitionError` if SP 800-57 §7.2 forbids the change."""
        if new not in TRANSITIONS[self.state]:
            raise InvalidTransitionError(
                f"key {self.key_id}: {self.state.value} -> {new.value} is not allowed"
            )
        return dataclasses.replace(self, state=new, state_changed_at=at)

    def check_usable(self, at: datetime) -> None:
        """Raise :class:`KeyNotUsableError` unless the key may sign or decrypt at ``at``."""
        if self.state is not KeyState.ACTIVE:
            raise KeyNotUsableError(f"key {self.key_id} is {self.state.value}, not active")
        if at < self.not_before or (self.not_after is not None and at >= self.not_after):
            raise KeyNotUsableError(f"key {self.key_id} is outside its validity window at {at}")

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "algorithm": self.algorithm,
            "purpose": self.purpose.value,
            "jurisdiction": self.jurisdiction,
            "not_before": format_time(self.not_before),
            "not_after": None if self.not_after is None else format_time(self.not_after),
            "state": self.state.value,
            "state_changed_at": format_time(self.state_changed_at),
            "created_at": format_time(self.created_at),
            "test": self.test,
            "rotated_from": self.rotated_from,
        }

    @classmethod
    def from_json(cls, d: object) -> KeyInfo:
        """Decode :meth:`to_json` output strictly (exact key set, exact types)."""
        want = {
            "key_id",
            "algorithm",
            "purpose",
            "jurisdiction",
            "not_before",
            "not_after",
            "state",
            "state_changed_at",
            "created_at",
            "test",
            "rotated_from",
        }
        if not isinstance(d, dict) or set(d) != want:
            raise KeyStoreError("key info: wrong field set")
        try:
            return cls(
                key_id=_str(d["key_id"]),
                algorithm=_str(d["algorithm"]),
                purpose=Purpose(_str(d["purpose"])),
                jurisdiction=_str(d["jurisdiction"]),
                not_before=parse_time(_str(d["not_before"])),
                not_after=None if d["not_after"] is None else parse_time(_str(d["not_after"])),
                state=KeyState(_str(d["state"])),
                state_changed_at=parse_time(_str(d["state_changed_at"])),
                created_at=parse_time(_str(d["created_at"])),
                test=_bool(d["test"]),
                rotated_from=None if d["rotated_from"] is None else _str(d["rotated_from"]),
            )
        except ValueError as e:  # an unknown enum value
            raise KeyStoreError(f"key info: {e}") from e


def _str(v: object) -> str:
    if not isinstance(v, str):
        raise KeyStoreError(f"key info: expected a string, got {type(v).__name__}")
    return v


def _bool(v: object) -> bool:
    if not isinstance(v, bool):
        raise KeyStoreError(f"key info: expected a boolean, got {type(v).__name__}")
    return v
