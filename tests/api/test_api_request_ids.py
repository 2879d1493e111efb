"""Request ids are UUIDv7 (RFC 9562 section 5.7): time-ordered, 74 random bits."""

from __future__ import annotations

import time
import uuid

from rsrp.api._store import request_ids


def test_api_request_ids_are_uuidv7_with_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = request_ids(300)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 300
    for text in ids:
        u = uuid.UUID(text)
        assert str(u) == text  # canonical lower-case 8-4-4-4-12 form
        assert u.version == 7 and u.variant == uuid.RFC_4122
        assert before <= u.int >> 80 <= after  # unix_ts_ms, the top 48 bits


def test_api_request_ids_grow_with_time_and_vary_in_every_random_field() -> None:
    first = request_ids(1)[0]
    time.sleep(0.002)
    later = request_ids(200)
    assert all(first < i for i in later)  # a later millisecond sorts after, as text too
    ints = [uuid.UUID(i).int for i in later]
    rand_a = {(n >> 64) & 0xFFF for n in ints}
    var_bits = {(n >> 60) & 0x3 for n in ints}  # the 2 random bits under the variant
    rand_b = {n & ((1 << 62) - 1) for n in ints}
    assert len(rand_a) > 100 and var_bits == {0, 1, 2, 3} and len(rand_b) == 200
    assert request_ids(0) == []
