"""An entry altered together with its leaf hash is named exactly when entries are signed.

The stored node over 16 entries only shows that one of them changed; ``audit(verify_entry=...)``
checks each entry of that range on its own (here: the R-SRP V1 envelope's Ed25519 signature)
and names the one that fails. A validly signed replacement (a replayed envelope) leaves only
the range, and the audit says so rather than guessing.
"""

from __future__ import annotations

import pytest
from tests.ledger.ledger_sql import run_sql

from rsrp.ledger import Log, TamperError, audit, hash_leaf
from rsrp.policy.decision import Outcome
from rsrp.proof import (
    Ed25519Signer,
    Ed25519Verifier,
    KeyEntry,
    StaticKeyring,
    ed25519_from_secret,
    sign_v1,
    verify_envelope,
)

KEY = ed25519_from_secret(b"ledger-locate-test", "hkdf")
KEYRING = StaticKeyring([KeyEntry(Ed25519Verifier(KEY.public_key(), "locate-key"))])


def _envelope(i: int) -> bytes:
    env = sign_v1(
        Ed25519Signer(KEY, "locate-key"),
        runtime_version=(0, 1, 0),
        policy_hash=b"\x11" * 32,
        bytecode_hash=b"\x22" * 32,
        input_hash=i.to_bytes(32, "big"),
        state_hash=b"\x44" * 32,
        decision=Outcome.ALLOW,
    )
    return env.to_bytes()


def _check_signature(index: int, entry: bytes) -> None:
    verify_envelope(entry, KEYRING)  # raises a ProofError (an RsrpError) if it does not verify


def _replace(url: str, index: int, data: bytes) -> None:
    sql = "UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = ?"
    run_sql(url, (sql, (data, hash_leaf(data), index)))


@pytest.fixture
def signed_url(ledger_url: str) -> str:
    with Log.open(ledger_url) as log:
        log.append_many([_envelope(i) for i in range(40)])
    return ledger_url


def test_forged_entry_is_named_exactly(signed_url: str) -> None:
    forged = bytearray(_envelope(21))
    forged[-1] ^= 1  # same envelope, one signature bit off: no longer verifies
    _replace(signed_url, 21, bytes(forged))
    with Log.open(signed_url) as log:
        with pytest.raises(TamperError) as coarse:
            audit(log.backend)
        with pytest.raises(TamperError) as exact:
            audit(log.backend, verify_entry=_check_signature)
    assert coarse.value.index == 16 and "over entries [16, 32)" in str(coarse.value)
    assert exact.value.index == 21
    assert str(exact.value).startswith("entry 21 fails its own check")
    assert "altered together with its leaf hash" in str(exact.value)


def test_validly_signed_replacement_keeps_the_range(signed_url: str) -> None:
    _replace(signed_url, 5, _envelope(7))  # a replayed, genuinely signed envelope
    with Log.open(signed_url) as log:
        with pytest.raises(TamperError) as err:
            audit(log.backend, verify_entry=_check_signature)
        for e in log.backend.read_entries(0, 100):  # every entry passes its own check ...
            _check_signature(e.index, e.data)
    # ... so only the tree tells, and it tells the range.
    assert err.value.index == 0 and "over entries [0, 16)" in str(err.value)
