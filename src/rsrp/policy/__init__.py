"""rsrp.policy: the rule language, its static checks and the compiled engine.

A bundle (docs/policy-language.md) is parsed with an LALR grammar into a frozen
AST, checked, then compiled once to generated Python; ``decide`` runs that code
and returns a frozen :class:`Decision` with its explanation and hashes. Any
error while deciding fails closed (BLOCK, code ``EVALUATION_ERROR``). The
message and explanation are rendered on first read (the values they show were
captured when deciding), so callers that need only the outcome, matched rules and
hashes do not pay for them; the object then behaves exactly like a Decision.

    >>> import datetime as dt
    >>> engine = Engine.from_text('''
    ... BUNDLE demo VERSION 1.0.0 JURISDICTION FR DEFAULT BLOCK
    ... SCHEMA { counters { requests_1h: int } }
    ... RULE VOLUME VERSION 1.0.0 SEVERITY HIGH WHEN counters.requests_1h >= 50
    ...   THEN BLOCK CODE VOLUME_EXCEEDED MESSAGE "{counters.requests_1h} requests"
    ... RULE OK VERSION 1.0.0 SEVERITY LOW WHEN TRUE THEN ALLOW CODE GRANTED
    ... ''')
    >>> now = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    >>> d = engine.decide({"counters": {"requests_1h": 60}}, now=now)
    >>> d.outcome.name, d.code, d.message, [m.rule_id for m in d.matched]
    ('BLOCK', 'VOLUME_EXCEEDED', '60 requests', ['VOLUME', 'OK'])
"""

from rsrp.policy._ast import Bundle
from rsrp.policy._check import check
from rsrp.policy._engine import EVALUATION_ERROR, Engine
from rsrp.policy._errors import (
    Diagnostic,
    InputValidationError,
    PolicyCheckError,
    PolicyEvaluationError,
    PolicySyntaxError,
)
from rsrp.policy._parser import parse
from rsrp.policy._signature import BundleSignature, BundleSignatureError, sign_bundle, verify_bundle
from rsrp.policy.decision import Decision, MatchedRule, Outcome, RuleExplanation, Severity

__all__ = [
    "EVALUATION_ERROR",
    "Bundle",
    "BundleSignature",
    "BundleSignatureError",
    "Decision",
    "Diagnostic",
    "Engine",
    "InputValidationError",
    "MatchedRule",
    "Outcome",
    "PolicyCheckError",
    "PolicyEvaluationError",
    "PolicySyntaxError",
    "RuleExplanation",
    "Severity",
    "check",
    "parse",
    "sign_bundle",
    "verify_bundle",
]
