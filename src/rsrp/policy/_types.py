"""Type inference for conditions (docs/policy-language.md, Expressions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import re2

from rsrp.policy import _ast as a
from rsrp.policy._errors import PolicyEvaluationError
from rsrp.policy._runtime import zone
from rsrp.policy._schema import FieldSpec, RecordSpec, Schema

__all__ = ["MAX_PATTERN", "Ty", "TypeChecker"]

#: Longest MATCHES pattern, in characters.
MAX_PATTERN = 256
_ORDERED = {"int", "decimal", "timestamp", "duration", "string"}
_NUMERIC = {"int", "decimal"}
_TEXT = {"string", "enum"}


@dataclass(frozen=True, slots=True)
class Ty:
    kind: str
    members: tuple[str, ...] = ()
    #: The expression is a literal (so enum membership can be checked).
    literal: a.Literal | None = None


_BOOL = Ty("bool")
_INT = Ty("int")


class TypeChecker:
    """Reports every type error through ``report(message, span)``; never raises."""

    def __init__(self, schema: Schema, report: Callable[[str, a.Span], None]) -> None:
        self.schema = schema
        self.report = report

    def condition(self, e: a.Expr) -> None:
        t = self.infer(e)
        if t is not None and t.kind != "bool":
            self.report(f"condition must be a boolean, not {t.kind}", e.span)

    def _bool(self, e: a.Expr) -> None:
        t = self.infer(e)
        if t is not None and t.kind != "bool":
            self.report(f"expected a boolean operand, got {t.kind}", e.span)

    def infer(self, e: a.Expr) -> Ty | None:
        if isinstance(e, a.Path):
            spec = self.schema.lookup(e.parts)
            if spec is None:
                self.report(f"unknown field {e.dotted!r}", e.span)
                return None
            if isinstance(spec, RecordSpec):
                return Ty("record")
            return self._field_ty(spec)
        if isinstance(e, a.Literal):
            return Ty(e.kind, literal=e)
        if isinstance(e, a.Now):
            return Ty("timestamp")
        if isinstance(e, a.ListLit):
            self.report("a list literal is only allowed after IN / NOT IN", e.span)
            return None
        if isinstance(e, a.Call):
            return self._call(e)
        if isinstance(e, a.Not):
            self._bool(e.operand)
        elif isinstance(e, a.And | a.Or):
            for x in e.operands:
                self._bool(x)
        elif isinstance(e, a.Compare):
            self._compare(e.op, e.left, e.right, e.span)
        elif isinstance(e, a.Between):
            self._compare("<=", e.low, e.operand, e.span)
            self._compare("<=", e.operand, e.high, e.span)
        elif isinstance(e, a.IsNull):
            self.infer(e.operand)
        elif isinstance(e, a.In):
            self._in(e)
        elif isinstance(e, a.Matches):
            self._text(e.operand, "MATCHES")
            self._pattern(e)
        return _BOOL

    @staticmethod
    def _field_ty(spec: FieldSpec) -> Ty:
        return Ty(spec.type.kind, spec.type.members)

    def _text(self, e: a.Expr, what: str) -> None:
        t = self.infer(e)
        if t is not None and t.kind not in _TEXT:
            self.report(f"{what} needs a string, got {t.kind}", e.span)

    def _call(self, e: a.Call) -> Ty | None:
        if e.func == "LENGTH":
            t = self.infer(e.args[0])
            if t is not None and t.kind not in ("string", "enum", "set<string>", "set<int>"):
                self.report(f"LENGTH needs a string or a set, got {t.kind}", e.args[0].span)
            return _INT
        if e.func == "STARTS_WITH":
            self._text(e.args[0], "STARTS_WITH")
            self._text(e.args[1], "STARTS_WITH")
            return _BOOL
        ts, tz = e.args
        t = self.infer(ts)
        if t is not None and t.kind != "timestamp":
            self.report(f"{e.func} needs a timestamp, got {t.kind}", ts.span)
        self._text(tz, f"{e.func} time zone")
        if isinstance(tz, a.Literal) and isinstance(tz.value, str):
            try:
                zone(tz.value)
            except PolicyEvaluationError:
                self.report(f"unknown IANA time zone {tz.value!r}", tz.span)
        return _INT

    def _pattern(self, e: a.Matches) -> None:
        if len(e.pattern) > MAX_PATTERN:
            self.report(f"regex longer than {MAX_PATTERN} characters", e.pattern_span)
            return
        try:
            re2.compile(e.pattern)
        except Exception as err:
            reason = err.args[0] if err.args else err
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            self.report(f"regex does not compile under RE2: {reason}", e.pattern_span)

    def _compatible(self, op: str, lt: Ty, rt: Ty, span: a.Span) -> None:
        kinds = {lt.kind, rt.kind}
        if "record" in kinds:
            self.report("a record can only be tested with IS [NOT] NULL", span)
            return
        if kinds <= _NUMERIC:
            return
        if "enum" in kinds and kinds <= _TEXT:
            for enum_t, other in ((lt, rt), (rt, lt)):
                if enum_t.kind == "enum" and other.literal is not None:
                    lit = other.literal
                    if lit.value not in enum_t.members:
                        self.report(
                            f"{lit.value!r} is not a member of enum({', '.join(enum_t.members)})",
                            lit.span,
                        )
            if op not in ("=", "!="):
                self.report("enum values compare only with = and !=", span)
            return
        if lt.kind != rt.kind:
            self.report(f"cannot compare {lt.kind} with {rt.kind}", span)
            return
        if lt.kind.startswith("set<"):
            self.report("sets cannot be compared; use IN or LENGTH()", span)
        elif op not in ("=", "!=") and lt.kind not in _ORDERED:
            self.report(f"{lt.kind} values compare only with = and !=", span)

    def _compare(self, op: str, left: a.Expr, right: a.Expr, span: a.Span) -> None:
        lt, rt = self.infer(left), self.infer(right)
        if lt is not None and rt is not None:
            self._compatible(op, lt, rt, span)

    def _in(self, e: a.In) -> None:
        item = self.infer(e.item)
        if isinstance(e.container, a.ListLit):
            if not e.container.items:
                self.report("empty list after IN", e.container.span)
            for lit in e.container.items:
                if item is not None:
                    self._compatible("=", item, Ty(lit.kind, literal=lit), lit.span)
            return
        box = self.infer(e.container)
        if item is None or box is None:
            return
        if not box.kind.startswith("set<"):
            self.report(f"IN needs a list literal or a set field, got {box.kind}", e.container.span)
            return
        member = Ty(box.kind[4:-1])
        self._compatible("=", item, member, e.span)
