"""Reading decision inputs and policy test cases (format: BRIEF "Policy cases file format")."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rsrp.errors import PolicyError
from rsrp.policy._engine import Engine
from rsrp.policy._values import parse_rfc3339
from rsrp.policy.decision import Decision, Outcome

__all__ = [
    "Case",
    "CaseResult",
    "decision_json",
    "load_cases",
    "parse_inputs",
    "request_time",
    "run_case",
]

#: Largest inputs or cases document accepted, in characters.
MAX_DOCUMENT = 64 << 20


def _loads(text: str) -> Any:
    # Decimals stay exact: a JSON number with a fraction is never a binary float.
    return json.loads(text, parse_float=Decimal)


def parse_inputs(text: str) -> list[object]:
    """A JSON object, a JSON array of objects, or JSON lines (one object per line)."""
    if len(text) > MAX_DOCUMENT:
        raise PolicyError(f"input larger than {MAX_DOCUMENT} characters")
    try:
        doc = _loads(text)
    except (json.JSONDecodeError, RecursionError):
        doc = None
        items: list[object] = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(_loads(line))
                except (json.JSONDecodeError, RecursionError) as e:
                    raise PolicyError(f"input line {number} is not JSON: {e}") from e
        if not items:
            raise PolicyError("input is empty: give a JSON object, array or JSON lines") from None
        return items
    if isinstance(doc, list):
        return list(doc)
    return [doc]


def request_time(data: object) -> dt.datetime | None:
    """``request.time`` of an input when it is a valid RFC 3339 string, else None."""
    if isinstance(data, dict):
        request = data.get("request")
        if isinstance(request, dict) and isinstance(request.get("time"), str):
            try:
                return parse_rfc3339(request["time"])
            except (ValueError, OverflowError):
                return None
    return None


def decision_json(d: Decision) -> dict[str, object]:
    """The JSON view of a decision printed by ``rsrp policy decide --json``."""
    return {
        "decision": d.outcome.name,
        "code": d.code,
        "message": d.message,
        "matched": [m.rule_id for m in d.matched],
        "matched_rules": [
            {
                "id": m.rule_id,
                "version": m.version,
                "outcome": m.outcome.name,
                "code": m.code,
                "severity": m.severity.name,
            }
            for m in d.matched
        ],
        "explanation": [
            {
                "rule_id": x.rule_id,
                "values": {path: json.loads(text) for path, text in x.values},
                "message": x.message,
            }
            for x in d.explanation
        ],
        "decided_by": d.decided_by,
        "bundle": {"id": d.bundle_id, "version": d.bundle_version, "jurisdiction": d.jurisdiction},
        "policy_hash": d.policy_hash.hex(),
        "bytecode_hash": d.bytecode_hash.hex(),
        "input_hash": d.input_hash.hex(),
        "evaluated_at": d.evaluated_at.isoformat().replace("+00:00", "Z"),
        "error": d.error,
    }


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    input: object
    now: dt.datetime
    decision: Outcome
    code: str | None
    matched: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    decision: Decision
    #: What differs from the expectation; empty when the case passed.
    failures: tuple[str, ...]


def _case(i: int, raw: object) -> Case:
    where = f"case {i}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected an object")
    name = raw.get("name")
    where = f"case {i} ({name!r})" if isinstance(name, str) else where
    expect = raw.get("expect")
    if not isinstance(name, str) or not isinstance(expect, dict) or "input" not in raw:
        raise PolicyError(f"{where}: needs 'name' (string), 'input' and 'expect' (object)")
    try:
        now = parse_rfc3339(raw["now"])
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise PolicyError(f"{where}: 'now' must be an RFC 3339 timestamp ({e})") from e
    try:
        decision = Outcome[expect["decision"]]
    except (KeyError, TypeError) as e:
        raise PolicyError(
            f"{where}: expect.decision must be one of {[o.name for o in Outcome]}"
        ) from e
    code = expect.get("code")
    matched = expect.get("matched")
    if code is not None and not isinstance(code, str):
        raise PolicyError(f"{where}: expect.code must be a string")
    if matched is not None and not (
        isinstance(matched, list) and all(isinstance(m, str) for m in matched)
    ):
        raise PolicyError(f"{where}: expect.matched must be a list of rule ids")
    return Case(
        name, raw["input"], now, decision, code, tuple(matched) if matched is not None else None
    )


def load_cases(text: str) -> list[Case]:
    """Parse a cases document ``{"cases": [...]}``; raises PolicyError naming the bad case."""
    if len(text) > MAX_DOCUMENT:
        raise PolicyError(f"cases file larger than {MAX_DOCUMENT} characters")
    try:
        doc = _loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise PolicyError(f"cases file is not JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        raise PolicyError('cases file must be an object {"cases": [...]}')
    return [_case(i, raw) for i, raw in enumerate(doc["cases"])]


def run_case(engine: Engine, case: Case) -> CaseResult:
    """Decide one case and compare with its expectation."""
    d = engine.decide(case.input, now=case.now)
    failures: list[str] = []
    if d.outcome is not case.decision:
        failures.append(f"decision {d.outcome.name}, expected {case.decision.name}")
    if case.code is not None and d.code != case.code:
        failures.append(f"code {d.code}, expected {case.code}")
    got = tuple(m.rule_id for m in d.matched)
    if case.matched is not None and got != case.matched:
        failures.append(f"matched {list(got)}, expected {list(case.matched)}")
    return CaseResult(case, d, tuple(failures))
