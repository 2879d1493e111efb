"""The message alone, derived from the hashed generated source.

The generated ``explain(m, now, ...)`` appends one ``_RX(rule_id, values, message)``
per matched rule (``if m & bit: x.append(_RX(...))``) and returns ``(x[0].message if x
else default), tuple(x)``. Readers that want only the message (the service records
it, nothing more) need not build every matched rule's explanation: this rewrites
that function's syntax tree into ``message(m, now, ...)`` returning the first
matched rule's message expression, else the default. Only the hashed source is
read (docs/policy-language.md, Hashes: the bytecode hash still names everything
that runs); a source of any other shape gives None and the caller renders fully.
"""

from __future__ import annotations

import ast
import sys
from types import CodeType
from typing import Any

__all__ = ["message_function"]


def _message_of(stmt: ast.stmt) -> ast.If | None:
    """``if m & bit: x.append(_RX(id, values, MSG))`` → ``if m & bit: return MSG``."""
    if not (isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1):
        return None
    call = stmt.body[0]
    if not (isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)):
        return None
    append = call.value
    if not (
        isinstance(append.func, ast.Attribute)
        and append.func.attr == "append"
        and isinstance(append.func.value, ast.Name)
        and append.func.value.id == "x"
        and len(append.args) == 1
        and isinstance(append.args[0], ast.Call)
    ):
        return None
    rx = append.args[0]
    if not (isinstance(rx.func, ast.Name) and rx.func.id == "_RX" and len(rx.args) == 3):
        return None
    return ast.If(test=stmt.test, body=[ast.Return(rx.args[2])], orelse=[])


def _default_of(stmt: ast.stmt) -> ast.expr | None:
    """``return (x[0].message if x else DEFAULT), tuple(x)`` → DEFAULT."""
    if not (isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Tuple)):
        return None
    first = stmt.value.elts[0] if len(stmt.value.elts) == 2 else None
    if not isinstance(first, ast.IfExp):
        return None
    return first.orelse


def message_function(source: str, filename: str) -> CodeType | None:
    """Code defining ``message`` with ``explain``'s parameters, or None when ``source``'s
    ``explain`` is not of the generated shape."""
    tree = ast.parse(source, filename)
    explain = next(
        (f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "explain"), None
    )
    if explain is None or len(explain.body) < 2:
        return None
    *rules, last = explain.body[1:]  # body[0] is ``x = []``
    ifs = [_message_of(s) for s in rules]
    default = _default_of(last)
    if default is None or any(i is None for i in ifs):
        return None
    body: list[ast.stmt] = [i for i in ifs if i is not None]
    body.append(ast.Return(default))
    # Python 3.12 added FunctionDef.type_params, which compile() requires there.
    extra: dict[str, Any] = {"type_params": []} if sys.version_info >= (3, 12) else {}
    fn = ast.FunctionDef(
        name="message", args=explain.args, body=body, decorator_list=[], returns=None, **extra
    )
    module = ast.fix_missing_locations(ast.Module(body=[fn], type_ignores=[]))
    return compile(module, filename, "exec")
