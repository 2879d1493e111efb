"""Receipts: the real sum.golang.org tlog-proof, end-to-end offline verification, mutations."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fixtures.tsa import LocalTSA
from tests.ledger_notes.ledger_notes_helpers import ORIGIN, batch_envelopes, make_witness
from tests.ledger_notes.ledger_notes_helpers import envelopes as make_envelopes

from rsrp.errors import LedgerError, ProofError
from rsrp.ledger import (
    Checkpoint,
    Log,
    MemoryTree,
    RootMismatchError,
    UnknownKeyError,
    WitnessPolicyError,
    generate_key,
    hash_leaf,
    parse_checkpoint,
    parse_note,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._checkpointer import Checkpointer
from rsrp.ledger._receipt import NotCoveredError, build_receipt, verify_receipt
from rsrp.ledger._receipt_format import (
    MalformedReceiptError,
    Receipt,
    TlogProof,
    parse_receipt,
    parse_tlog_proof,
)
from rsrp.ledger._timestamp import TimestampVerificationError, request_timestamp
from rsrp.ledger._witness import (
    AddCheckpointRequest,
    format_add_checkpoint,
    parse_add_checkpoint,
)
from rsrp.ledger._witness_policy import Threshold
from rsrp.proof import (
    Ed25519Verifier,
    KeyEntry,
    StaticKeyring,
    ed25519_from_secret,
)

VECTORS = Path(__file__).parent.parent / "vectors"
SUMDB: dict[str, Any] = json.loads(
    (VECTORS / "c2sp-tlog-proof-sumdb-tessera.json").read_text(encoding="utf-8")
)


# --- the published sum.golang.org tlog-proof ----------------------------------------------


def test_sumdb_tlog_proof_vector_verifies() -> None:
    proof = parse_tlog_proof(SUMDB["proof"].encode())
    assert (proof.index, len(proof.proof)) == (SUMDB["index"], 26)
    assert proof.to_text() == SUMDB["proof"]
    leaf = SUMDB["leaf"].encode()
    assert hash_leaf(leaf).hex() == SUMDB["leaf_hash_hex"]
    # Our receipt wrapper around the published proof, with the raw sumdb record as leaf.
    v = verify_receipt(Receipt(leaf, proof), [SUMDB["vkey"]], None, origin=SUMDB["origin"])
    assert (v.checkpoint.size, v.log_keys) == (SUMDB["size"], ("sum.golang.org+033de0ae",))


def test_sumdb_tlog_proof_wrong_leaf_or_key() -> None:
    proof = parse_tlog_proof(SUMDB["proof"].encode())
    with pytest.raises(RootMismatchError):
        verify_receipt(Receipt(b"other leaf", proof), [SUMDB["vkey"]], None)
    _, other = generate_key("sum.golang.org")
    with pytest.raises(UnknownKeyError):
        verify_receipt(Receipt(SUMDB["leaf"].encode(), proof), [other], None)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.replace("index 43930254", "index 43930255"),
        lambda s: s.replace("index 43930254", "index +43930254"),
        lambda s: s.replace("index 43930254", "index 043930254"),
        lambda s: s.replace("index 43930254", "index 43_930_254"),
        lambda s: s.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        lambda s: s.replace("Q2cuq1e21q4U", "Q2cuq1e21q4V"),
        lambda s: s.replace("\nQ2cuq1e21q4U", "\n Q2cuq1e21q4U"),
        lambda s: s.replace("\n\ngo.sum", "\ngo.sum"),
        lambda s: s.replace("\n58253265\n", "\n58253266\n"),
        lambda s: "x" + s,
        lambda s: s + "x",
        lambda s: s + "\n",
        lambda s: s[: len(s) // 2],
        lambda s: s.replace("VdgHwjNYSv9f", "Vdg#wjNYSv9f"),
    ],
    ids=lambda f: "",
)
def test_sumdb_tlog_proof_mutations_fail_closed(mutate: Any) -> None:
    data = mutate(SUMDB["proof"]).encode()
    with pytest.raises(LedgerError):
        proof = parse_tlog_proof(data)
        verify_receipt(Receipt(SUMDB["leaf"].encode(), proof), [SUMDB["vkey"]], None)


def test_tlog_proof_header_forms() -> None:
    cp = sign_note(
        Checkpoint("o", 1, hash_leaf(b"x")).body(), [signer_from_skey(generate_key("o")[0])]
    )
    p = TlogProof(0, (), cp, extra=b"hello")
    parsed = parse_tlog_proof(p.to_text().encode())
    assert parsed == p
    assert p.to_text().startswith("c2sp.org/tlog-proof@v1\nextra aGVsbG8=\nindex 0\n\n")
    too_many = TlogProof(0, (b"\0" * 32,) * 65, cp)
    with pytest.raises(MalformedReceiptError, match="more than 64"):
        parse_tlog_proof(too_many.to_text().encode())


# --- end to end on a real log -----------------------------------------------------------


def test_receipt_end_to_end_offline(tmp_path: Path, tsa: LocalTSA) -> None:
    skey, vkey = generate_key(ORIGIN)
    envelopes, keyring = make_envelopes(7)
    witnesses = [make_witness(tmp_path, f"witness.example/w{i}", vkey)[:2] for i in range(3)]
    with Log.open(tmp_path / "log.db") as log:
        log.append_many(envelopes)
        c = Checkpointer(
            ORIGIN,
            log,
            log,
            [signer_from_skey(skey)],
            [verifier_from_vkey(vkey)],
            timestamper=lambda text: request_timestamp(tsa.url, text).encode().encode(),
        )
        with pytest.raises(NotCoveredError):
            build_receipt(log, 0)
        signed = c.checkpoint()
        lines = b"".join(
            w.add_checkpoint(format_add_checkpoint(AddCheckpointRequest(0, (), signed.raw)))
            for w, _ in witnesses[:2]
        )
        log.update_checkpoint(7, cosignatures=lines)
        receipt = build_receipt(log, 5).to_bytes()
    assert parse_receipt(receipt).to_bytes() == receipt
    keys = [k for _, k in witnesses]
    v = verify_receipt(
        receipt, [vkey], Threshold(2, tuple(keys)), keyring, origin=ORIGIN, tsa_roots=[tsa.root]
    )
    assert v.index == 5 and v.checkpoint.size == 7
    assert v.witnesses == {"witness.example/w0", "witness.example/w1"}
    assert v.envelope is not None and v.envelope.evidence == "signature"
    assert v.timestamp is not None
    # A stricter policy fails; a missing anchor fails; a wrong keyring fails.
    with pytest.raises(WitnessPolicyError):
        verify_receipt(receipt, [vkey], Threshold(3, tuple(keys)))
    with pytest.raises(TimestampVerificationError):
        r = parse_receipt(receipt)
        verify_receipt(Receipt(r.envelope, r.proof, None), [vkey], None, tsa_roots=[tsa.root])
    other_key = ed25519_from_secret(b"someone else", "hkdf")
    other_ring = StaticKeyring([KeyEntry(Ed25519Verifier(other_key.public_key(), "fr-decisions"))])
    with pytest.raises(ProofError):
        verify_receipt(receipt, [vkey], None, other_ring)


def test_receipt_mutations_fail_closed(tmp_path: Path) -> None:
    skey, vkey = generate_key(ORIGIN)
    envelopes, keyring = make_envelopes(5)
    with Log.open(tmp_path / "log.db") as log:
        log.append_many(envelopes)
        Checkpointer(
            ORIGIN, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)]
        ).checkpoint()
        receipt = build_receipt(log, 2).to_bytes()
    verify_receipt(receipt, [vkey], None, keyring)
    step = max(1, len(receipt) // 150)
    for i in range(0, len(receipt), step):
        mutated = receipt[:i] + bytes([receipt[i] ^ 0x04]) + receipt[i + 1 :]
        with pytest.raises((LedgerError, ProofError)):
            verify_receipt(mutated, [vkey], None, keyring)
    for cut in range(0, len(receipt), step):
        with pytest.raises((LedgerError, ProofError)):
            verify_receipt(receipt[:cut], [vkey], None, keyring)
    # Swapping in another entry's envelope: inclusion fails.
    r = parse_receipt(receipt)
    with pytest.raises(RootMismatchError):
        verify_receipt(Receipt(envelopes[3], r.proof), [vkey], None)
    # Declaring another index (off by one) fails too.
    shifted = TlogProof(r.proof.index + 1, r.proof.proof, r.proof.checkpoint)
    with pytest.raises(LedgerError):
        verify_receipt(Receipt(r.envelope, shifted), [vkey], None)
    # The signed root is the root of exactly the logged envelopes.
    root = parse_checkpoint(parse_note(r.proof.checkpoint).text).root_hash
    assert MemoryTree.from_entries(envelopes).root() == root


# --- hostile input (hypothesis) ------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_hypothesis_parsers_fail_closed(data: bytes) -> None:
    for parse in (parse_receipt, parse_tlog_proof, parse_add_checkpoint):
        with contextlib.suppress(LedgerError):
            parse(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(SUMDB["proof"].split("\n")), max_size=40))
def test_hypothesis_shuffled_sumdb_lines_never_verify_wrongly(lines: list[str]) -> None:
    data = "\n".join(lines).encode()
    try:
        proof = parse_tlog_proof(data)
        v = verify_receipt(Receipt(SUMDB["leaf"].encode(), proof), [SUMDB["vkey"]], None)
    except LedgerError:
        return
    # Only a rearrangement that is the original proof may verify.
    assert data == SUMDB["proof"].encode() and v.index == SUMDB["index"]


def test_receipt_batch_envelope_is_verified_by_inclusion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A V2 batch envelope carries no signature: the receipt's checkpoint is its signature."""
    from rsrp.keys import Purpose, open_store
    from rsrp.proof import NeedsInclusionProofError, verify_envelope

    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "a test passphrase for receipts")
    store = open_store(f"file:{tmp_path}/ks?jurisdiction=FR")
    info = store.generate("ed25519", Purpose.DECISION_SIGNING, test=True)
    envs = batch_envelopes(3, store.signer(info.key_id))
    skey, vkey = generate_key(ORIGIN)
    _, ring = make_envelopes(0)
    with Log.open(tmp_path / "log.db") as log:
        log.append_many(envs)
        Checkpointer(
            ORIGIN, log, log, [signer_from_skey(skey)], [verifier_from_vkey(vkey)]
        ).checkpoint()
        receipt = build_receipt(log, 1)
    with pytest.raises(NeedsInclusionProofError):
        verify_envelope(envs[1], ring)
    v = verify_receipt(receipt, [vkey], None, ring)
    assert v.envelope is not None and v.envelope.evidence == "inclusion"
    assert v.envelope.inclusion is not None and v.envelope.inclusion.leaf_index == 1
