"""The frozen values the policy stage hands to the proof stage."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

__all__ = ["Decision", "MatchedRule", "Outcome", "RuleExplanation", "Severity"]


class Outcome(enum.IntEnum):
    """Decision outcomes; the values are the R-SRP ProofEnvelope V1 decision codes."""

    ALLOW = 1
    BLOCK = 2
    WARN = 3
    APPROVAL_REQUIRED = 4


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


@dataclass(frozen=True, slots=True)
class MatchedRule:
    rule_id: str
    version: str
    outcome: Outcome
    code: str
    severity: Severity


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    """Why one rule matched: the field values its condition read."""

    rule_id: str
    #: (field path, value rendered as JSON text) in path order.
    values: tuple[tuple[str, str], ...]
    message: str


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    code: str
    message: str
    #: Matched rules in decision order (docs/policy-language.md, "Combining").
    matched: tuple[MatchedRule, ...]
    explanation: tuple[RuleExplanation, ...]
    #: Id of the rule that decided the outcome; None when the bundle default
    #: applied or evaluation failed.
    decided_by: str | None
    bundle_id: str
    bundle_version: str
    jurisdiction: str
    policy_hash: bytes
    bytecode_hash: bytes
    input_hash: bytes
    evaluated_at: dt.datetime
    #: Set when evaluation failed closed (outcome BLOCK, code EVALUATION_ERROR).
    error: str | None = None
