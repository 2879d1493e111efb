"""The flattened schema model and the conversion of one JSON value to its schema type.

Fields are numbered depth-first in name order; validated inputs are tuples indexed by
that number, so generated code reads locals instead of walking dicts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from rsrp.policy import _ast as a
from rsrp.policy._values import parse_decimal, parse_duration, parse_rfc3339

__all__ = [
    "MAX_INT",
    "FieldSpec",
    "RecordSpec",
    "Schema",
    "build_schema",
    "convert",
    "to_decimal",
    "to_duration",
    "to_int_set",
    "to_string_set",
]

#: |n| < 2^63 for every int (docs/policy-language.md, Schema).
MAX_INT = 1 << 63
_MAX_MEMBER_CHARS = 1024


@dataclass(frozen=True, slots=True)
class FieldSpec:
    index: int
    path: tuple[str, ...]
    type: a.FieldType
    #: The field itself is declared nullable (``type?``).
    nullable: bool
    #: Null when this is nullable or any enclosing record is nullable.
    maybe_null: bool
    span: a.Span

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class RecordSpec:
    index: int
    path: tuple[str, ...]
    nullable: bool
    maybe_null: bool
    #: Member names → FieldSpec or RecordSpec, in declaration order.
    members: tuple[FieldSpec | RecordSpec, ...]
    span: a.Span

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(m.path[-1] for m in self.members)


@dataclass(frozen=True, slots=True)
class Schema:
    #: The root record (path ``()``, never null).
    root: RecordSpec
    fields: tuple[FieldSpec, ...]
    records: tuple[RecordSpec, ...]
    by_path: dict[tuple[str, ...], FieldSpec | RecordSpec]

    def lookup(self, path: tuple[str, ...]) -> FieldSpec | RecordSpec | None:
        return self.by_path.get(path)


def build_schema(decls: tuple[a.FieldDecl | a.RecordDecl, ...]) -> Schema:
    """Number fields and records depth-first in name order. Requires unique names."""
    fields: list[FieldSpec] = []
    records: list[RecordSpec] = []

    def walk(
        members: tuple[a.FieldDecl | a.RecordDecl, ...], prefix: tuple[str, ...], null: bool
    ) -> tuple[FieldSpec | RecordSpec, ...]:
        out: list[FieldSpec | RecordSpec] = []
        # Sorted by name: numbering, generated code and hashes ignore declaration order.
        for m in sorted(members, key=lambda m: m.name):
            path = (*prefix, m.name)
            if isinstance(m, a.FieldDecl):
                spec = FieldSpec(len(fields), path, m.type, m.nullable, null or m.nullable, m.span)
                fields.append(spec)
                out.append(spec)
            else:
                index = len(records)
                records.append(RecordSpec(0, (), False, False, (), m.span))  # placeholder
                inner = walk(m.members, path, null or m.nullable)
                rec = RecordSpec(index, path, m.nullable, null or m.nullable, inner, m.span)
                records[index] = rec
                out.append(rec)
        return tuple(out)

    top = walk(decls, (), False)
    root = RecordSpec(-1, (), False, False, top, a.Span(1, 1, 1, 2))
    by_path: dict[tuple[str, ...], FieldSpec | RecordSpec] = {}
    specs: list[FieldSpec | RecordSpec] = [*fields, *records]
    for spec in specs:
        by_path.setdefault(spec.path, spec)
    return Schema(root, tuple(fields), tuple(records), by_path)


def _int(v: object) -> int:
    if type(v) is not int:
        raise ValueError(f"expected an integer, got {_kind(v)}")
    if not -MAX_INT < v < MAX_INT:
        raise ValueError("integer out of range (|n| < 2^63)")
    return v


def _kind(v: object) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "an integer", str: "a string", list: "an array"}.get(
        type(v), "an object" if isinstance(v, dict) else type(v).__name__
    )


def _decimal(v: object) -> Decimal:
    if type(v) is Decimal:
        d = v
    elif type(v) is int:
        d = Decimal(v)
    elif type(v) is float:
        if not math.isfinite(v):
            raise ValueError("expected a finite number")
        d = Decimal(repr(v))  # repr is the shortest round-trip spelling: 0.1 → Decimal("0.1")
    elif type(v) is str:
        d = parse_decimal(v)
    else:
        raise ValueError(f"expected a decimal number, got {_kind(v)}")
    if not d.is_finite():
        raise ValueError("expected a finite number")
    if abs(d.adjusted()) > 1000:
        raise ValueError("decimal exponent out of range")
    return d


def _timestamp(v: object) -> dt.datetime:
    if type(v) is str:
        return parse_rfc3339(v)
    if isinstance(v, dt.datetime) and v.utcoffset() is not None:
        return v
    raise ValueError(f"expected an RFC 3339 timestamp string, got {_kind(v)}")


def _duration(v: object) -> dt.timedelta:
    if type(v) is str:
        return parse_duration(v)
    if type(v) is int:
        if not -MAX_INT < v < MAX_INT:
            raise ValueError("duration out of range")
        return dt.timedelta(milliseconds=v)
    if isinstance(v, dt.timedelta):
        return v
    raise ValueError(f"expected an ISO 8601 duration or integer milliseconds, got {_kind(v)}")


def _members(v: object, limit: int) -> list[object] | tuple[object, ...] | frozenset[object]:
    if not isinstance(v, list | tuple | set | frozenset):
        raise ValueError(f"expected an array, got {_kind(v)}")
    if len(v) > limit:
        raise ValueError(f"array has {len(v)} elements (limit {limit})")
    return v if isinstance(v, list | tuple) else frozenset(v)


def _string_set(v: object, limit: int) -> frozenset[str]:
    out: set[str] = set()
    for m in _members(v, limit):
        if type(m) is not str:
            raise ValueError(f"expected strings in the array, got {_kind(m)}")
        if len(m) > _MAX_MEMBER_CHARS:
            raise ValueError(f"array member longer than {_MAX_MEMBER_CHARS} characters")
        out.add(m)
    return frozenset(out)


def convert(t: a.FieldType, v: object) -> object:
    """``v`` (not None) as the runtime value of type ``t``. Raises ValueError with a reason."""
    kind = t.kind
    if kind == "string" or kind == "enum":
        if type(v) is not str:
            raise ValueError(f"expected a string, got {_kind(v)}")
        if kind == "enum" and v not in t.members:
            raise ValueError(f"{v[:40]!r} is not one of {', '.join(t.members)}")
        if t.limit is not None and len(v) > t.limit:
            raise ValueError(f"string has {len(v)} characters (limit {t.limit})")
        return v
    if kind == "int":
        return _int(v)
    if kind == "bool":
        if type(v) is not bool:
            raise ValueError(f"expected a boolean, got {_kind(v)}")
        return v
    if kind == "decimal":
        return _decimal(v)
    if kind == "timestamp":
        return _timestamp(v)
    if kind == "duration":
        return _duration(v)
    assert t.limit is not None
    if kind == "set<string>":
        return _string_set(v, t.limit)
    return frozenset(_int(m) for m in _members(v, t.limit))


# Converters with a uniform (value, limit) signature, called by the generated validator.


def to_decimal(v: object, _limit: int | None) -> Decimal:
    return _decimal(v)


def to_duration(v: object, _limit: int | None) -> dt.timedelta:
    return _duration(v)


def to_string_set(v: object, limit: int) -> frozenset[str]:
    return _string_set(v, limit)


def to_int_set(v: object, limit: int) -> frozenset[int]:
    return frozenset(_int(m) for m in _members(v, limit))
