"""Random schemas (nesting, nullability, every type) with inputs drawn from them: the
generated validator accepts them and hashes them exactly like rsrp.canonical."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.canonical import canonical_hash
from rsrp.policy import Engine

NOW = "2026-03-01T09:30:00Z"
NAMES = ["a", "b", "end", "class", "None", "x_1", "Zed", "k"]
TYPES: dict[str, st.SearchStrategy[Any]] = {
    "string(5)": st.text(max_size=5),
    "int": st.integers(-(2**63) + 1, 2**63 - 1),
    "decimal": st.one_of(
        st.decimals(
            allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000
        ),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.integers(-5, 5),
    ),
    "bool": st.booleans(),
    "timestamp": st.sampled_from(["2026-03-01T09:30:00Z", "1999-12-31T23:59:59.999999-05:30"]),
    "duration": st.one_of(st.integers(-(10**6), 10**6), st.sampled_from(["PT0S", "P3DT4H5M6.5S"])),
    "enum(A, B)": st.sampled_from(["A", "B"]),
    "set<string>(3)": st.lists(st.text(max_size=3), max_size=3),
    "set<int>(3)": st.lists(st.integers(-2000, 2000), max_size=3),
}

Member = tuple[str, bool, Any]  # (name, nullable, type text | list of members)

members_st: st.SearchStrategy[list[Member]] = st.recursive(
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.booleans(), st.sampled_from(sorted(TYPES))),
        max_size=4,
        unique_by=lambda m: m[0],
    ),
    lambda inner: st.lists(
        st.one_of(
            st.tuples(st.sampled_from(NAMES), st.booleans(), st.sampled_from(sorted(TYPES))),
            st.tuples(st.sampled_from(NAMES), st.booleans(), inner),
        ),
        max_size=4,
        unique_by=lambda m: m[0],
    ),
    max_leaves=10,
)


def render(members: list[Member]) -> str:
    out = []
    for name, nullable, kind in members:
        mark = "?" if nullable else ""
        if isinstance(kind, list):
            out.append(f"{name}{mark} {{ {render(kind)} }}")
        else:
            out.append(f"{name}: {kind}{mark}")
    return " ".join(out)


def value_for(members: list[Member], draw: st.DrawFn) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for name, nullable, kind in members:
        if nullable and draw(st.booleans()):
            if draw(st.booleans()):
                obj[name] = None
            continue
        obj[name] = value_for(kind, draw) if isinstance(kind, list) else draw(TYPES[kind])
    return obj


@st.composite
def schema_and_input(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    members = draw(members_st)
    return render(members), value_for(members, draw)


@settings(max_examples=150, deadline=None)
@given(schema_and_input())
def test_random_schema_inputs_validate_and_hash_canonically(
    case: tuple[str, dict[str, Any]],
) -> None:
    schema, data = case
    text = f"BUNDLE s VERSION 1.0.0 JURISDICTION FR DEFAULT ALLOW\nSCHEMA {{ {schema} }}\n"
    text += "RULE R VERSION 1.0.0 SEVERITY LOW WHEN TRUE THEN WARN CODE W\n"
    engine = Engine.from_text(text)
    d = engine.decide(data, now=NOW)
    assert d.error is None, (schema, data, d.error)
    assert d.input_hash == canonical_hash(engine.validate(data))  # type: ignore[arg-type]
