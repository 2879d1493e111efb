"""Parser: the AST it builds, positioned syntax errors, hostile and mutated text."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_bundles import SMALL, bundle, rule

from rsrp.errors import PolicyError
from rsrp.policy import PolicySyntaxError, parse
from rsrp.policy import _ast as a
from rsrp.policy._parser import MAX_DEPTH, MAX_SOURCE_BYTES
from rsrp.policy.decision import Outcome, Severity


def cond(when: str) -> a.Expr:
    return parse(bundle("x { n: int s: string t: timestamp }", rule("R", when))).rules[0].condition


def test_header_schema_and_rules() -> None:
    b = parse(SMALL, "small.rsrp")
    assert (b.id, b.version, b.jurisdiction) == ("bank-registry", "1.0.0", "FR")
    assert (b.default_outcome, b.default_code) == (Outcome.BLOCK, "NO_RULE_MATCHED")
    assert b.default_message == "No rule grants this access"
    mission = next(m for m in b.schema if m.name == "mission")
    assert isinstance(mission, a.RecordDecl) and mission.nullable
    request = next(m for m in b.schema if m.name == "request")
    assert isinstance(request, a.RecordDecl)
    just = next(m for m in request.members if m.name == "justification")
    assert isinstance(just, a.FieldDecl) and just.nullable
    assert just.type == a.FieldType("string", 2000)
    r = b.rules[0]
    assert (r.id, r.version, r.severity, r.outcome, r.code) == (
        "CRUE_001",
        "1.2.0",
        Severity.HIGH,
        Outcome.BLOCK,
        "VOLUME_EXCEEDED",
    )
    assert r.condition == a.Compare(
        ">=",
        a.Path(("counters", "requests_1h"), a.Span(29, 8, 29, 28)),
        a.Literal("int", 50, a.Span(29, 32, 29, 34)),
        a.Span(29, 8, 29, 34),
    )


def test_precedence_or_and_not() -> None:
    c = cond("x.n = 1 OR NOT x.n = 2 AND x.n = 3")
    assert isinstance(c, a.Or)
    assert isinstance(c.operands[1], a.And)
    assert isinstance(c.operands[1].operands[0], a.Not)


def test_literals() -> None:
    c = cond("x.t < TIMESTAMP '2026-01-01T01:00:00+01:00' AND x.n IN [1, -7] AND 1.50 > 2ms")
    assert isinstance(c, a.And)
    ts = c.operands[0]
    assert isinstance(ts, a.Compare) and isinstance(ts.right, a.Literal)
    assert ts.right.value == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lst = c.operands[1]
    assert isinstance(lst, a.In) and isinstance(lst.container, a.ListLit)
    assert [x.value for x in lst.container.items] == [1, -7]
    cmp = c.operands[2]
    assert isinstance(cmp, a.Compare) and isinstance(cmp.left, a.Literal)
    assert cmp.left.value == Decimal("1.50")
    assert isinstance(cmp.right, a.Literal) and cmp.right.value == dt.timedelta(milliseconds=2)


def test_string_escapes_and_regex_backslashes() -> None:
    c = cond("x.s = 'a\\'b\\\\c\\n' OR x.s MATCHES '^FR\\d+'")
    assert isinstance(c, a.Or)
    eq, m = c.operands
    assert isinstance(eq, a.Compare) and isinstance(eq.right, a.Literal)
    assert eq.right.value == "a'b\\c\n"
    assert isinstance(m, a.Matches) and m.pattern == "^FR\\d+"


@pytest.mark.parametrize(
    ("when", "at", "fragment"),
    [
        ("x.n >> 1", "> 1", "unexpected '>'"),
        # THEN lexes as a field name where an operand is expected; BLOCK is then wrong.
        ("x.n =", "BLOCK", "unexpected 'BLOCK'"),
        ("x.n = 99999999999999999999", "9999", "integer literal out of range"),
        ("x.t < TIMESTAMP '2026-13-01T00:00:00Z'", "TIMESTAMP", "month must be in 1..12"),
        ("x.t < TIMESTAMP 'yesterday'", "TIMESTAMP", "is not an RFC 3339"),
        ("x.n = 1 @", "@", "unexpected character '@'"),
    ],
)
def test_syntax_errors_have_position_and_caret(when: str, at: str, fragment: str) -> None:
    text = bundle("x { n: int s: string t: timestamp }", rule("R", when))
    line_text = text.splitlines()[2]
    col = line_text.index(at) + 1
    with pytest.raises(PolicySyntaxError) as info:
        parse(text, "f.rsrp")
    e = info.value
    assert (e.span.line, e.span.col) == (3, col), str(e)
    assert fragment in str(e)
    assert str(e).startswith(f"f.rsrp:3:{col}: syntax error")
    caret_line = str(e).splitlines()[-1]
    assert caret_line.index("^") == col - 1 + 2  # two spaces of indent


def test_unexpected_end_of_input() -> None:
    with pytest.raises(PolicySyntaxError, match="unexpected end of input"):
        parse("BUNDLE x VERSION 1.0.0 JURISDICTION FR DEFAULT BLOCK SCHEMA {", "f")


def test_oversized_input_rejected_before_parsing() -> None:
    with pytest.raises(PolicySyntaxError, match="larger than"):
        parse("#" * (MAX_SOURCE_BYTES + 1))


def test_nesting_depth_is_capped() -> None:
    deep = "NOT " * (MAX_DEPTH + 5) + "x.n = 1"
    with pytest.raises(PolicySyntaxError, match="nesting deeper"):
        parse(bundle("x { n: int }", rule("R", deep)))
    # Parentheses do not build tree levels, so they are bounded only by the size cap.
    parens = "(" * 20_000 + "x.n = 1" + ")" * 20_000
    assert parse(bundle("x { n: int }", rule("R", parens))).rules[0].id == "R"


def test_syntax_error_is_a_policy_error() -> None:
    assert issubclass(PolicySyntaxError, PolicyError)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text_raises_only_policy_syntax_error(text: str) -> None:
    with contextlib.suppress(PolicySyntaxError):
        parse(text)


_TOKENS = [
    "BUNDLE",
    "VERSION",
    "1.0.0",
    "JURISDICTION",
    "FR",
    "DEFAULT",
    "BLOCK",
    "ALLOW",
    "SCHEMA",
    "{",
    "}",
    "x",
    "n",
    ":",
    "int",
    "string(3)",
    "?",
    "RULE",
    "R",
    "SEVERITY",
    "LOW",
    "WHEN",
    "THEN",
    "CODE",
    "C",
    "MESSAGE",
    '"m {x.n}"',
    "x.n",
    "=",
    "1",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    "IN",
    "[",
    "]",
    ",",
    "'a'",
    "BETWEEN",
    "IS",
    "NULL",
    "MATCHES",
    "HOUR",
    "NOW",
    "1.5",
    "5m",
    "TIMESTAMP",
    "'2026-01-01T00:00:00Z'",
    "#c\n",
    "\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=60))
def test_random_token_soup_raises_only_policy_syntax_error(tokens: list[str]) -> None:
    with contextlib.suppress(PolicySyntaxError):
        parse(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_bundle_raises_only_policy_syntax_error(data: st.DataObject) -> None:
    """Truncation, byte flips, prefix/suffix garbage and swapped lines of a valid bundle."""
    text = SMALL
    kind = data.draw(st.sampled_from(["truncate", "flip", "prefix", "suffix", "swap"]))
    if kind == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif kind == "flip":
        i = data.draw(st.integers(0, len(text) - 1))
        text = text[:i] + chr(ord(text[i]) ^ data.draw(st.integers(1, 127))) + text[i + 1 :]
    elif kind == "prefix":
        text = data.draw(st.text(min_size=1, max_size=20)) + text
    elif kind == "suffix":
        text = text + data.draw(st.text(min_size=1, max_size=20))
    else:
        lines = text.splitlines()
        i, j = data.draw(st.integers(0, len(lines) - 1)), data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        text = "\n".join(lines)
    with contextlib.suppress(PolicySyntaxError):
        parse(text)


def test_deepest_accepted_bundle_also_compiles() -> None:
    """Every nesting the parser accepts must hash and compile (no other error type)."""
    from rsrp.policy import Engine

    accepted = 0
    for n in range(MAX_DEPTH + 1):
        text = bundle("x { n: int }", rule("R", "NOT " * n + "(x.n = 1 OR x.n IN [1])"))
        try:
            engine = Engine.from_text(text)
        except PolicySyntaxError:
            break
        accepted = n
        assert engine.rules[0].id == "R"
    assert accepted > 30
