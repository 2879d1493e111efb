"""Bundle → one generated Python function: validate, hash the input, evaluate every rule.

The source text is deterministic (it depends only on the AST), so its hash is
the bundle's bytecode_hash. It is exec'd once per bundle; a decision then runs
straight-line code over locals, with no tree walking.
"""

from __future__ import annotations

import struct

from rsrp.canonical import DOMAIN
from rsrp.policy import _ast as a
from rsrp.policy._explain import explain_expr, explain_locals, message_source
from rsrp.policy._exprgen import Constants, ExprCompiler
from rsrp.policy._schema import MAX_INT, FieldSpec, RecordSpec, Schema
from rsrp.policy.decision import Outcome

__all__ = ["Generated", "decision_order", "generate"]

_NULL = b"\x00"
_RANK = {Outcome.BLOCK: 0, Outcome.APPROVAL_REQUIRED: 1, Outcome.WARN: 2, Outcome.ALLOW: 3}


def decision_order(rules: tuple[a.Rule, ...]) -> tuple[a.Rule, ...]:
    """Rules in deny-overrides decision order (docs/policy-language.md, Combining)."""
    return tuple(sorted(rules, key=lambda r: (_RANK[r.outcome], -r.severity, r.id)))


class Generated:
    """Generated source, its named constants and the rules in evaluation order."""

    def __init__(self, source: str, consts: Constants, rules: tuple[a.Rule, ...]) -> None:
        self.source = source
        self.consts = consts
        self.rules = rules


class _Writer:
    def __init__(self, schema: Schema, consts: Constants) -> None:
        self.schema = schema
        self.consts = consts
        self.lines: list[str] = []

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def const(self, value: object, tagged: object) -> str:
        return self.consts.add(value, tagged)

    # -- validation ---------------------------------------------------------------

    def check_field(self, depth: int, spec: FieldSpec, src: str) -> None:
        var = f"f{spec.index}"
        t = spec.type
        # A subscript is cheaper than .get(); a missing required key raises KeyError,
        # which the surrounding try turns into a rejection like any other.
        key = spec.path[-1]
        self.emit(
            depth, f"{var} = {src}.get({key!r})" if spec.nullable else f"{var} = {src}[{key!r}]"
        )
        test: str | None = None
        if t.kind == "string":
            test = f"{var}.__class__ is not str or len({var}) > {t.limit}"
        elif t.kind == "int":
            # The |n| < 2^63 range is checked by _enc_int_checked when hashing; ints in
            # 0..1023 come from a table and are in range by construction.
            test = f"{var}.__class__ is not int"
        elif t.kind == "bool":
            test = f"{var} is not True and {var} is not False"
        conv = {
            "decimal": "_conv_decimal",
            "duration": "_conv_duration",
            "set<string>": "_conv_sset",
            "set<int>": "_conv_iset",
        }.get(t.kind)
        if t.kind == "enum":
            # Membership and canonical encoding in one lookup.
            table = {m: _lp(0x04, m.encode()) for m in t.members}
            enc = self.const(table, ["enc", sorted(t.members)])
            body = [f"e{spec.index} = {enc}.get({var})", f"if e{spec.index} is None: raise _Bad"]
        elif t.kind.startswith("set<"):
            # Fast path for the common JSON array; anything else goes to the converter.
            member, extra = ("_INTT", "-{M} < min({v}) and max({v}) < {M}")
            if t.kind == "set<string>":
                member, extra = ("_STRT", "max(map(len, {v})) <= 1024")
            body = [
                f"if {var}.__class__ is list and len({var}) <= {t.limit} and "
                f"{member}.issuperset(map(type, {var})):",
                f"    {var} = frozenset({var})",
                f"    if {var} and not ({extra.format(v=var, M=MAX_INT)}): raise _Bad",
                "else:",
                f"    {var} = {conv}({var}, {t.limit})",
            ]
        elif t.kind == "timestamp":
            body = [
                f"e{spec.index} = _ts_get({var})",
                f"if e{spec.index} is None: e{spec.index} = _ts_entry({var})",
                f"{var} = e{spec.index}[0]",
            ]
        elif conv is not None:
            body = [f"{var} = {conv}({var}, {t.limit})"]
        else:
            body = [f"if {test}: raise _Bad"]
        if spec.nullable:
            self.emit(depth, f"if {var} is not None:")
            for line in body:
                self.emit(depth + 1, line)
        else:
            # No separate None test: every type test above also rejects None.
            for line in body:
                self.emit(depth, line)

    def all_fields(self, rec: RecordSpec) -> list[FieldSpec]:
        out: list[FieldSpec] = []
        for m in rec.members:
            out.extend(self.all_fields(m) if isinstance(m, RecordSpec) else [m])
        return out

    def null_fill(self, depth: int, rec: RecordSpec) -> None:
        names = [f"f{f.index}" for f in self.all_fields(rec)]
        names += [f"r{r.index}" for r in self.records_in(rec)]
        self.emit(depth, " = ".join(names) + " = None" if names else "pass")

    def records_in(self, rec: RecordSpec) -> list[RecordSpec]:
        out: list[RecordSpec] = []
        for m in rec.members:
            if isinstance(m, RecordSpec):
                out += [m, *self.records_in(m)]
        return out

    def check_record(self, depth: int, rec: RecordSpec, src: str) -> None:
        if not any(m.nullable for m in rec.members):
            # Every member is read by subscript below (KeyError if absent), so a length
            # equal to the member count means no undeclared key: cheaper than a set test.
            n = len(rec.members)
            self.emit(depth, f"if {src}.__class__ is not dict or len({src}) != {n}: raise _Bad")
        else:
            keys = self.const(rec.names, ["keys", sorted(rec.names)])
            self.emit(
                depth, f"if {src}.__class__ is not dict or not {src}.keys() <= {keys}: raise _Bad"
            )
        for m in rec.members:
            if isinstance(m, FieldSpec):
                self.check_field(depth, m, src)
                continue
            var = f"r{m.index}"
            key = m.path[-1]
            if m.nullable:
                self.emit(depth, f"{var} = {src}.get({key!r})")
                self.emit(depth, f"if {var} is None:")
                self.null_fill(depth + 1, m)
                self.emit(depth, "else:")
                self.check_record(depth + 1, m, var)
            else:
                self.emit(depth, f"{var} = {src}[{key!r}]")
                self.check_record(depth, m, var)

    # -- canonical encoding (docs/canonical-hashing.md §2) ----------------------------

    def encode_field(self, spec: FieldSpec) -> str:
        var, kind = f"f{spec.index}", spec.type.kind
        if kind == "timestamp":
            code = f"e{spec.index}[1]"
        elif kind == "int":
            code = f"(_SMALL[{var}] if 0 <= {var} < 1024 else _enc_int_checked({var}))"
        elif kind == "enum":
            code = f"e{spec.index}"
        elif kind == "bool":
            code = f"(b'\\x01\\x01' if {var} else b'\\x01\\x00')"
        elif kind == "string":
            # Identifiers, zones and codes repeat across requests: a bounded cache of
            # encodings makes the common case one dict lookup.
            code = f"(_str_get({var}) or _enc_str({var}))"
        elif kind == "set<int>":
            code = f"_enc_iset({var})"
        elif kind.startswith("set<"):
            code = f"(_set_get({var}) or _enc_set({var}))"
        else:
            helper = {"decimal": "_enc_decimal", "duration": "_enc_duration"}[kind]
            code = f"{helper}({var})"
        return f"(_NULLB if {var} is None else {code})" if spec.nullable else code

    def encode_record(self, rec: RecordSpec) -> list[bytes | str]:
        parts: list[bytes | str] = [struct.pack(">BI", 0x0A, len(rec.members))]
        for m in rec.members:  # members are sorted by name = by UTF-8 key bytes
            key = m.path[-1].encode("utf-8")
            parts.append(struct.pack(">I", len(key)) + key)
            if isinstance(m, FieldSpec):
                parts.append(self.encode_field(m))
                continue
            inner = self.encode_record(m)
            if m.nullable:
                parts.append(f"*((_NULLB,) if r{m.index} is None else {_tuple(inner)})")
            else:
                parts.extend(inner)
        return parts


def _lp(tag: int, payload: bytes) -> bytes:
    return struct.pack(">BI", tag, len(payload)) + payload


def _tuple(parts: list[bytes | str]) -> str:
    merged: list[bytes | str] = []
    for p in parts:
        if isinstance(p, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + p
        else:
            merged.append(p)
    return "(" + "".join(f"{p!r}, " if isinstance(p, bytes) else f"{p}, " for p in merged) + ")"


def generate(schema: Schema, rules: tuple[a.Rule, ...], default_message: str) -> Generated:
    """Source of ``decide(inp, now) -> Decision`` (a LazyDecision whose message and
    explanation come from the generated ``explain``); raises _Bad on an invalid input.

    Needs in its namespace: the helpers of ``_engine._namespace``, ``_V`` (mask →
    (outcome, code, matched, decided_by) cache), ``_verdict`` (fills it) and
    ``_IDENT`` (bundle id, version, jurisdiction, policy_hash, bytecode_hash).
    """
    consts = Constants()
    w = _Writer(schema, consts)
    w.emit(0, "def decide(inp, now):")
    w.emit(1, "try:")
    w.check_record(2, schema.root, "inp")
    w.emit(1, "except Exception:")
    w.emit(2, "raise _Bad from None")
    pieces = _tuple([DOMAIN, *w.encode_record(schema.root)])
    w.emit(1, f"h = _sha256(b''.join({pieces})).digest()")
    w.emit(1, "m = 0")
    ordered = decision_order(rules)
    exprs = ExprCompiler(schema, consts)
    for rule in ordered:  # counting pass: which time-zone conversions repeat
        exprs.condition(rule.condition)
    exprs.memoize_repeated_calls()
    if exprs.memo:
        w.emit(1, " = ".join(exprs.memo.values()) + " = _UNSET")
    for i, rule in enumerate(ordered):
        w.emit(1, f"# {i}: {rule.id}")
        w.emit(1, f"if {exprs.condition(rule.condition)}: m |= {1 << i}")
    # Explanations and the message are rendered only when read (LazyDecision): the
    # decision keeps the mask and the field values the explanations use.
    explain = [
        f"    if m & {1 << i}: x.append({explain_expr(schema, rule)})"
        for i, rule in enumerate(ordered)
    ]
    default = message_source(schema, default_message)
    explain.append(f"    return (x[0].message if x else {default}), tuple(x)")
    used = explain_locals(schema, ordered, default_message)
    args = ", ".join(["m", "now", *used])
    w.emit(1, "v = _V.get(m) or _verdict(m)")
    w.emit(1, f"return _lazy(v[0], v[1], v[2], v[3], *_IDENT, h, now, (explain, {args}))")
    w.emit(0, "")
    w.emit(0, f"def explain({args}):")
    w.emit(1, "x = []")
    w.lines.extend(explain)
    return Generated("\n".join(w.lines) + "\n", consts, ordered)
