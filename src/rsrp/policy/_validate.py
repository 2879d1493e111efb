"""The reference input validator: walks the schema, collects every problem.

The compiled engine validates with generated code and falls back to this
walker only to explain a rejection, so both must agree (tests check they do).
"""

from __future__ import annotations

from rsrp.canonical import CanonicalValue
from rsrp.policy._errors import InputValidationError
from rsrp.policy._schema import RecordSpec, Schema, convert

__all__ = ["nested", "validate"]


def validate(schema: Schema, data: object) -> tuple[tuple[object, ...], tuple[bool, ...]]:
    """Field values (schema order) and record presence flags, or InputValidationError."""
    problems: list[tuple[str, str]] = []
    values: list[object] = [None] * len(schema.fields)
    present = [False] * len(schema.records)

    def walk(rec: RecordSpec, obj: object) -> None:
        where = rec.dotted or "input"
        if not isinstance(obj, dict):
            problems.append((where, "expected an object"))
            return
        names = rec.names
        for key in obj:
            if key not in names:
                shown = f"{where}.{key}" if rec.path else str(key)
                problems.append((shown[:200], "unknown field"))
        for m in rec.members:
            v = obj.get(m.path[-1])
            if v is None:
                if not m.nullable:
                    problems.append((m.dotted, "missing or null (field is not nullable)"))
            elif isinstance(m, RecordSpec):
                present[m.index] = True
                walk(m, v)
            else:
                try:
                    values[m.index] = convert(m.type, v)
                except (ValueError, OverflowError, TypeError) as e:
                    problems.append((m.dotted, str(e)))

    walk(schema.root, data)
    if problems:
        raise InputValidationError(tuple(problems))
    return tuple(values), tuple(present)


def nested(
    schema: Schema, values: tuple[object, ...], present: tuple[bool, ...]
) -> dict[str, CanonicalValue]:
    """The validated input as a nested dict: every field present, null records as None."""

    def build(rec: RecordSpec) -> dict[str, CanonicalValue]:
        out: dict[str, CanonicalValue] = {}
        for m in rec.members:
            if isinstance(m, RecordSpec):
                out[m.path[-1]] = build(m) if present[m.index] else None
            else:
                out[m.path[-1]] = values[m.index]  # type: ignore[assignment]
        return out

    return build(schema.root)
