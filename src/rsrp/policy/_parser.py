"""Text → :class:`~rsrp.policy._ast.Bundle` with the packaged LALR grammar (grammar.lark)."""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
from decimal import Decimal

import lark
from lark import Token, Tree

from rsrp.policy import _ast as a
from rsrp.policy._errors import PolicySyntaxError
from rsrp.policy._values import parse_rfc3339
from rsrp.policy.decision import Outcome, Severity

__all__ = ["MAX_DEPTH", "MAX_SOURCE_BYTES", "parse"]

#: Largest bundle accepted, in UTF-8 bytes.
MAX_SOURCE_BYTES = 1 << 20
#: Deepest syntax tree accepted (parentheses and NOT nest); keeps recursion bounded.
MAX_DEPTH = 48
_MAX_INT = 1 << 63
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_UNITS = {
    "ms": dt.timedelta(milliseconds=1),
    "s": dt.timedelta(seconds=1),
    "m": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
}
_READABLE = {
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COMMA": "','",
    "DOT": "'.'",
    "COLON": "':'",
    "COMPOP": "a comparison",
    "NAME": "a name",
    "IDENT": "an identifier",
    "CODE": "an upper-case code",
    "SEMVER": "a semantic version",
    "STRING": "a string",
}


@functools.cache
def _parser() -> lark.Lark:
    grammar = importlib.resources.files("rsrp.policy").joinpath("grammar.lark").read_text("utf-8")
    return lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _span_of(node: Tree[Token] | Token) -> a.Span:
    if isinstance(node, Token):
        return a.Span(node.line or 1, node.column or 1, node.end_line or 1, node.end_column or 1)
    m = node.meta
    if m.empty:
        return a.Span(1, 1, 1, 2)
    return a.Span(m.line, m.column, m.end_line, m.end_column)


class _FailError(Exception):
    def __init__(self, message: str, span: a.Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


def unescape(body: str) -> str:
    """Resolve ``\\\\ \\' \\" \\n \\t``; any other backslash pair is kept as written."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _string(tok: Token) -> str:
    return unescape(str(tok)[1:-1])


def _check_depth(tree: Tree[Token]) -> None:
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _FailError(f"nesting deeper than {MAX_DEPTH} levels", _span_of(node))
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))


def _literal(t: Tree[Token]) -> a.Literal:
    span = _span_of(t)
    tok = t.children[-1]
    assert isinstance(tok, Token)
    text = str(tok)
    kind = str(t.data)
    if kind == "string":
        return a.Literal("string", _string(tok), span)
    if kind == "int_":
        value = int(text)
        if not -_MAX_INT < value < _MAX_INT:
            raise _FailError("integer literal out of range (|n| < 2^63)", span)
        return a.Literal("int", value, span)
    if kind == "decimal":
        return a.Literal("decimal", Decimal(text), span)
    if kind in ("true", "false"):
        return a.Literal("bool", kind == "true", span)
    if kind == "duration":
        unit = text.lstrip("0123456789")
        count = int(text[: len(text) - len(unit)])
        try:
            return a.Literal("duration", count * _UNITS[unit], span)
        except OverflowError as e:
            raise _FailError("duration literal out of range", span) from e
    try:
        return a.Literal("timestamp", parse_rfc3339(_string(tok)), span)
    except (ValueError, OverflowError) as e:
        raise _FailError(str(e), span) from e


def _expr(t: Tree[Token] | Token) -> a.Expr:
    if isinstance(t, Token):  # pragma: no cover - the grammar wraps every token
        raise _FailError(f"unexpected {t!s}", _span_of(t))
    kind = str(t.data)
    span = _span_of(t)
    ch = t.children
    if kind == "path":
        return a.Path(tuple(str(c) for c in ch), span)
    if kind in ("string", "int_", "decimal", "true", "false", "duration", "timestamp"):
        return _literal(t)
    if kind == "list":
        items = tuple(_literal(c) for c in ch if isinstance(c, Tree))
        return a.ListLit(items, span)
    if kind == "now":
        return a.Now(span)
    if kind == "call":
        return a.Call(str(ch[0]), tuple(_expr(c) for c in ch[1:]), span)
    if kind == "compare":
        return a.Compare(str(ch[1]), _expr(ch[0]), _expr(ch[2]), span)
    if kind in ("in_", "not_in"):
        container = _expr(ch[1])
        assert isinstance(container, a.ListLit | a.Path)
        return a.In(kind == "not_in", _expr(ch[0]), container, span)
    if kind in ("between", "not_between"):
        return a.Between(kind == "not_between", _expr(ch[0]), _expr(ch[1]), _expr(ch[2]), span)
    if kind in ("is_null", "is_not_null"):
        return a.IsNull(kind == "is_not_null", _expr(ch[0]), span)
    if kind == "matches":
        pat = ch[1]
        assert isinstance(pat, Token)
        return a.Matches(_expr(ch[0]), _string(pat), span, _span_of(pat))
    if kind == "not_":
        return a.Not(_expr(ch[0]), span)
    if kind == "and_expr":
        return a.And(tuple(_expr(c) for c in ch), span)
    if kind == "or_expr":
        return a.Or(tuple(_expr(c) for c in ch), span)
    raise AssertionError(f"unhandled grammar node {kind}")  # pragma: no cover


def _type(t: Tree[Token]) -> a.FieldType:
    kind = str(t.data)[2:].replace("set_", "set<") + (">" if "set_" in str(t.data) else "")
    if kind == "enum":
        members = tuple(str(c) for c in t.children[1:])
        if len(set(members)) != len(members):
            raise _FailError("enum lists a member twice", _span_of(t))
        return a.FieldType("enum", None, members)
    limit_tok = t.children[-1] if kind in ("string", "set<string>", "set<int>") else None
    if kind in ("string", "set<string>", "set<int>"):
        default = 1024 if kind == "string" else 256
        limit = int(limit_tok) if isinstance(limit_tok, Token) else default
        if not 0 < limit <= 1 << 20:
            raise _FailError("size limit must be between 1 and 1048576", _span_of(t))
        return a.FieldType(kind, limit)
    return a.FieldType(kind)


def _member(t: Tree[Token]) -> a.FieldDecl | a.RecordDecl:
    name = str(t.children[0])
    if t.data == "field":
        type_tree = t.children[1]
        assert isinstance(type_tree, Tree)
        return a.FieldDecl(name, _type(type_tree), t.children[2] is not None, _span_of(t))
    nullable = t.children[1] is not None
    members = tuple(_member(c) for c in t.children[2:] if isinstance(c, Tree))
    return a.RecordDecl(name, nullable, members, _span_of(t))


def _rule(t: Tree[Token]) -> a.Rule:
    rid, version, severity, cond, outcome, code, message = t.children
    assert isinstance(cond, Tree | Token) and isinstance(rid, Token)
    return a.Rule(
        id=str(rid),
        version=str(version),
        severity=Severity[str(severity)],
        condition=_expr(cond),
        outcome=Outcome[str(outcome)],
        code=str(code),
        message=_string(message) if isinstance(message, Token) else "",
        span=_span_of(t),
        id_span=_span_of(rid),
        message_span=_span_of(message) if isinstance(message, Token) else None,
    )


def _bundle(tree: Tree[Token], filename: str, text: str) -> a.Bundle:
    header, schema, *rules = tree.children
    assert isinstance(header, Tree) and isinstance(schema, Tree)
    bid, version, jurisdiction, default = header.children
    assert isinstance(default, Tree)
    outcome, code, message = default.children
    return a.Bundle(
        id=str(bid),
        version=str(version),
        jurisdiction=str(jurisdiction),
        default_outcome=Outcome[str(outcome)],
        default_code=str(code) if code is not None else "NO_RULE_MATCHED",
        default_message=_string(message) if isinstance(message, Token) else "",
        schema=tuple(_member(c) for c in schema.children if isinstance(c, Tree)),
        rules=tuple(_rule(r) for r in rules if isinstance(r, Tree)),
        filename=filename,
        source=text,
        default_span=_span_of(message) if isinstance(message, Token) else _span_of(default),
    )


def _describe(e: lark.exceptions.UnexpectedInput, text: str) -> tuple[str, a.Span]:
    line = e.line if e.line and e.line > 0 else text.count("\n") + 1
    col = e.column if e.column and e.column > 0 else len(text.rsplit("\n", 1)[-1]) + 1
    names = getattr(e, "expected", None) or ()
    expected = sorted(_READABLE.get(x, x.lstrip("_")) for x in names)
    hint = f"; expected {', '.join(expected[:8])}" if expected else ""
    if isinstance(e, lark.exceptions.UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            return f"unexpected end of input{hint}", a.Span(line, col, line, col + 1)
        width = max(1, len(str(tok).split("\n", 1)[0]))
        return f"unexpected {str(tok)[:40]!r}{hint}", a.Span(line, col, line, col + width)
    if isinstance(e, lark.exceptions.UnexpectedCharacters):
        return f"unexpected character {e.char!r}{hint}", a.Span(line, col, line, col + 1)
    return f"unexpected end of input{hint}", a.Span(line, col, line, col + 1)


def parse(text: str, filename: str = "<policy>") -> a.Bundle:
    """Parse a bundle (docs/policy-language.md). Raises PolicySyntaxError, only."""
    if (
        len(text) > MAX_SOURCE_BYTES
        or len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES
    ):
        raise PolicySyntaxError(
            f"bundle larger than {MAX_SOURCE_BYTES} bytes", filename, a.Span(1, 1, 1, 2), ""
        )
    try:
        tree = _parser().parse(text)
        _check_depth(tree)
        return _bundle(tree, filename, text)
    except lark.exceptions.UnexpectedInput as e:
        message, span = _describe(e, text)
        raise PolicySyntaxError(message, filename, span, text) from None
    except _FailError as e:
        raise PolicySyntaxError(e.message, filename, e.span, text) from None
