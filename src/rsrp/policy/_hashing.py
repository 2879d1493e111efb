"""policy_hash and bytecode_hash (docs/policy-language.md, Hashes).

policy_hash = canonical_hash of a tagged tree of the AST: spans, comments,
whitespace, the file name and the order of rules and schema members are left
out, so only a change of meaning changes the hash. bytecode_hash =
canonical_hash of the generated source text and its named constants.
"""

from __future__ import annotations

from rsrp.canonical import CanonicalValue, canonical_hash
from rsrp.policy import _ast as a

__all__ = ["bytecode_hash", "policy_hash"]


def _expr(e: a.Expr) -> CanonicalValue:
    if isinstance(e, a.Path):
        return ["path", list(e.parts)]
    if isinstance(e, a.Literal):
        return ["lit", e.kind, e.value]
    if isinstance(e, a.ListLit):
        return ["list", [_expr(x) for x in e.items]]
    if isinstance(e, a.Now):
        return ["now"]
    if isinstance(e, a.Call):
        return ["call", e.func, [_expr(x) for x in e.args]]
    if isinstance(e, a.Compare):
        return ["cmp", e.op, _expr(e.left), _expr(e.right)]
    if isinstance(e, a.In):
        return ["in", e.negated, _expr(e.item), _expr(e.container)]
    if isinstance(e, a.Between):
        return ["between", e.negated, _expr(e.operand), _expr(e.low), _expr(e.high)]
    if isinstance(e, a.IsNull):
        return ["isnull", e.negated, _expr(e.operand)]
    if isinstance(e, a.Matches):
        return ["matches", _expr(e.operand), e.pattern]
    if isinstance(e, a.Not):
        return ["not", _expr(e.operand)]
    tag = "and" if isinstance(e, a.And) else "or"
    return [tag, [_expr(x) for x in e.operands]]


def _member(m: a.FieldDecl | a.RecordDecl) -> CanonicalValue:
    if isinstance(m, a.RecordDecl):
        return ["record", m.nullable, {x.name: _member(x) for x in m.members}]
    t = m.type
    return ["field", t.kind, t.limit, set(t.members), m.nullable]


def policy_tree(bundle: a.Bundle) -> CanonicalValue:
    """The tagged tree that policy_hash covers."""
    rules = sorted(bundle.rules, key=lambda r: r.id)
    return {
        "format": "rsrp-policy-ast-v1",
        "bundle": bundle.id,
        "version": bundle.version,
        "jurisdiction": bundle.jurisdiction,
        "default": [bundle.default_outcome.name, bundle.default_code, bundle.default_message],
        "schema": {m.name: _member(m) for m in bundle.schema},
        "rules": [
            {
                "id": r.id,
                "version": r.version,
                "severity": r.severity.name,
                "when": _expr(r.condition),
                "then": r.outcome.name,
                "code": r.code,
                "message": r.message,
            }
            for r in rules
        ],
    }


def policy_hash(bundle: a.Bundle) -> bytes:
    return canonical_hash(policy_tree(bundle))


def bytecode_hash(source: str, constants: list[object]) -> bytes:
    """Hash of the compiled form: generated source (UTF-8) and its tagged constants."""
    return canonical_hash(["rsrp-policy-code-v1", source, constants])  # type: ignore[list-item]
