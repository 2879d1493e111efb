"""One test per construct, NULL semantics, fail-closed paths and hostile regex input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from policy_bundles import bundle, rule

from rsrp.policy import EVALUATION_ERROR, Engine, Outcome

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
SCHEMA = """
x {
  n: int?  m: int  d: decimal?  s: string(10000)?  e: enum(A, B)?  b: bool?
  t: timestamp?  du: duration?  tags: set<string>?  ids: set<int>?  tz: string(64)?
}
rec? { v: int }
"""


def matches(when: str, **fields: Any) -> bool:
    """Does a single BLOCK rule with condition ``when`` match input x=fields?"""
    engine = Engine.from_text(bundle(SCHEMA, rule("R", when), default="ALLOW"))
    data: dict[str, Any] = {"x": {"m": 0, **fields}}
    if "rec" in fields:
        data["rec"] = fields.pop("rec")
        data["x"] = {"m": 0, **fields}
    d = engine.decide(data, now=NOW)
    assert d.error is None, d.error
    return d.outcome is Outcome.BLOCK


@pytest.mark.parametrize(
    ("when", "fields", "expected"),
    [
        ("x.n = 3", {"n": 3}, True),
        ("x.n != 3", {"n": 3}, False),
        ("x.n < 3", {"n": 2}, True),
        ("x.n <= 3", {"n": 3}, True),
        ("x.n > 3", {"n": 3}, False),
        ("x.n >= -7", {"n": -7}, True),
        ("x.d = 1.50", {"d": Decimal("1.5")}, True),
        ("x.d > 1", {"d": 1.0000001}, True),
        ("x.n = 2.0", {"n": 2}, True),
        ("x.s = 'a\\'b'", {"s": "a'b"}, True),
        ("x.s < 'b'", {"s": "a"}, True),
        ("x.e = 'A'", {"e": "A"}, True),
        ("x.b", {"b": True}, True),
        ("x.b = FALSE", {"b": False}, True),
        ("x.t < NOW", {"t": "2026-03-01T10:29:59+01:00"}, True),
        ("x.t = TIMESTAMP '2026-03-01T09:30:00Z'", {"t": "2026-03-01T10:30:00+01:00"}, True),
        ("x.du > 1h", {"du": "PT1H0.5S"}, True),
        ("x.du = 1500ms", {"du": 1500}, True),
        ("x.du = 2d", {"du": "P2D"}, True),
        ("x.n IN [1, 2]", {"n": 2}, True),
        ("x.n NOT IN [1, 2]", {"n": 2}, False),
        ("'a' IN x.tags", {"tags": ["a", "b", "a"]}, True),
        ("x.m NOT IN x.ids", {"ids": [1]}, True),
        ("x.n BETWEEN 1 AND 3", {"n": 3}, True),
        ("x.n NOT BETWEEN 1 AND 3", {"n": 4}, True),
        ("LENGTH(x.s) = 3", {"s": "été"}, True),
        ("LENGTH(x.tags) = 2", {"tags": ["a", "b", "a"]}, True),
        ("STARTS_WITH(x.s, 'FR')", {"s": "FR76"}, True),
        ("x.s MATCHES '^FR\\d{2}$'", {"s": "FR76"}, True),
        ("x.s MATCHES 'z'", {"s": "FR76"}, False),
        ("HOUR(x.t, 'Europe/Paris') = 10", {"t": "2026-03-01T09:30:00Z"}, True),
        ("HOUR(x.t, x.tz) = 18", {"t": "2026-03-01T09:30:00Z", "tz": "Asia/Tokyo"}, True),
        ("WEEKDAY(x.t, 'UTC') = 7", {"t": "2026-03-01T09:30:00Z"}, True),
        ("NOT x.n = 1 AND (x.m = 0 OR FALSE)", {"n": 2}, True),
        ("rec IS NULL", {"rec": None}, True),
        ("rec.v = 1", {"rec": {"v": 1}}, True),
    ],
)
def test_construct(when: str, fields: dict[str, Any], expected: bool) -> None:
    assert matches(when, **fields) is expected


@pytest.mark.parametrize(
    "when",
    [
        "x.n = 1",
        "x.n != 1",
        "x.n < 1",
        "x.n IN [1]",
        "x.n NOT IN [1]",
        "x.n BETWEEN 0 AND 2",
        "x.n NOT BETWEEN 0 AND 2",
        "x.m IN x.ids",
        "x.m NOT IN x.ids",
        "STARTS_WITH(x.s, 'a')",
        "x.s MATCHES '.*'",
        "LENGTH(x.s) >= 0",
        "HOUR(x.t, 'UTC') >= 0",
        "x.b",
        "rec.v = 1",
        "x.n IS NOT NULL",
    ],
)
def test_null_makes_predicates_false(when: str) -> None:
    assert matches(when, rec=None) is False
    # NOT negates the false: NULL then matches (the documented two-valued logic).
    assert matches(f"NOT ({when})", rec=None) is True


def test_is_null_true_for_null_and_absent() -> None:
    assert matches("x.n IS NULL", n=None)
    assert matches("x.n IS NULL")
    assert matches("LENGTH(x.s) IS NULL")
    assert not matches("x.m IS NULL")


def _decide(when: str, x: dict[str, Any]) -> Any:
    engine = Engine.from_text(bundle(SCHEMA, rule("R", when), default="ALLOW"))
    return engine.decide({"x": {"m": 0, **x}}, now=NOW)


def test_unknown_time_zone_fails_closed() -> None:
    d = _decide("HOUR(x.t, x.tz) = 1", {"t": "2026-03-01T09:30:00Z", "tz": "Nowhere/City"})
    assert (d.outcome, d.code) == (Outcome.BLOCK, EVALUATION_ERROR)
    assert d.error is not None and "unknown time zone" in d.error
    assert "unknown time zone" in d.explanation[0].values[0][1]


@pytest.mark.parametrize(
    ("x", "fragment"),
    [
        ({"m": "1"}, "x.m: expected an integer, got a string"),
        ({"m": True}, "x.m: expected an integer, got a boolean"),
        ({"m": 1.0}, "x.m: expected an integer"),
        ({"m": 1 << 63}, "x.m: integer out of range"),
        ({"e": "C"}, "x.e: 'C' is not one of A, B"),
        ({"s": "a" * 10001}, "x.s: string has 10001 characters (limit 10000)"),
        ({"tags": ["a"] * 257}, "x.tags: array has 257 elements (limit 256)"),
        ({"tags": [1]}, "x.tags: expected strings"),
        ({"ids": [True]}, "x.ids: expected an integer, got a boolean"),
        ({"t": "2026-03-01 09:30:00"}, "x.t: '2026-03-01 09:30:00' is not an RFC 3339"),
        ({"t": "2026-02-30T09:30:00Z"}, "x.t: day is out of range"),
        ({"du": "1 hour"}, "x.du: '1 hour' is not an ISO 8601 duration"),
        ({"d": "NaN"}, "x.d: 'NaN' is not a decimal number"),
        ({"d": float("inf")}, "x.d: expected a finite number"),
        ({"b": 1}, "x.b: expected a boolean"),
        ({"zz": 1}, "x.zz: unknown field"),
    ],
)
def test_invalid_values_fail_closed_naming_the_field(x: dict[str, Any], fragment: str) -> None:
    d = _decide("x.m = 0", {**x} if "m" in x else x)
    assert (d.outcome, d.code) == (Outcome.BLOCK, EVALUATION_ERROR)
    assert d.error is not None and fragment in d.error, d.error


def test_every_offending_field_is_listed() -> None:
    engine = Engine.from_text(bundle(SCHEMA, rule("R", "x.m = 0"), default="ALLOW"))
    bad: dict[str, Any] = {"x": {"m": "no", "e": "Z", "b": "yes", "extra": 1}, "rec": {}, "top": 2}
    d = engine.decide(bad, now=NOW)
    assert d.error is not None
    for fragment in (
        "x.m:",
        "x.e:",
        "x.b:",
        "x.extra: unknown field",
        "rec.v: missing",
        "top: unknown",
    ):
        assert fragment in d.error


@pytest.mark.parametrize("data", [None, [], "x", 1, {"x": None}, {"x": []}, {1: 2}])
def test_hostile_shapes_fail_closed(data: Any) -> None:
    engine = Engine.from_text(bundle(SCHEMA, rule("R", "x.m = 0"), default="ALLOW"))
    assert engine.decide(data, now=NOW).code == EVALUATION_ERROR


def test_lone_surrogate_fails_closed() -> None:
    d = _decide("x.m = 0", {"s": "\ud800"})
    assert d.code == EVALUATION_ERROR


@pytest.mark.timeout(5)
def test_redos_pattern_runs_in_linear_time() -> None:
    d = _decide("x.s MATCHES '(a+)+$'", {"s": "a" * 5000 + "b"})
    assert d.error is None
    assert d.outcome is Outcome.ALLOW  # the string ends in b: no match, default ALLOW


def test_explanations_follow_each_input() -> None:
    text = bundle(
        SCHEMA,
        "RULE T VERSION 1.0.0 SEVERITY LOW WHEN x.t IS NOT NULL"
        ' THEN BLOCK CODE C MESSAGE "at {x.t}"',
        "RULE N VERSION 1.0.0 SEVERITY LOW WHEN x.m >= 0"
        ' THEN WARN CODE W MESSAGE "m={x.m} d={x.d}"',
        default="ALLOW",
    )
    engine = Engine.from_text(text)
    utc = engine.decide({"x": {"m": 1, "t": "2026-03-01T09:30:00Z", "d": "1.50"}}, now=NOW)
    paris = engine.decide({"x": {"m": 1, "t": "2026-03-01T10:30:00+01:00", "d": 1.5}}, now=NOW)
    assert utc.message == "at 2026-03-01T09:30:00Z"
    assert paris.message == "at 2026-03-01T10:30:00+01:00"
    assert utc.explanation[1] == paris.explanation[1]  # same values, same text
    assert utc.explanation[1].message == "m=1 d=1.5"
    other = engine.decide({"x": {"m": 2, "t": "2026-03-01T09:30:00Z"}}, now=NOW)
    assert other.explanation[1].message == "m=2 d=null"
