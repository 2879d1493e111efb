"""Strict parsing of the text forms of typed values (RFC 3339, ISO 8601 durations, decimals)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

__all__ = ["parse_decimal", "parse_duration", "parse_rfc3339"]

# RFC 3339 §5.6 date-time; a time-offset is required (a bare local time is ambiguous).
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DURATION = re.compile(
    r"P(?:([0-9]{1,9})D)?(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,9})(?:\.([0-9]{1,6}))?S)?)?"
)
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,4})?")
_MAX_DECIMAL_TEXT = 100


def parse_rfc3339(text: str) -> dt.datetime:
    """Parse an RFC 3339 §5.6 ``date-time`` (offset required) into an aware datetime.

    Raises ValueError on anything else. Fractions beyond microseconds are truncated.
    """
    n = len(text)
    if (
        ((n == 20 and text[19] == "Z") or (n == 25 and text[19] in "+-" and text[22] == ":"))
        and text[4] == "-"
        and text[7] == "-"
        and text[10] == "T"
        and text[13] == ":"
        and text[16] == ":"
        and text.isascii()
        and (n == 20 or (text[20:22] <= "23" and text[23] <= "5"))
    ):
        # Common shapes (no fraction; Z or ±hh:mm) with every separator in place: the C
        # parser then accepts exactly what the pattern does, since it rejects any
        # non-digit where digits belong; hour and minute offset bounds are checked
        # above because it is laxer there. Several times faster than the regex path.
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass  # the general path below says precisely what is wrong
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise ValueError(f"{text[:40]!r} is not an RFC 3339 date-time with offset")
    year, month, day, hour, minute, second, frac, offset = m.groups()
    micro = int((frac[1:] + "00000")[:6]) if frac else 0
    if offset in ("Z", "z"):
        tz = dt.UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            raise ValueError(f"{text[:40]!r} has an invalid offset")
        tz = dt.timezone(sign * dt.timedelta(hours=oh, minutes=om))
    # datetime() checks the calendar ranges; leap seconds (:60) are rejected.
    return dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
    )


def parse_duration(text: str) -> dt.timedelta:
    """Parse an ISO 8601 duration of the form ``PnDTnHnMn[.f]S``. Raises ValueError."""
    m = _DURATION.fullmatch(text)
    if m is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text[:40]!r} is not an ISO 8601 duration PnDTnHnMnS")
    days, hours, minutes, seconds, frac = m.groups()
    return dt.timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
        microseconds=int((frac + "00000")[:6]) if frac else 0,
    )


def parse_decimal(text: str) -> Decimal:
    """Parse a JSON-number-shaped decimal string exactly. Raises ValueError."""
    if len(text) > _MAX_DECIMAL_TEXT or _DECIMAL.fullmatch(text) is None:
        raise ValueError(f"{text[:40]!r} is not a decimal number")
    try:
        return Decimal(text)
    except InvalidOperation as e:  # pragma: no cover - the pattern admits only valid text
        raise ValueError(f"{text[:40]!r} is not a decimal number") from e
