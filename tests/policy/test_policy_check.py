"""Static checks: every error and warning kind, all collected, and the engine refusing errors."""

from __future__ import annotations

import pytest
from policy_bundles import bundle, rule

from rsrp.policy import Engine, PolicyCheckError, check, parse

SCHEMA = """
x { n: int  m: int?  d: decimal  s: string  st: enum(A, B)  b: bool  t: timestamp
    du: duration  tags: set<string>  ids: set<int>  tz: string? }
rec? { v: int }
"""


def findings(*rules: str, schema: str = SCHEMA) -> list[tuple[str, str]]:
    return [(d.severity, d.message) for d in check(parse(bundle(schema, *rules), "f.rsrp"))]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("x.nope = 1", "unknown field 'x.nope'"),
        ("x.n = 's'", "cannot compare int with string"),
        ("x.t > 5", "cannot compare timestamp with int"),
        ("x.du > x.n", "cannot compare duration with int"),
        ("x.st = 'C'", "'C' is not a member of enum(A, B)"),
        ("x.st IN ['A', 'Z']", "'Z' is not a member of enum(A, B)"),
        ("x.st < 'A'", "enum values compare only with = and !="),
        ("x.b < TRUE", "bool values compare only with = and !="),
        ("x.tags = x.tags", "sets cannot be compared"),
        ("rec = 1", "a record can only be tested with IS [NOT] NULL"),
        ("x.n", "condition must be a boolean, not int"),
        ("x.n AND x.b", "expected a boolean operand, got int"),
        ("LENGTH(x.n) > 1", "LENGTH needs a string or a set, got int"),
        ("HOUR(x.s, 'UTC') = 1", "HOUR needs a timestamp, got string"),
        ("HOUR(x.t, 'Mars/Base') = 1", "unknown IANA time zone 'Mars/Base'"),
        ("HOUR(x.t, x.n) = 1", "HOUR time zone needs a string, got int"),
        ("STARTS_WITH(x.n, 'a')", "STARTS_WITH needs a string, got int"),
        ("x.n MATCHES 'a'", "MATCHES needs a string, got int"),
        ("x.s MATCHES '(unclosed'", "regex does not compile under RE2"),
        ("x.s MATCHES '(a)\\1'", "regex does not compile under RE2"),
        (f"x.s MATCHES '{'a' * 257}'", "regex longer than 256 characters"),
        ("x.s IN x.ids", "cannot compare string with int"),
        ("x.s IN x.n", "IN needs a list literal or a set field, got int"),
        ("x.n BETWEEN 's' AND 2", "cannot compare string with int"),
    ],
)
def test_error(when: str, message: str) -> None:
    found = findings(rule("R", when))
    assert any(sev == "error" and message in m for sev, m in found), found


def test_all_errors_collected_with_positions() -> None:
    text = bundle(SCHEMA, rule("A", "x.nope = 1"), rule("B", "x.n = 's' OR x.st = 'Q'"))
    diags = check(parse(text, "f.rsrp"))
    assert [d.severity for d in diags] == ["error"] * 3
    assert [d.rule_id for d in diags] == ["A", "B", "B"]
    first = diags[0].render(text)
    assert first.startswith("f.rsrp:7:41:") and "unknown field 'x.nope'" in first
    assert first.splitlines()[-1].strip() == "^" * len("x.nope")


def test_duplicate_rule_and_field() -> None:
    found = findings(rule("R", "x.n = 1"), rule("R", "x.n = 2"), schema="x { n: int n: int }")
    assert ("error", "duplicate rule id 'R'") in found
    assert ("error", "field declared twice in the same record") in found


def test_message_templates() -> None:
    text = bundle(
        SCHEMA,
        'RULE R VERSION 1.0.0 SEVERITY LOW WHEN x.n = 1 THEN BLOCK CODE C MESSAGE "{x.nope} {rec}"',
        'RULE S VERSION 1.0.0 SEVERITY LOW WHEN x.n = 1 THEN BLOCK CODE C MESSAGE "oops {"',
        'RULE T VERSION 1.0.0 SEVERITY LOW WHEN x.n = 1 THEN BLOCK CODE C MESSAGE "{{ok}} {x.n}"',
    )
    found = [(d.severity, d.message) for d in check(parse(text))]
    assert ("error", "message interpolates an unknown field: {x.nope}") in found
    assert ("error", "message interpolates a record: {rec}") in found
    assert any("bad message template: stray '{'" in m for _, m in found)
    assert len(found) == 3


@pytest.mark.parametrize(
    "when",
    [
        "x.n > 5 AND x.n < 3",
        "x.n >= 5 AND x.n < 5",
        "5 < x.n AND x.n <= 5",
        "x.st = 'A' AND x.st = 'B'",
        "x.s = 'a' AND x.s != 'a'",
        "x.n IN [1, 2] AND x.n = 3",
        "x.n IN [1, 2] AND x.n NOT IN [1, 2]",
        "x.n BETWEEN 10 AND 1",
        "x.d > 2.5 AND x.d < 2",
        "x.t > TIMESTAMP '2026-01-02T00:00:00Z' AND x.t < TIMESTAMP '2026-01-01T00:00:00Z'",
        "x.b = TRUE AND (x.n > 1 AND x.n < 0)",
        "FALSE AND x.n = 1",
    ],
)
def test_never_matching_rules_warn(when: str) -> None:
    found = findings(rule("R", when))
    assert found == [("warning", "rule R can never match (contradictory conditions)")], found


@pytest.mark.parametrize(
    "when",
    [
        "x.n > 3 AND x.n < 5",
        "x.n >= 5 AND x.n <= 5",
        "x.n > 5 OR x.n < 3",
        "x.st = 'A' AND x.s = 'B'",
        "x.n = 1 AND x.d = 1.0",
        "NOT (x.n > 5 AND x.n < 3)",
    ],
)
def test_satisfiable_rules_do_not_warn(when: str) -> None:
    assert findings(rule("R", when)) == []


@pytest.mark.parametrize(
    "blocker",
    ["TRUE", "NOT FALSE", "x.n IS NOT NULL", "x.m IS NULL OR x.m IS NOT NULL", "x.n = 1 OR TRUE"],
)
def test_unconditional_block_shadows_allow(blocker: str) -> None:
    found = findings(rule("ALL", blocker), rule("OK", "x.n = 1", outcome="ALLOW"))
    assert ("warning", "ALLOW rule OK is unreachable: BLOCK ALL always matches") in found


def test_conditional_block_does_not_shadow() -> None:
    assert findings(rule("B", "x.m IS NULL"), rule("OK", "x.n = 1", outcome="ALLOW")) == []


def test_allow_negating_nullable_field_warns() -> None:
    found = findings(rule("OK", "NOT (x.m > 3)", outcome="ALLOW"))
    assert found == [("warning", "ALLOW rule negates a test on nullable x.m: NULL makes it match")]


def test_engine_refuses_errors_but_accepts_warnings() -> None:
    with pytest.raises(PolicyCheckError) as info:
        Engine.from_text(bundle(SCHEMA, rule("R", "x.nope = 1")), "f.rsrp")
    assert "f.rsrp:7:41:" in str(info.value) and "unknown field" in str(info.value)
    assert len(info.value.diagnostics) == 1
    engine = Engine.from_text(bundle(SCHEMA, rule("R", "x.n > 5 AND x.n < 3")))
    assert [d.severity for d in engine.diagnostics] == ["warning"]


def test_default_message_fields_are_checked_where_written() -> None:
    text = (
        "BUNDLE t VERSION 1.0.0 JURISDICTION FR\n"
        'DEFAULT BLOCK MESSAGE "no {x.zz}"\n'
        "SCHEMA { x { n: int } }\n"
    )
    diags = check(parse(text, "f.rsrp"))
    assert [(d.span.line, d.message) for d in diags] == [
        (2, "message interpolates an unknown field: {x.zz}")
    ]
