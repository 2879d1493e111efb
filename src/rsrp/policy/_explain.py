"""Generated explanations: for one matched rule, the values its condition read and its
interpolated message, as an expression over the generated function's locals. Only
matched rules are explained, so the cost is paid per match, not per rule.
"""

from __future__ import annotations

from rsrp.policy import _ast as a
from rsrp.policy._exprgen import fields_read
from rsrp.policy._schema import FieldSpec, RecordSpec, Schema
from rsrp.policy._template import parse_template

__all__ = ["explain_expr", "explain_locals", "message_source"]


def _json(schema: Schema, path: tuple[str, ...]) -> str:
    """JSON text of one value; specialised by type where that saves a call."""
    spec = schema.lookup(path)
    code = _value(schema, path)
    if isinstance(spec, FieldSpec) and not spec.maybe_null:
        if spec.type.kind in ("string", "enum"):
            return f"_jstr({code})"
        if spec.type.kind == "int":
            return f"str({code})"
    return f"_js({code})"


def _text(schema: Schema, path: tuple[str, ...]) -> str:
    """Message text of one value: strings bare, null as ``null``, the rest as JSON."""
    spec = schema.lookup(path)
    code = _value(schema, path)
    if isinstance(spec, FieldSpec) and not spec.maybe_null:
        if spec.type.kind in ("string", "enum"):
            return code
        if spec.type.kind == "int":
            return f"str({code})"
    return f"_mt({code})"


def _value(schema: Schema, path: tuple[str, ...]) -> str:
    spec = schema.lookup(path)
    if isinstance(spec, FieldSpec):
        return f"f{spec.index}"
    if isinstance(spec, RecordSpec):
        # A record appears only under IS [NOT] NULL: explain it by its presence.
        return f"(None if r{spec.index} is None else 'present')"
    raise AssertionError(f"unchecked path {'.'.join(path)}")


def message_source(schema: Schema, template: str) -> str:
    """Python expression rendering ``template`` from the field locals ``f{i}``."""
    pieces = []
    for part in parse_template(template):
        if isinstance(part, str):
            pieces.append(repr(part))
        else:
            pieces.append(_text(schema, part))
    if not pieces:
        return "''"
    return pieces[0] if len(pieces) == 1 else "''.join((" + ", ".join(pieces) + ",))"


def explain_locals(schema: Schema, rules: tuple[a.Rule, ...], default_message: str) -> list[str]:
    """The field and record locals (``f3``, ``r1``) that the explanations of ``rules``
    and the messages read, in index order: what ``_value`` names for each path."""
    paths = [p.parts for rule in rules for p in fields_read(rule.condition)]
    for template in (*(rule.message for rule in rules), default_message):
        paths += [part for part in parse_template(template) if not isinstance(part, str)]
    names: set[tuple[str, int]] = set()
    for path in paths:
        spec = schema.lookup(path)
        if isinstance(spec, FieldSpec):
            names.add(("f", spec.index))
        elif isinstance(spec, RecordSpec):
            names.add(("r", spec.index))
    return [f"{kind}{index}" for kind, index in sorted(names)]


def explain_expr(schema: Schema, rule: a.Rule) -> str:
    """Expression building the rule's RuleExplanation from the field locals."""
    seen: dict[str, str] = {}
    for path in sorted(fields_read(rule.condition), key=lambda p: p.dotted):
        seen.setdefault(path.dotted, _json(schema, path.parts))
    reads = [f"({name!r}, {code})" for name, code in seen.items()]
    if _uses_now(rule.condition):
        reads.append("('NOW', _js(now))")
    values = "(" + "".join(f"{r}, " for r in reads) + ")"
    return f"_RX({rule.id!r}, {values}, {message_source(schema, rule.message)})"


def _uses_now(e: a.Expr) -> bool:
    stack: list[object] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, a.Now):
            return True
        for name in getattr(node, "__slots__", ()):
            child = getattr(node, name)
            if isinstance(child, tuple):
                stack.extend(child)
            else:
                stack.append(child)
    return False
