from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rsrp.canonical import CanonicalError, canonical_bytes, canonical_hash, decimal_text

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=8), st.randoms())
def test_key_order_never_changes_the_hash(d: dict[str, object], rnd: object) -> None:
    items = list(d.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    assert canonical_hash(dict(items)) == canonical_hash(d)  # type: ignore[arg-type]


@given(json_values, json_values)
def test_different_values_hash_differently(a: object, b: object) -> None:
    if a == b:
        # Python says 1 == True; the canonical form may still tell them apart, which is fine.
        return
    assert canonical_bytes(a) != canonical_bytes(b)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, Decimal(1)),
        (1, "1"),
        (1, True),
        (0, False),
        (None, ""),
        ([], {}),
        ([1, 2], [2, 1]),
        ("a", b"a"),
        (dt.timedelta(seconds=1), 1_000_000),
    ],
    ids=repr,
)
def test_type_is_part_of_the_hash(a: object, b: object) -> None:
    assert canonical_hash(a) != canonical_hash(b)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.0"), "0"),
        (Decimal("0.000100"), "0.0001"),
        (Decimal("-12.340"), "-12.34"),
    ],
)
def test_decimal_text(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text


def test_sets_are_order_free_and_deduplicated() -> None:
    assert canonical_bytes({3, 1, 2}) == canonical_bytes(frozenset([2, 3, 1]))


def test_timestamps_equal_instants_hash_equal() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    a = dt.datetime(2026, 1, 1, 13, 0, tzinfo=paris)
    b = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert canonical_hash(a) == canonical_hash(b)


def test_pinned_vector() -> None:
    # Spelled out by hand from docs/canonical-hashing.md §2: a map with one key "a" -> int 1.
    expected = bytes.fromhex("0a00000001" + "0000000161" + "02000000" + "0131")
    assert canonical_bytes({"a": 1}) == expected
    assert (
        canonical_hash({"a": 1}).hex()
        == __import__("hashlib").sha256(b"rsrp-canonical-v1\x00" + expected).hexdigest()
    )


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), Decimal("NaN"), dt.datetime(2026, 1, 1), {1: "x"}, object()],
    ids=["nan", "inf", "decimal-nan", "naive-datetime", "int-key", "object"],
)
def test_values_without_canonical_form_are_rejected(bad: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_bytes(bad)  # type: ignore[arg-type]


def test_depth_limit() -> None:
    v: object = 1
    for _ in range(100):
        v = [v]
    with pytest.raises(CanonicalError, match="deeper"):
        canonical_bytes(v)  # type: ignore[arg-type]
