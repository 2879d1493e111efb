"""A deliberately naive tree-walking interpreter of the policy language (test-only oracle).

Written straight from docs/policy-language.md, sharing nothing with the
compiler: it reads the nested validated input, treats NULL per the spec
(predicates false, IS NULL true), uses Python's ``re`` for MATCHES and
``zoneinfo`` directly for HOUR/WEEKDAY. Property tests check the compiled engine
agrees with it.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from rsrp.policy import _ast as a
from rsrp.policy.decision import Outcome

RANK = {Outcome.BLOCK: 0, Outcome.APPROVAL_REQUIRED: 1, Outcome.WARN: 2, Outcome.ALLOW: 3}


class OracleError(Exception):
    """The oracle hit a runtime error (the engine must fail closed on the same input)."""


def _get(data: Any, parts: tuple[str, ...]) -> Any:
    for p in parts:
        if data is None:
            return None
        data = data[p]
    return data


def value(e: a.Expr, data: Any, now: dt.datetime) -> Any:
    if isinstance(e, a.Path):
        return _get(data, e.parts)
    if isinstance(e, a.Literal):
        return e.value
    if isinstance(e, a.Now):
        return now
    if isinstance(e, a.Call):
        args = [value(x, data, now) for x in e.args]
        if e.func == "STARTS_WITH":
            return None not in args and args[0].startswith(args[1])
        if any(x is None for x in args):
            return None
        if e.func == "LENGTH":
            return len(args[0])
        try:
            zone = zoneinfo.ZoneInfo(args[1])
        except Exception as err:
            raise OracleError(str(err)) from err
        local = args[0].astimezone(zone)
        return local.hour if e.func == "HOUR" else local.isoweekday()
    return holds(e, data, now)


def _paths(e: a.Expr) -> list[a.Path]:
    if isinstance(e, a.Path):
        return [e]
    if isinstance(e, a.Call):
        return [p for x in e.args for p in _paths(x)]
    return []


def null(e: a.Expr, data: Any) -> bool:
    """An operand is NULL when a field it reads is null (literals, NOW never are)."""
    return any(_get(data, p.parts) is None for p in _paths(e))


def _cmp(op: str, x: Any, y: Any) -> bool:
    if x is None or y is None:
        return False
    if op == "=":
        return bool(x == y)
    if op == "!=":
        return bool(x != y)
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def holds(e: a.Expr, data: Any, now: dt.datetime) -> bool:
    if isinstance(e, a.And):
        return all(holds(x, data, now) for x in e.operands)
    if isinstance(e, a.Or):
        return any(holds(x, data, now) for x in e.operands)
    if isinstance(e, a.Not):
        return not holds(e.operand, data, now)
    operands = [
        getattr(e, n) for n in ("left", "right", "operand", "low", "high", "item") if hasattr(e, n)
    ]
    if isinstance(e, a.In) and isinstance(e.container, a.Path):
        operands.append(e.container)
    # A predicate with a NULL operand is false before anything is evaluated.
    if not isinstance(e, a.IsNull) and any(null(o, data) for o in operands):
        return False
    if isinstance(e, a.Compare):
        return _cmp(e.op, value(e.left, data, now), value(e.right, data, now))
    if isinstance(e, a.Between):
        x = value(e.operand, data, now)
        lo, hi = value(e.low, data, now), value(e.high, data, now)
        if x is None or lo is None or hi is None:
            return False
        inside = lo <= x <= hi
        return not inside if e.negated else inside
    if isinstance(e, a.In):
        x = value(e.item, data, now)
        if isinstance(e.container, a.ListLit):
            box: Any = [lit.value for lit in e.container.items]
        else:
            box = value(e.container, data, now)
        if x is None or box is None:
            return False
        found = any(x == m for m in box)
        return not found if e.negated else found
    if isinstance(e, a.IsNull):
        v = value(e.operand, data, now)
        return (v is not None) if e.negated else (v is None)
    if isinstance(e, a.Matches):
        v = value(e.operand, data, now)
        return v is not None and re.search(e.pattern, v) is not None
    v = value(e, data, now)
    return v is True


def decide(bundle: a.Bundle, data: Any, now: dt.datetime) -> tuple[Outcome, str, list[str]]:
    """(outcome, code, matched ids in decision order); raises OracleError on runtime errors."""
    matched = [r for r in bundle.rules if holds(r.condition, data, now)]
    matched.sort(key=lambda r: (RANK[r.outcome], -r.severity, r.id))
    if not matched:
        return bundle.default_outcome, bundle.default_code, []
    return matched[0].outcome, matched[0].code, [r.id for r in matched]
