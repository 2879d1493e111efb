"""Generated explanations: for one matched rule, the values its condition read and its
interpolated message, as an expression over the generated function's locals. Only
matched rules are explained, so the cost is paid per match, not per rule.
"""

from __future__ import annotations

from rsrp.policy import _ast as a
from rsrp.policy._exprgen import fields_read
from rsrp.policy._schema import FieldSpec, RecordSpec, Schema
from rsrp.policy._template import parse_template

__all__ = ["Refs", "explain_expr", "message_source"]


class Refs:
    """The locals an explanation reads, as a cache key; None when it cannot be cached."""

    def __init__(self) -> None:
        self.parts: dict[str, None] = {}
        #: False once a timestamp or NOW is read: equal instants with different
        #: offsets print differently, so their values are not a safe key.
        self.cacheable = True

    def key(self) -> str | None:
        if not self.cacheable:
            return None
        return "(" + "".join(f"{p}, " for p in self.parts) + ")"


def _json(schema: Schema, path: tuple[str, ...], refs: Refs) -> str:
    """JSON text of one value; specialised by type where that saves a call."""
    spec = schema.lookup(path)
    code = _value(schema, path, refs)
    if isinstance(spec, FieldSpec) and not spec.maybe_null:
        if spec.type.kind in ("string", "enum"):
            return f"_jstr({code})"
        if spec.type.kind == "int":
            return f"str({code})"
    return f"_js({code})"


def _text(schema: Schema, path: tuple[str, ...], refs: Refs) -> str:
    """Message text of one value: strings bare, null as ``null``, the rest as JSON."""
    spec = schema.lookup(path)
    code = _value(schema, path, refs)
    if isinstance(spec, FieldSpec) and not spec.maybe_null:
        if spec.type.kind in ("string", "enum"):
            return code
        if spec.type.kind == "int":
            return f"str({code})"
    return f"_mt({code})"


def _value(schema: Schema, path: tuple[str, ...], refs: Refs) -> str:
    spec = schema.lookup(path)
    if isinstance(spec, FieldSpec):
        refs.parts[f"f{spec.index}"] = None
        if spec.type.kind == "timestamp":
            refs.cacheable = False
        return f"f{spec.index}"
    if isinstance(spec, RecordSpec):
        # A record appears only under IS [NOT] NULL: explain it by its presence.
        refs.parts[f"r{spec.index} is None"] = None
        return f"(None if r{spec.index} is None else 'present')"
    raise AssertionError(f"unchecked path {'.'.join(path)}")


def message_source(schema: Schema, template: str, refs: Refs | None = None) -> str:
    """Python expression rendering ``template`` from the field locals ``f{i}``."""
    refs = refs if refs is not None else Refs()
    pieces = []
    for part in parse_template(template):
        if isinstance(part, str):
            pieces.append(repr(part))
        else:
            pieces.append(_text(schema, part, refs))
    if not pieces:
        return "''"
    return pieces[0] if len(pieces) == 1 else "''.join((" + ", ".join(pieces) + ",))"


def explain_expr(schema: Schema, rule: a.Rule) -> tuple[str, str | None]:
    """Expression building the rule's RuleExplanation from the field locals, and the
    tuple of locals it depends on (a cache key), or None when it must not be cached."""
    refs = Refs()
    seen: dict[str, str] = {}
    for path in sorted(fields_read(rule.condition), key=lambda p: p.dotted):
        if path.dotted not in seen:
            seen[path.dotted] = _json(schema, path.parts, refs)
    reads = [f"({name!r}, {code})" for name, code in seen.items()]
    if _uses_now(rule.condition):
        reads.append("('NOW', _js(now))")
        refs.cacheable = False
    values = "(" + "".join(f"{r}, " for r in reads) + ")"
    message = message_source(schema, rule.message, refs)
    return f"_RX({rule.id!r}, {values}, {message})", refs.key()


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
