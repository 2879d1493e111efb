"""``rsrp ledger verify --keyring`` names the exact altered entry; ``--workers`` agrees.

Real keys: per-decision V2 envelopes signed by a composite key of a software store,
its public key exported as an auditor would receive it (``rsrp keys export``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from tests.ledger.ledger_signed import ORIGIN
from typer.testing import CliRunner, Result

from rsrp.canonical import canonical_hash
from rsrp.cli.main import app
from rsrp.keys import Purpose, export_public, open_store
from rsrp.ledger import (
    Checkpointer,
    Log,
    generate_key,
    hash_leaf,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.policy import Engine
from rsrp.proof import sign_decision

runner = CliRunner()
BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "bank-registry" / "policy.rsrp"
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> tuple[Path, str, Path]:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "ledger cli locate test")
    store = open_store(f"file:{tmp_path}/ks?jurisdiction=FR")
    key = store.generate(
        "mldsa65-ecdsa-p384-sha512",
        Purpose.DECISION_SIGNING,
        not_before=NOW - dt.timedelta(days=1),
        test=True,
    )
    export_public(store, key.key_id, tmp_path / "ring")
    signer = store.signer(key.key_id)
    decision = Engine.load(BUNDLE).decide({}, NOW)  # BLOCK (invalid input): still a decision
    envelopes = [
        sign_decision(
            decision,
            signer,
            request_id=f"req-{i}",
            state_hash=canonical_hash({}),
            mode=mode,  # type: ignore[arg-type]
        ).to_bytes()
        for i in range(40)
    ]
    db = tmp_path / "ledger.db"
    skey, vkey = generate_key(ORIGIN)
    with Log.open(db) as log:
        log.append_many(envelopes)
        Checkpointer(
            ORIGIN, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)]
        ).checkpoint()
    return db, vkey, tmp_path / "ring"


def _alter_with_leaf_hash(db: Path, index: int, *, copy_of: int | None = None) -> None:
    """Flip the entry's last byte, or put another entry's bytes in its place (a replay)."""
    with sqlite3.connect(db) as conn:
        read = "SELECT data FROM entries WHERE idx = ?"
        (data,) = conn.execute(read, (index if copy_of is None else copy_of,)).fetchone()
        forged = bytes(data) if copy_of is not None else bytes(data[:-1]) + bytes([data[-1] ^ 1])
        conn.execute(
            "UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = ?",
            (forged, hash_leaf(forged), index),
        )


def _verify(db: Path, vkey: str, *extra: str) -> Result:
    return runner.invoke(app, ["ledger", "verify", str(db), "--vkey", vkey, *extra])


def test_keyring_names_the_altered_signed_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, vkey, ring = _log(tmp_path, monkeypatch, "per-decision")
    ok = _verify(db, vkey, "--keyring", str(ring), "--workers", "2")
    assert ok.exit_code == 0, ok.output
    assert "ok: 40 entries" in ok.output
    _alter_with_leaf_hash(db, 21)
    coarse = _verify(db, vkey)
    assert coarse.exit_code == 1
    assert "[16, 32)" in coarse.output
    exact = _verify(db, vkey, "--keyring", str(ring))
    assert exact.exit_code == 1
    assert "entry 21 fails its own check" in exact.output


def test_batch_envelopes_are_never_named_without_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batch-mode envelopes carry no signature of their own: a well-formed replacement
    # leaves only the range, rather than blaming the first entry it cannot check ...
    db, vkey, ring = _log(tmp_path, monkeypatch, "batch")
    _alter_with_leaf_hash(db, 21, copy_of=5)
    got = _verify(db, vkey, "--keyring", str(ring))
    assert got.exit_code == 1
    assert "[16, 32)" in got.output
    assert "fails its own check" not in got.output, got.output
    # ... while a malformed one is still named: it fails to decode on its own.
    _alter_with_leaf_hash(db, 21)
    got = _verify(db, vkey, "--keyring", str(ring))
    assert "entry 21 fails its own check" in got.output, got.output
