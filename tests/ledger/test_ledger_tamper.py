"""Tampering done directly in the database (SQLite and PostgreSQL) is caught, precisely.

Each case alters the tables the way an operator with database access could, then audits
with the log's public key only, and checks the message and the first bad index.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from tests.ledger.ledger_signed import ORIGIN, SignedLog, fill_and_sign
from tests.ledger.ledger_sql import run_sql

from rsrp.ledger import Log, TamperError, audit, hash_leaf, verifier_from_vkey
from rsrp.ledger._checkpoint_audit import checkpoint_note_verifier

SIZES = [10, 20, 40]


_sql = run_sql


def _audit(url: str, signed: SignedLog, trusted: list[tuple[int, bytes]] | None = None) -> None:
    with Log.open(url) as log:
        audit(
            log.backend,
            verify_note=checkpoint_note_verifier(ORIGIN, [verifier_from_vkey(signed.vkey)]),
            trusted=trusted or [],
        )


def _change(url: str, s: SignedLog) -> None:
    _sql(url, ("UPDATE entries SET data = ? WHERE idx = 13", (b"evil",)))


def _change_with_hash(url: str, s: SignedLog) -> None:
    _sql(
        url, ("UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = 13", (b"e", hash_leaf(b"e")))
    )


def _rewrite_everything(url: str, s: SignedLog) -> None:
    # The strongest operator: rewrites entry 13 and recomputes every leaf, node and the head.
    with Log.open(url) as log:
        data = [e.data for e in log.backend.read_entries(0, 100)]
    data[13] = b"rewritten"
    _sql(url, ("DELETE FROM entries", ()), ("DELETE FROM nodes", ()))
    with Log.open(url) as log:
        _sql(url, ("UPDATE tree_head SET size = 0", ()))
        log.append_many(data)


def _delete(url: str, s: SignedLog) -> None:
    _sql(url, ("DELETE FROM entries WHERE idx = 13", ()))


def _reorder(url: str, s: SignedLog) -> None:
    # Swap entries 13 and 14, each with its own (correct) leaf hash.
    _sql(
        url,
        ("UPDATE entries SET idx = -1 WHERE idx = 13", ()),
        ("UPDATE entries SET idx = 13 WHERE idx = 14", ()),
        ("UPDATE entries SET idx = 14 WHERE idx = -1", ()),
    )


def _insert_end(url: str, s: SignedLog) -> None:
    _sql(
        url,
        ("INSERT INTO entries (idx, data, leaf_hash) VALUES (40, ?, ?)", (b"x", hash_leaf(b"x"))),
    )


def _insert_middle(url: str, s: SignedLog) -> None:
    # Shift entries 13.. up by one and slip a new entry 13 in; the head now claims 41 entries.
    with Log.open(url) as log:
        tail = [e.data for e in log.backend.read_entries(13, 100)]
    stmts: list[tuple[str, tuple[Any, ...]]] = [("DELETE FROM entries WHERE idx >= 13", ())]
    for k, d in enumerate([b"slipped in", *tail]):
        stmts.append(("INSERT INTO entries VALUES (?, ?, ?)", (13 + k, d, hash_leaf(d))))
    stmts.append(("UPDATE tree_head SET size = 41", ()))
    _sql(url, *stmts)


def _truncate_entries(url: str, s: SignedLog) -> None:
    _sql(url, ("DELETE FROM entries WHERE idx >= 30", ()))


def _truncate_consistently(url: str, s: SignedLog) -> None:
    # Cut the log back to 20 entries and remove every trace of the rest, checkpoint included.
    _sql(
        url,
        ("DELETE FROM entries WHERE idx >= 20", ()),
        ("DELETE FROM nodes", ()),
        ("DELETE FROM checkpoints WHERE size > 20", ()),
    )
    with Log.open(url) as log:
        data = [e.data for e in log.backend.read_entries(0, 20)]
    _sql(url, ("DELETE FROM entries", ()), ("UPDATE tree_head SET size = 0", ()))
    with Log.open(url) as log:
        log.append_many(data)


def _swap_checkpoints(url: str, s: SignedLog) -> None:
    with Log.open(url) as log:
        a, b = log.checkpoint_at(20), log.checkpoint_at(40)
    assert a and b
    _sql(
        url,
        ("UPDATE checkpoints SET note = ? WHERE size = 20", (b.note,)),
        ("UPDATE checkpoints SET note = ? WHERE size = 40", (a.note,)),
    )


def _swap_checkpoint_rows(url: str, s: SignedLog) -> None:
    # Swap note and root between the rows: each row is self-consistent, but wrong for its size.
    with Log.open(url) as log:
        a, b = log.checkpoint_at(20), log.checkpoint_at(40)
    assert a and b
    _sql(
        url,
        ("UPDATE checkpoints SET note = ?, root = ? WHERE size = 20", (b.note, b.root)),
        ("UPDATE checkpoints SET note = ?, root = ? WHERE size = 40", (a.note, a.root)),
    )


def _roll_back_checkpoint(url: str, s: SignedLog) -> None:
    _sql(url, ("DELETE FROM checkpoints WHERE size = 40", ()))


def _roll_back_head(url: str, s: SignedLog) -> None:
    _sql(url, ("UPDATE tree_head SET size = 20, root = ?", (s.roots[20],)))


def _forge_note(url: str, s: SignedLog) -> None:
    with Log.open(url) as log:
        cp = log.checkpoint_at(40)
    assert cp
    _sql(
        url,
        (
            "UPDATE checkpoints SET note = ? WHERE size = 40",
            (cp.note.replace(b"\n40\n", b"\n41\n"),),
        ),
    )


CASES: list[tuple[str, Callable[[str, SignedLog], None], str, int, bool]] = [
    ("change", _change, "entry 13: stored leaf hash", 13, False),
    ("change-with-leaf-hash", _change_with_hash, "over entries [0, 16) differs", 0, False),
    ("rewrite-everything", _rewrite_everything, "checkpoint at size 20: signed root", 10, False),
    ("delete", _delete, "entry 13 is missing", 13, False),
    ("reorder", _reorder, "over entries [0, 16) differs", 0, False),
    ("insert-at-end", _insert_end, "entry 40 exists beyond the tree head size 40", 40, False),
    ("insert-in-middle", _insert_middle, "over entries [0, 16) differs", 0, False),
    ("truncate-entries", _truncate_entries, "entry 30 is missing", 30, False),
    ("truncate-consistently", _truncate_consistently, "log truncated or rolled back", 20, True),
    (
        "swap-checkpoint-notes",
        _swap_checkpoints,
        "checkpoint at size 20: note says size 40",
        20,
        False,
    ),
    (
        "swap-checkpoint-rows",
        _swap_checkpoint_rows,
        "checkpoint at size 20: signed root",
        10,
        False,
    ),
    ("roll-back-checkpoint", _roll_back_checkpoint, "checkpoint rolled back", 20, True),
    (
        "roll-back-tree-head",
        _roll_back_head,
        "entry 20 exists beyond the tree head size 20",
        20,
        False,
    ),
    ("forged-note", _forge_note, "checkpoint at size 40: invalid signature", 40, False),
]


@pytest.mark.parametrize(
    ("name", "tamper", "reason", "index", "needs_anchor"), CASES, ids=[c[0] for c in CASES]
)
def test_tampering_is_detected(
    ledger_url: str,
    name: str,
    tamper: Callable[[str, SignedLog], None],
    reason: str,
    index: int,
    needs_anchor: bool,
) -> None:
    with Log.open(ledger_url) as log:
        signed = fill_and_sign(log, SIZES)
    _audit(ledger_url, signed)  # intact before
    tamper(ledger_url, signed)
    anchor = [(40, signed.roots[40])]
    if needs_anchor:
        # Undetectable from the database alone (it is a consistent, smaller log); an auditor
        # who saw checkpoint 40 before catches it.
        _audit(ledger_url, signed)
    with pytest.raises(TamperError, match=re.escape(reason)) as err:
        _audit(ledger_url, signed, anchor)
    assert err.value.index == index, str(err.value)
