"""Helpers the generated code calls: typed encoders, time zones, value rendering."""

from __future__ import annotations

import datetime as dt
import json
import struct
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rsrp.canonical import decimal_text
from rsrp.policy._errors import PolicyEvaluationError
from rsrp.policy._values import parse_rfc3339

__all__ = [
    "HDR",
    "SET_CACHE",
    "STR_CACHE",
    "ZONES",
    "between",
    "enc_decimal",
    "enc_duration",
    "enc_int",
    "enc_int_set",
    "enc_set",
    "enc_set_cached",
    "enc_str",
    "enc_str_cached",
    "json_string",
    "json_text",
    "message_text",
    "timestamp_entry",
    "zone",
]

#: tag u8 + u32 length (docs/canonical-hashing.md §2).
HDR = struct.Struct(">BI").pack
_TS = struct.Struct(">Bq").pack
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
# The C encoder behind json.dumps(ensure_ascii=False) for one string.
json_string: Callable[[str], str] = json.encoder.encode_basestring
_TS_CACHE: dict[object, tuple[dt.datetime, bytes]] = {}
_TS_CACHE_MAX = 4096


def enc_int(v: int) -> bytes:
    s = b"%d" % v
    return HDR(0x02, len(s)) + s


def enc_str(v: str) -> bytes:
    s = v.encode("utf-8")
    return HDR(0x04, len(s)) + s


def enc_decimal(v: Decimal) -> bytes:
    s = decimal_text(v).encode("ascii")
    return HDR(0x03, len(s)) + s


def enc_duration(v: dt.timedelta) -> bytes:
    return _TS(0x07, v // _US)


_SMALL_INTS = {i: enc_int(i) for i in range(1024)}

#: Canonical encodings of recently seen strings and sets, by value. Bounded: the
#: cache is emptied when full, so hostile inputs cost time, never memory.
STR_CACHE: dict[str, bytes] = {}
SET_CACHE: dict[frozenset[Any], bytes] = {}
_ENC_CACHE_MAX = 4096


def enc_str_cached(v: str) -> bytes:
    out = enc_str(v)
    if len(STR_CACHE) >= _ENC_CACHE_MAX:
        STR_CACHE.clear()
    STR_CACHE[v] = out
    return out


def enc_set_cached(v: frozenset[Any]) -> bytes:
    out = enc_set(v)
    if len(SET_CACHE) >= _ENC_CACHE_MAX:
        SET_CACHE.clear()
    SET_CACHE[v] = out
    return out


_EMPTY_SET = HDR(0x09, 0)


def enc_int_set(v: frozenset[int]) -> bytes:
    """A set<int>, uncached: department-like sets rarely repeat, and hashing a fresh
    frozenset for a cache lookup costs about as much as encoding it from the table."""
    if not v:
        return _EMPTY_SET
    try:  # the common case, small numbers: every member's encoding from the table
        small = sorted(map(_SMALL_INTS.__getitem__, v))
    except KeyError:
        return enc_set(v)
    return HDR(0x09, len(small)) + b"".join(small)


def enc_set(v: frozenset[str] | frozenset[int]) -> bytes:
    get = _SMALL_INTS.get
    members = sorted([get(m) or (enc_str(m) if type(m) is str else enc_int(m)) for m in v])  # type: ignore[arg-type]
    return HDR(0x09, len(members)) + b"".join(members)


def timestamp_entry(raw: object) -> tuple[dt.datetime, bytes]:
    """Validated timestamp and its canonical encoding, cached by the raw input value."""
    if type(raw) is str:
        value = parse_rfc3339(raw)
    elif isinstance(raw, dt.datetime) and raw.utcoffset() is not None:
        value = raw
    else:
        raise ValueError("not a timestamp")
    entry = (value, _TS(0x06, (value - _EPOCH) // _US))
    if len(_TS_CACHE) >= _TS_CACHE_MAX:
        _TS_CACHE.clear()  # bounded: hostile inputs cannot grow it without limit
    _TS_CACHE[raw] = entry
    return entry


ts_cache_get = _TS_CACHE.get


#: Loaded zones by name; generated code reads it directly. Only valid names are
#: added, and there are a few hundred of them, so it stays small.
ZONES: dict[str, zoneinfo.ZoneInfo] = {}


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name``; raises PolicyEvaluationError (so the decision fails closed)."""
    found = ZONES.get(name)
    if found is not None:
        return found
    if len(name) > 64:
        raise PolicyEvaluationError("time zone name longer than 64 characters")
    try:
        found = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise PolicyEvaluationError(f"unknown time zone {name[:64]!r}") from e
    ZONES[name] = found
    return found


def between(lo: Any, x: Any, hi: Any) -> bool:
    """``lo <= x <= hi`` with all three already evaluated."""
    return bool(lo <= x <= hi)


def _duration_text(v: dt.timedelta) -> str:
    micros = v // _US
    sign = "-" if micros < 0 else ""
    seconds, frac = divmod(abs(micros), 1_000_000)
    tail = f".{frac:06d}".rstrip("0") if frac else ""
    return f"{sign}PT{seconds}{tail}S"


_TEXT_CACHE: dict[tuple[dt.datetime, object], str] = {}


def _timestamp_text(v: dt.datetime) -> str:
    # isoformat() costs ~1 us; the same instant in the same zone always prints the
    # same, so (instant, tzinfo) is a safe key. Bounded like the parse cache.
    key = (v, v.tzinfo)
    text = _TEXT_CACHE.get(key)
    if text is None:
        text = v.isoformat().replace("+00:00", "Z")
        if len(_TEXT_CACHE) >= _TS_CACHE_MAX:
            _TEXT_CACHE.clear()
        _TEXT_CACHE[key] = text
    return text


def _set_text(v: frozenset[object]) -> str:
    members = sorted(v)  # type: ignore[type-var]
    if members and type(members[0]) is str:
        return "[" + ", ".join(map(json_string, members)) + "]"  # type: ignore[arg-type]
    return "[" + ", ".join(map(str, members)) + "]"


# One renderer per runtime type (exact types: validated values are never subclasses,
# except datetimes handed in by a caller, which take the isinstance path below).
_JSON: dict[type, Callable[[Any], str]] = {
    type(None): lambda v: "null",
    bool: lambda v: "true" if v else "false",
    int: str,
    str: json_string,
    Decimal: decimal_text,
    dt.datetime: lambda v: '"' + _timestamp_text(v) + '"',
    dt.timedelta: lambda v: '"' + _duration_text(v) + '"',
    frozenset: _set_text,
}


def json_text(v: object) -> str:
    """A validated value as JSON text, for explanations (sets sorted, decimals exact)."""
    render = _JSON.get(type(v))
    if render is not None:
        return render(v)
    if isinstance(v, dt.datetime):
        return '"' + _timestamp_text(v) + '"'
    raise TypeError(f"no JSON text for {type(v).__name__}")


def message_text(v: object) -> str:
    """A value as interpolated into a rule message: strings bare, the rest as JSON text."""
    if type(v) is str:
        return v
    if isinstance(v, dt.datetime):
        return _timestamp_text(v)
    if isinstance(v, dt.timedelta):
        return _duration_text(v)
    return json_text(v)
