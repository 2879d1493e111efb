"""Property tests: the compiled engine agrees with the tree-walking oracle, is
deterministic, ignores rule order, and hashes inputs exactly like rsrp.canonical."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import policy_oracle as oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rsrp.canonical import canonical_hash
from rsrp.policy import EVALUATION_ERROR, Engine, parse

SCHEMA = """
r {
  i: int?
  j: int
  d: decimal?
  s: string(8)?
  e: enum(A, B, C)?
  b: bool?
  t: timestamp?
  du: duration?
  ss: set<string>(4)?
  si: set<int>(4)?
}
o? { k: int  z: string(32) }
"""

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
TIMES = ["2026-03-01T02:30:00Z", "2026-03-01T09:30:00+01:00", "2026-02-28T23:59:59.5-05:00"]
ZONES = ["Europe/Paris", "UTC", "Asia/Kolkata", "Mars/Olympus"]  # the last is unknown

ints = st.sampled_from(
    [
        "r.i",
        "r.j",
        "o.k",
        "LENGTH(r.s)",
        "LENGTH(r.ss)",
        "HOUR(r.t, 'Europe/Paris')",
        "WEEKDAY(r.t, 'UTC')",
        "HOUR(r.t, o.z)",
        "-3",
        "0",
        "2",
        "7",
    ]
)
nums = st.one_of(ints, st.sampled_from(["r.d", "1.5", "-0.25", "2.0"]))
ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
strs = st.sampled_from(["r.s", "'ab'", "'b'", "''", "o.z"])


def atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda x, op, y: f"{x} {op} {y}", nums, ops, nums),
        st.builds(lambda x, op, y: f"{x} {op} {y}", strs, ops, strs),
        st.builds(
            lambda x, lo, hi, n: f"{x} {'NOT ' if n else ''}BETWEEN {lo} AND {hi}",
            nums,
            nums,
            nums,
            st.booleans(),
        ),
        st.sampled_from(
            [
                "r.e = 'A'",
                "r.e != 'B'",
                "r.e IN ['A', 'C']",
                "r.e NOT IN ['C']",
                "r.b",
                "r.b = TRUE",
                "r.b != FALSE",
                "r.t < NOW",
                "r.t >= TIMESTAMP '2026-03-01T08:00:00Z'",
                "r.du > 5m",
                "r.du <= 1500ms",
                "'x' IN r.ss",
                "'y' NOT IN r.ss",
                "r.i IN r.si",
                "r.j NOT IN r.si",
                "r.i IN [1, 2, 3]",
                "r.d IN [1.5, 2]",
                "STARTS_WITH(r.s, 'a')",
                "r.s MATCHES 'a+b?$'",
                "r.s MATCHES '^b'",
                "r.i IS NULL",
                "r.s IS NOT NULL",
                "o IS NULL",
                "o IS NOT NULL",
                "LENGTH(r.s) IS NULL",
                "TRUE",
                "FALSE",
                "r.t BETWEEN TIMESTAMP '2026-03-01T00:00:00Z' AND NOW",
            ]
        ),
    )


conditions = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        st.builds(lambda x: f"NOT ({x})", inner),
        st.builds(lambda x, y: f"({x}) AND ({y})", inner, inner),
        st.builds(lambda x, y: f"({x}) OR ({y})", inner, inner),
    ),
    max_leaves=6,
)
OUTCOMES = ["ALLOW", "BLOCK", "WARN", "APPROVAL_REQUIRED"]
SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
rules_st = st.lists(
    st.tuples(conditions, st.sampled_from(OUTCOMES), st.sampled_from(SEVERITIES)),
    min_size=1,
    max_size=6,
)


def bundle_text(rules: list[tuple[str, str, str]], order: list[int] | None = None) -> str:
    texts = [
        f"RULE R{i} VERSION 1.0.{i} SEVERITY {sev} WHEN {cond} "
        f'THEN {out} CODE C{i} MESSAGE "r{i} {{r.j}}"'
        for i, (cond, out, sev) in enumerate(rules)
    ]
    if order is not None:
        texts = [texts[i] for i in order]
    head = "BUNDLE p VERSION 1.0.0 JURISDICTION FR DEFAULT BLOCK CODE NONE_MATCHED\n"
    return head + f"SCHEMA {{ {SCHEMA} }}\n" + "\n".join(texts) + "\n"


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


decimals = st.one_of(
    st.decimals(min_value=-5, max_value=5, places=2, allow_nan=False),
    st.sampled_from([1.5, -0.25, 2.0, 0.1]),
    st.integers(-3, 3),
)
record_r = st.fixed_dictionaries(
    {
        "i": maybe(st.integers(-3, 8)),
        "j": st.integers(-3, 8),
        "d": maybe(decimals),
        "s": maybe(st.text("ab", max_size=4)),
        "e": maybe(st.sampled_from(["A", "B", "C"])),
        "b": maybe(st.booleans()),
        "t": maybe(st.sampled_from(TIMES)),
        "du": maybe(
            st.one_of(st.integers(0, 400_000), st.sampled_from(["PT1.5S", "PT5M", "P1DT2H"]))
        ),
        "ss": maybe(st.lists(st.sampled_from(["x", "y", "z"]), max_size=4)),
        "si": maybe(st.lists(st.integers(-3, 8), max_size=4)),
    }
)
inputs = st.fixed_dictionaries(
    {
        "r": record_r,
        "o": maybe(st.fixed_dictionaries({"k": st.integers(-3, 8), "z": st.sampled_from(ZONES)})),
    }
)


def _engine_view(engine: Engine, data: Any) -> tuple[str, str, list[str]]:
    d = engine.decide(data, now=NOW)
    matched = [m.rule_id for m in d.matched]
    # Explanations render on first read: each matched rule explained, in order.
    if d.error is None:
        assert [x.rule_id for x in d.explanation] == matched
        assert d.message == (d.explanation[0].message if matched else engine.bundle.default_message)
    return d.outcome.name, d.code, matched


def _oracle_view(text: str, engine: Engine, data: Any) -> tuple[str, str, list[str]]:
    try:
        validated = engine.validate(data)
        outcome, code, matched = oracle.decide(parse(text), validated, NOW)
    except oracle.OracleError:
        return "BLOCK", EVALUATION_ERROR, []
    return outcome.name, code, matched


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_st, st.lists(inputs, min_size=1, max_size=8))
def test_engine_agrees_with_oracle(rules: list[tuple[str, str, str]], data: list[Any]) -> None:
    text = bundle_text(rules)
    engine = Engine.from_text(text)
    for x in data:
        assert _engine_view(engine, x) == _oracle_view(text, engine, x), x


@settings(max_examples=60, deadline=None)
@given(rules_st, st.lists(inputs, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_rule_order_never_changes_anything(
    rules: list[tuple[str, str, str]], data: list[Any], rnd: random.Random
) -> None:
    order = list(range(len(rules)))
    rnd.shuffle(order)
    first, shuffled = (
        Engine.from_text(bundle_text(rules)),
        Engine.from_text(bundle_text(rules, order)),
    )
    assert first.policy_hash == shuffled.policy_hash
    assert first.bytecode_hash == shuffled.bytecode_hash
    for x in data:
        a, b = first.decide(x, now=NOW), shuffled.decide(x, now=NOW)
        assert a == b


@settings(max_examples=200, deadline=None)
@given(inputs)
def test_generated_input_hash_equals_canonical(data: Any) -> None:
    engine = _fixed_engine()
    d = engine.decide(data, now=NOW)
    assert d.error is None
    assert d.input_hash == canonical_hash(engine.validate(data))  # type: ignore[arg-type]
    # Deterministic: the same input decides to the same value again.
    assert engine.decide(data, now=NOW) == d


@settings(max_examples=100, deadline=None)
@given(inputs)
def test_generated_validator_agrees_with_reference(data: Any) -> None:
    """Both validators accept valid inputs with equal values; after corrupting one
    field both reject (the engine fails closed, the walker names the field)."""
    engine = _fixed_engine()
    assert engine.validate(data)["r"]["j"] == data["r"]["j"]  # type: ignore[index]
    data["r"]["j"] = True  # bool is not an int
    d = engine.decide(data, now=NOW)
    assert d.code == EVALUATION_ERROR and d.error is not None and "r.j" in d.error


_ENGINE: list[Engine] = []


def _fixed_engine() -> Engine:
    if not _ENGINE:
        _ENGINE.append(Engine.from_text(bundle_text([("r.j > 1", "ALLOW", "LOW")])))
    return _ENGINE[0]


def test_decimal_float_and_exact_inputs_hash_alike() -> None:
    engine = _fixed_engine()
    base: dict[str, Any] = {"r": {"j": 1, "d": Decimal("0.10")}, "o": None}
    as_float: dict[str, Any] = {"r": {"j": 1, "d": 0.1}, "o": None}
    assert engine.decide(base, now=NOW).input_hash == engine.decide(as_float, now=NOW).input_hash


ANY_OPERAND = st.sampled_from(
    [
        "r.i",
        "r.d",
        "r.s",
        "r.e",
        "r.b",
        "r.t",
        "r.du",
        "r.ss",
        "r.si",
        "o",
        "o.z",
        "NOW",
        "1",
        "1.5",
        "'A'",
        "TRUE",
        "5m",
        "TIMESTAMP '2026-01-01T00:00:00Z'",
        "LENGTH(r.s)",
        "LENGTH(r.i)",
        "HOUR(r.t, o.z)",
        "HOUR(r.s, 'UTC')",
        "WEEKDAY(NOW, 'Nowhere/X')",
        "STARTS_WITH(r.s, r.e)",
        "r.nope",
        "(r.i = 1)",
    ]
)
untyped_atoms = st.one_of(
    st.builds(lambda x, op, y: f"{x} {op} {y}", ANY_OPERAND, ops, ANY_OPERAND),
    st.builds(
        lambda x, y: f"{x} IN {y}",
        ANY_OPERAND,
        st.sampled_from(["r.ss", "r.si", "r.i", "[1, 'a']", "['A']"]),
    ),
    st.builds(lambda x, y, z: f"{x} BETWEEN {y} AND {z}", ANY_OPERAND, ANY_OPERAND, ANY_OPERAND),
    st.builds(lambda x: f"{x} IS NULL", ANY_OPERAND),
    st.builds(lambda x: f"{x} MATCHES '(a|b'", ANY_OPERAND),
    ANY_OPERAND,
)
untyped = st.recursive(
    untyped_atoms,
    lambda inner: st.one_of(
        st.builds(lambda x: f"NOT {x}", inner),
        st.builds(lambda x, y: f"({x} AND {y})", inner, inner),
        st.builds(lambda x, y: f"({x} OR {y})", inner, inner),
    ),
    max_leaves=4,
)


@settings(max_examples=300, deadline=None)
@given(untyped, inputs)
def test_ill_typed_rules_are_rejected_by_checks_never_crash(when: str, data: Any) -> None:
    from rsrp.errors import PolicyError

    try:
        engine = Engine.from_text(bundle_text([(when, "BLOCK", "LOW")]))
    except PolicyError:
        return
    d = engine.decide(data, now=NOW)  # never raises; may fail closed
    assert d.outcome.name in OUTCOMES
