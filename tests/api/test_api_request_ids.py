"""request_ids: batch-made request ids are RFC 9562 version-4 UUIDs in canonical text."""

from __future__ import annotations

import uuid

from rsrp.api._batch import request_ids


def test_request_ids_are_distinct_canonical_v4_uuids() -> None:
    ids = request_ids(4096)
    assert len(set(ids)) == 4096
    for text in ids:
        u = uuid.UUID(text)
        assert u.version == 4
        assert u.variant == uuid.RFC_4122
        assert str(u) == text  # lowercase, dashed: the form uuid4() gives


def test_request_ids_randomise_every_other_bit() -> None:
    # Each of the 122 random bits must take both values across a batch; only the
    # version and variant bits are fixed.
    ints = [uuid.UUID(t).int for t in request_ids(512)]
    ones = 0
    zeros = 0
    for v in ints:
        ones |= v
        zeros |= ~v
    fixed = (0xF << 76) | (0x3 << 62)
    assert (ones & zeros) & ((1 << 128) - 1) == ((1 << 128) - 1) & ~fixed


def test_request_ids_of_an_empty_batch() -> None:
    assert request_ids(0) == []
