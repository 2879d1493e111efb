"""Rule conditions → Python expression source over the validated locals.

Field ``i`` is the local ``f{i}``, record ``j`` is ``r{j}`` (None when null),
NOW is ``now``. NULL semantics (docs/policy-language.md): a predicate with a
possibly-null operand is guarded by ``x is not None and ...`` so it is false on
NULL; non-nullable fields need no guard, which keeps the common path short.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rsrp.policy import _ast as a
from rsrp.policy._schema import FieldSpec, RecordSpec, Schema

__all__ = ["Constants", "ExprCompiler", "fields_read"]

_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(slots=True)
class Constants:
    """Values the generated source names as ``_K{n}`` (decimals, timestamps, sets, regexes)."""

    values: list[object] = field(default_factory=list)
    #: Tagged description of each value, hashed into bytecode_hash.
    tagged: list[object] = field(default_factory=list)

    def add(self, value: object, tagged: object) -> str:
        for i, t in enumerate(self.tagged):
            if t == tagged and type(t) is type(tagged):
                return f"_K{i}"
        self.values.append(value)
        self.tagged.append(tagged)
        return f"_K{len(self.values) - 1}"


@dataclass(frozen=True, slots=True)
class _Operand:
    code: str
    #: Locals that may be None; the operand is NULL when any of them is.
    nulls: tuple[str, ...]


def _guard(nulls: tuple[str, ...], code: str) -> str:
    if not nulls:
        return code
    checks = " and ".join(f"{n} is not None" for n in dict.fromkeys(nulls))
    return f"({checks} and {code})"


def fields_read(expr: a.Expr) -> list[a.Path]:
    """Every path in ``expr``, in source order (the explanation shows their values)."""
    out: list[a.Path] = []
    stack: list[a.Expr] = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, a.Path):
            out.append(e)
        elif isinstance(e, a.Call):
            stack.extend(reversed(e.args))
        elif isinstance(e, a.Compare):
            stack.extend((e.right, e.left))
        elif isinstance(e, a.In):
            stack.extend((e.container, e.item))
        elif isinstance(e, a.Between):
            stack.extend((e.high, e.low, e.operand))
        elif isinstance(e, a.IsNull | a.Matches | a.Not):
            stack.append(e.operand)
        elif isinstance(e, a.And | a.Or):
            stack.extend(reversed(e.operands))
    return out


class ExprCompiler:
    """Compiles type-checked conditions; unknown paths are a checker bug, not user error."""

    def __init__(self, schema: Schema, consts: Constants) -> None:
        self.schema = schema
        self.consts = consts
        #: How often each HOUR/WEEKDAY call text occurs (filled by a counting pass).
        self.calls: dict[str, int] = {}
        #: Call texts computed once per decision, and their local names.
        self.memo: dict[str, str] = {}

    def memoize_repeated_calls(self) -> None:
        """After a counting pass: share every HOUR/WEEKDAY call that occurs twice or more."""
        for code, count in self.calls.items():
            if count > 1:
                self.memo[code] = f"_c{len(self.memo)}"

    def _literal(self, lit: a.Literal) -> str:
        if lit.kind in ("string", "int", "bool"):
            return repr(lit.value)
        return self.consts.add(lit.value, [lit.kind, lit.value])

    def operand(self, e: a.Expr) -> _Operand:
        if isinstance(e, a.Path):
            spec = self.schema.lookup(e.parts)
            if isinstance(spec, FieldSpec):
                name = f"f{spec.index}"
                return _Operand(name, (name,) if spec.maybe_null else ())
            if isinstance(spec, RecordSpec):
                name = f"r{spec.index}"
                return _Operand(name, (name,) if spec.maybe_null else ())
            raise AssertionError(f"unchecked path {e.dotted}")
        if isinstance(e, a.Literal):
            return _Operand(self._literal(e), ())
        if isinstance(e, a.Now):
            return _Operand("now", ())
        if isinstance(e, a.Call):
            return self._call(e)
        if isinstance(e, a.ListLit):
            raise AssertionError("list literal outside IN")
        return _Operand(self.condition(e), ())

    def _call(self, e: a.Call) -> _Operand:
        args = [self.operand(x) for x in e.args]
        nulls = tuple(n for x in args for n in x.nulls)
        if e.func == "LENGTH":
            return _Operand(f"len({args[0].code})", nulls)
        if e.func == "STARTS_WITH":
            return _Operand(_guard(nulls, f"{args[0].code}.startswith({args[1].code})"), ())
        tz_arg = e.args[1]
        if isinstance(tz_arg, a.Literal) and isinstance(tz_arg.value, str):
            tz = self.consts.add(None, ["zone", tz_arg.value])
        else:
            tz = f"(_ZONES.get({args[1].code}) or _zone({args[1].code}))"
        method = "hour" if e.func == "HOUR" else "isoweekday()"
        code = f"{args[0].code}.astimezone({tz}).{method}"
        self.calls[code] = self.calls.get(code, 0) + 1
        name = self.memo.get(code)
        if name is not None:
            # Computed at most once per decision, lazily, so errors surface only
            # where the unshared code would have raised them.
            code = f"({name} if {name} is not _UNSET else ({name} := {code}))"
        return _Operand(code, nulls)

    def condition(self, e: a.Expr) -> str:
        """Python source of a bool expression, false on NULL per the spec."""
        if isinstance(e, a.And | a.Or):
            joiner = " and " if isinstance(e, a.And) else " or "
            return "(" + joiner.join(self.condition(x) for x in e.operands) + ")"
        if isinstance(e, a.Not):
            return f"(not {self.condition(e.operand)})"
        if isinstance(e, a.Compare):
            left, right = self.operand(e.left), self.operand(e.right)
            return _guard(left.nulls + right.nulls, f"({left.code} {_OPS[e.op]} {right.code})")
        if isinstance(e, a.In):
            item = self.operand(e.item)
            if isinstance(e.container, a.ListLit):
                values = frozenset(lit.value for lit in e.container.items)
                tagged = ["set", [[lit.kind, lit.value] for lit in e.container.items]]
                box = _Operand(self.consts.add(values, tagged), ())
            else:
                box = self.operand(e.container)
            op = "not in" if e.negated else "in"
            return _guard(item.nulls + box.nulls, f"({item.code} {op} {box.code})")
        if isinstance(e, a.Between):
            x, lo, hi = self.operand(e.operand), self.operand(e.low), self.operand(e.high)
            test = f"({lo.code} <= {x.code} <= {hi.code})"
            if any(isinstance(o, a.Call) for o in (e.operand, e.low, e.high)):
                # A chained comparison skips ``hi`` when ``lo <= x`` is false; a call
                # there (HOUR with an unknown zone) must still fail closed.
                test = f"_between({lo.code}, {x.code}, {hi.code})"
            if e.negated:
                test = f"(not {test})"
            return _guard(x.nulls + lo.nulls + hi.nulls, test)
        if isinstance(e, a.IsNull):
            nulls = tuple(dict.fromkeys(self.operand(e.operand).nulls))
            if e.negated:
                return (
                    "(" + " and ".join(f"{n} is not None" for n in nulls) + ")" if nulls else "True"
                )
            return "(" + " or ".join(f"{n} is None" for n in nulls) + ")" if nulls else "False"
        if isinstance(e, a.Matches):
            x = self.operand(e.operand)
            regex = self.consts.add(None, ["re2", e.pattern])
            return _guard(x.nulls, f"({regex}.search({x.code}) is not None)")
        # A bare operand used as a condition: a bool field, literal or STARTS_WITH.
        x = self.operand(e)
        return _guard(x.nulls, f"({x.code} is True)")
