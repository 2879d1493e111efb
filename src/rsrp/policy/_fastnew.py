"""Faster constructors for the frozen dataclasses built on every decision.

A frozen dataclass's ``__init__`` assigns each field through
``object.__setattr__``; calling the slot descriptors directly builds the same
object in about half the time, which matters at a few microseconds per
decision. Used only while the class has no ``__post_init__`` (then nothing is
skipped); tests check the result equals the regular constructor's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from rsrp.policy.decision import Decision, RuleExplanation

__all__ = ["fast_constructor", "make_decision", "make_explanation"]

T = TypeVar("T")


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """``make(*required_fields)`` building ``cls`` with defaults for the other fields."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or "__slots__" not in cls.__dict__:
        return cls
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    ns: dict[str, Any] = {"_new": object.__new__, "_C": cls}
    lines = [f"def make({', '.join(required)}):", "    d = _new(_C)"]
    for f in fields:
        ns[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        value = f.name
        if f.name not in required:
            ns[f"_default_{f.name}"] = f.default
            value = f"_default_{f.name}"
        lines.append(f"    _set_{f.name}(d, {value})")
    lines.append("    return d")
    exec("\n".join(lines), ns)  # noqa: S102 - fixed text built from the class's own fields
    made: Callable[..., T] = ns["make"]
    return made


#: ``make_decision(outcome, code, ..., evaluated_at)``: the required fields, positionally.
make_decision = fast_constructor(Decision)
#: ``make_explanation(rule_id, values, message)``.
make_explanation = fast_constructor(RuleExplanation)
