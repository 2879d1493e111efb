"""Static checks behind ``rsrp policy check`` (docs/policy-language.md, Static checks).

Errors: duplicate names, type errors, unknown fields, incompatible comparisons,
enum literals that are not members, bad regexes or time zones, bad message
templates. Warnings: rules that can never match (interval or equality
contradictions in an AND), ALLOW rules shadowed by an unconditional BLOCK, ALLOW
rules that negate a nullable predicate. All findings are collected.
"""

from __future__ import annotations

from collections.abc import Callable

from rsrp.policy import _ast as a
from rsrp.policy._errors import Diagnostic
from rsrp.policy._exprgen import fields_read
from rsrp.policy._schema import FieldSpec, RecordSpec, Schema, build_schema
from rsrp.policy._template import parse_template
from rsrp.policy._types import TypeChecker
from rsrp.policy.decision import Outcome

__all__ = ["always_true", "check"]

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def _dup_names(members: tuple[a.FieldDecl | a.RecordDecl, ...], out: list[a.Span]) -> None:
    seen: set[str] = set()
    for m in members:
        if m.name in seen:
            out.append(m.span)
        seen.add(m.name)
        if isinstance(m, a.RecordDecl):
            _dup_names(m.members, out)


def always_true(e: a.Expr, schema: Schema) -> bool:
    """A simple, sound tautology test: TRUE, NOT FALSE, x IS NOT NULL on non-null x, and/or."""
    if isinstance(e, a.Literal):
        return e.value is True
    if isinstance(e, a.Not):
        return _always_false(e.operand, schema)
    if isinstance(e, a.And):
        return all(always_true(x, schema) for x in e.operands)
    if isinstance(e, a.Or):
        if any(always_true(x, schema) for x in e.operands):
            return True
        tests = [x for x in e.operands if isinstance(x, a.IsNull) and isinstance(x.operand, a.Path)]
        nulls = {x.operand.parts for x in tests if not x.negated}  # type: ignore[union-attr]
        return any(x.negated and x.operand.parts in nulls for x in tests)  # type: ignore[union-attr]
    if isinstance(e, a.IsNull) and e.negated and isinstance(e.operand, a.Path):
        spec = schema.lookup(e.operand.parts)
        return spec is not None and not spec.maybe_null
    return False


def _always_false(e: a.Expr, schema: Schema) -> bool:
    if isinstance(e, a.Literal):
        return e.value is False
    if isinstance(e, a.Not):
        return always_true(e.operand, schema)
    return False


def _conjuncts(e: a.Expr) -> list[a.Expr]:
    if isinstance(e, a.And):
        return [c for x in e.operands for c in _conjuncts(x)]
    return [e]


class _Range:
    """What the AND-conjunction allows for one path: bounds and an equality set."""

    def __init__(self) -> None:
        self.lo: tuple[object, bool] | None = None  # (value, inclusive)
        self.hi: tuple[object, bool] | None = None
        self.allowed: set[object] | None = None
        self.excluded: set[object] = set()

    def add(self, op: str, v: object) -> None:
        if op == "=":
            self.restrict({v})
        elif op == "!=":
            self.excluded.add(v)
        elif op in (">", ">="):
            if self.lo is None or _gt(v, self.lo[0]) or (v == self.lo[0] and op == ">"):
                self.lo = (v, op == ">=")
        elif self.hi is None or _gt(self.hi[0], v) or (v == self.hi[0] and op == "<"):
            self.hi = (v, op == "<=")

    def restrict(self, values: set[object]) -> None:
        self.allowed = values if self.allowed is None else self.allowed & values

    def empty(self) -> bool:
        if self.lo is not None and self.hi is not None:
            (lo, lo_in), (hi, hi_in) = self.lo, self.hi
            if _gt(lo, hi) or (lo == hi and not (lo_in and hi_in)):
                return True
        if self.allowed is not None:
            return not any(self._inside(v) for v in self.allowed - self.excluded)
        return False

    def _inside(self, v: object) -> bool:
        try:
            if self.lo is not None and (_gt(self.lo[0], v) or (v == self.lo[0] and not self.lo[1])):
                return False
            if self.hi is not None and (_gt(v, self.hi[0]) or (v == self.hi[0] and not self.hi[1])):
                return False
        except TypeError:
            return True
        return True


def _gt(x: object, y: object) -> bool:
    try:
        return bool(x > y)  # type: ignore[operator]
    except TypeError:
        return False


def never_matches(e: a.Expr) -> bool:
    """True when an AND of simple ``path op literal`` tests is contradictory."""
    ranges: dict[tuple[str, ...], _Range] = {}
    for c in _conjuncts(e):
        if isinstance(c, a.Literal) and c.value is False:
            return True
        if isinstance(c, a.Compare):
            left, right, op = c.left, c.right, c.op
            if isinstance(left, a.Literal) and isinstance(right, a.Path):
                left, right, op = right, left, _FLIP[op]
            if isinstance(left, a.Path) and isinstance(right, a.Literal):
                ranges.setdefault(left.parts, _Range()).add(op, _key(right))
        elif isinstance(c, a.Between) and not c.negated and isinstance(c.operand, a.Path):
            if isinstance(c.low, a.Literal) and isinstance(c.high, a.Literal):
                r = ranges.setdefault(c.operand.parts, _Range())
                r.add(">=", _key(c.low))
                r.add("<=", _key(c.high))
        elif (
            isinstance(c, a.In)
            and isinstance(c.item, a.Path)
            and isinstance(c.container, a.ListLit)
        ):
            values = {_key(lit) for lit in c.container.items}
            r = ranges.setdefault(c.item.parts, _Range())
            if c.negated:
                r.excluded |= values
            else:
                r.restrict(values)
    return any(r.empty() for r in ranges.values())


def _key(lit: a.Literal) -> object:
    # Decimal and int compare exactly; a bool must not equal 1.
    return ("bool", lit.value) if lit.kind == "bool" else lit.value


def _negates_nullable(e: a.Expr, schema: Schema, negated: bool = False) -> a.Path | None:
    if isinstance(e, a.Not):
        return _negates_nullable(e.operand, schema, not negated)
    if isinstance(e, a.And | a.Or):
        for x in e.operands:
            found = _negates_nullable(x, schema, negated)
            if found is not None:
                return found
        return None
    if negated and isinstance(e, a.Compare | a.In | a.Between | a.Matches):
        for p in fields_read(e):
            spec = schema.lookup(p.parts)
            if spec is not None and spec.maybe_null:
                return p
    return None


def check(bundle: a.Bundle) -> tuple[Diagnostic, ...]:
    """Every finding, errors and warnings, in source order."""
    found: list[Diagnostic] = []

    def err(msg: str, span: a.Span, rule: str | None = None, sev: str = "error") -> None:
        found.append(Diagnostic(sev, msg, span, bundle.filename, rule))

    dups: list[a.Span] = []
    _dup_names(bundle.schema, dups)
    for span in dups:
        err("field declared twice in the same record", span)
    schema = build_schema(bundle.schema)
    seen: set[str] = set()
    for rule in bundle.rules:
        if rule.id in seen:
            err(f"duplicate rule id {rule.id!r}", rule.id_span, rule.id)
        seen.add(rule.id)
        before = len(found)

        def report(message: str, span: a.Span, rid: str = rule.id) -> None:
            err(message, span, rid)

        TypeChecker(schema, report).condition(rule.condition)
        _check_message(rule.message, rule.message_span or rule.span, schema, rule.id, err)
        if len(found) == before and never_matches(rule.condition):
            err(
                f"rule {rule.id} can never match (contradictory conditions)",
                rule.id_span,
                rule.id,
                "warning",
            )
        if rule.outcome is Outcome.ALLOW:
            path = _negates_nullable(rule.condition, schema)
            if path is not None:
                err(
                    f"ALLOW rule negates a test on nullable {path.dotted}: NULL makes it match",
                    path.span,
                    rule.id,
                    "warning",
                )
    _check_message(bundle.default_message, bundle.default_span, schema, None, err)
    blockers = [
        r for r in bundle.rules if r.outcome is Outcome.BLOCK and always_true(r.condition, schema)
    ]
    if blockers:
        for rule in bundle.rules:
            if rule.outcome is Outcome.ALLOW:
                msg = f"ALLOW rule {rule.id} is unreachable: BLOCK {blockers[0].id} always matches"
                err(msg, rule.id_span, rule.id, "warning")
    found.sort(key=lambda d: (d.span.line, d.span.col))
    return tuple(found)


_Report = Callable[[str, a.Span, str | None], None]


def _check_message(text: str, span: a.Span, schema: Schema, rule: str | None, err: _Report) -> None:
    try:
        parts = parse_template(text)
    except ValueError as e:
        err(f"bad message template: {e}", span, rule)
        return
    for p in parts:
        if isinstance(p, tuple) and not isinstance(schema.lookup(p), FieldSpec):
            what = "a record" if isinstance(schema.lookup(p), RecordSpec) else "an unknown field"
            err(f"message interpolates {what}: {{{'.'.join(p)}}}", span, rule)
