"""``parse_rfc3339``'s fast path accepts and rejects exactly what the RFC 3339 pattern does."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.policy._values import _RFC3339, parse_rfc3339

BASES = [
    "2026-05-14T09:37:00Z",
    "2026-05-14T09:37:00+02:00",
    "2026-12-31T23:59:59-23:59",
    "2026-02-28T00:00:00+00:00",
]
ALPHABET = "0123456789-:TZz+ .tx\u0663_\u00e9"


def reference(text: str) -> dt.datetime:
    """RFC 3339 §5.6 by the pattern alone (the general path of parse_rfc3339)."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, frac, offset = m.groups()
    micro = int((frac[1:] + "00000")[:6]) if frac else 0
    tz = dt.UTC
    if offset not in ("Z", "z"):
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            raise ValueError(text)
        sign = -1 if offset[0] == "-" else 1
        tz = dt.timezone(sign * dt.timedelta(hours=oh, minutes=om))
    return dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
    )


def _outcome(parse: object, text: str) -> tuple[object, ...]:
    try:
        value = parse(text)  # type: ignore[operator]
    except ValueError:
        return ("error",)
    return ("ok", value, value.utcoffset())


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(BASES),
    st.lists(st.tuples(st.integers(0, 24), st.sampled_from(ALPHABET)), min_size=1, max_size=3),
)
def test_fast_path_agrees_with_the_pattern(base: str, edits: list[tuple[int, str]]) -> None:
    chars = list(base)
    for at, c in edits:
        chars[at % len(chars)] = c
    text = "".join(chars)
    assert _outcome(parse_rfc3339, text) == _outcome(reference, text)


def test_fast_path_shapes() -> None:
    assert parse_rfc3339("2026-05-14T09:37:00Z") == dt.datetime(2026, 5, 14, 9, 37, tzinfo=dt.UTC)
    for bad in ("2026-05-14T09:37:00+24:00", "2026-05-14T09:37:00+02:60", "2026-02-30T00:00:00Z"):
        assert _outcome(parse_rfc3339, bad) == ("error",)
