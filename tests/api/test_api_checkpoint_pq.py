"""Served checkpoints carry the Ed25519 note signature AND the ML-DSA-44 cosignature line.

Issue 5 / DESIGN.md: c2sp.org/signed-note Ed25519 (type 0x01) plus the log's
post-quantum c2sp.org/tlog-cosignature line (ML-DSA-44, type 0x06). Real service,
real TLS, real key store; each line is checked with its own vkey.
"""

from __future__ import annotations

import base64
import time

import pytest
from tests.api.conftest import Running
from tests.api.test_api_e2e import _receipt
from tests.api.test_api_mtls import BODY

from rsrp.api.offline import verify_ledger, verify_receipt
from rsrp.ledger import (
    MissingLogSignatureError,
    SignatureInvalidError,
    cosignature_timestamp,
    open_note,
    parse_note,
    verifier_from_vkey,
)

ORIGIN = "rsrp.local/FR"


def _type_byte(vkey: str) -> int:
    # name+<8 hex key ID>+base64(type || key); the base64 may itself contain "+".
    return base64.b64decode(vkey.split("+", 2)[2])[0]


def _key_id(vkey: str) -> int:
    return int(vkey.split("+", 2)[1], 16)


def _drop_line(text: str, key_id: int) -> str:
    """The text with the signature line of ``key_id`` removed (a stripped PQ line)."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("\u2014 "):
            blob = base64.b64decode(line.rsplit(" ", 1)[1])
            if int.from_bytes(blob[:4], "big") == key_id:
                continue
        out.append(line)
    return "".join(out)


def _flip_sig(text: str, key_id: int) -> str:
    """The text with one byte of ``key_id``'s signature changed."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("\u2014 "):
            head, b64 = line.rstrip("\n").rsplit(" ", 1)
            blob = bytearray(base64.b64decode(b64))
            if int.from_bytes(blob[:4], "big") == key_id:
                blob[-1] ^= 1
                line = f"{head} {base64.b64encode(bytes(blob)).decode()}\n"
        out.append(line)
    return "".join(out)


def test_api_checkpoint_has_ed25519_and_mldsa44_lines(running: Running) -> None:
    ed_vkey, ml_vkey = running.vkeys
    assert (_type_byte(ed_vkey), _type_byte(ml_vkey)) == (0x01, 0x06)
    before = int(time.time())
    with running.client("agent-001") as c:
        d = c.post("/v1/decisions", json=BODY).json()
        assert _receipt(c, d["request_id"]).status_code == 200
        r = c.get("/v1/checkpoints/latest")
    assert r.status_code == 200, r.text
    note = r.json()["note"].encode("utf-8")
    sigs = parse_note(note).signatures
    assert sorted(s.key_id for s in sigs) == sorted([_key_id(ed_vkey), _key_id(ml_vkey)])
    for vkey in (ed_vkey, ml_vkey):
        opened = open_note(note, [verifier_from_vkey(vkey)])
        assert [(s.name, s.key_id) for s in opened.verified] == [(ORIGIN, _key_id(vkey))]
        assert opened.text.startswith(f"{ORIGIN}\n")
    ml_line = next(s for s in sigs if s.key_id == _key_id(ml_vkey))
    # tlog-cosignature: u64 timestamp || ML-DSA-44 signature (FIPS 204: 2420 bytes).
    assert len(ml_line.signature) == 8 + 2420
    assert before - 120 <= cosignature_timestamp(ml_line) <= int(time.time()) + 1
    with pytest.raises(SignatureInvalidError):
        open_note(
            _flip_sig(note.decode(), _key_id(ml_vkey)).encode(), [verifier_from_vkey(ml_vkey)]
        )


def test_api_receipt_verifies_with_both_lines_and_requires_them(running: Running) -> None:
    ed_vkey, ml_vkey = running.vkeys
    with running.client("agent-001") as c:
        d = c.post("/v1/decisions", json=BODY).json()
        rec = _receipt(c, d["request_id"])
    assert rec.status_code == 200, rec.text
    envelope = base64.b64decode(rec.json()["envelope"])
    proof = rec.json()["proof"]
    verified = verify_receipt(envelope, proof, [ed_vkey, ml_vkey], origin=ORIGIN)
    assert verified.evidence == "inclusion"
    # The post-quantum line alone also verifies the receipt (each key stands on its own).
    verify_receipt(envelope, proof, [ml_vkey], origin=ORIGIN)
    # With the ML-DSA-44 vkey configured, a receipt whose PQ line was stripped fails...
    stripped = _drop_line(proof, _key_id(ml_vkey))
    assert stripped != proof
    with pytest.raises(MissingLogSignatureError, match="no verified signature line"):
        verify_receipt(envelope, stripped, [ed_vkey, ml_vkey], origin=ORIGIN)
    # ...as does one whose PQ line was altered; with only the Ed25519 vkey it still passes.
    with pytest.raises(SignatureInvalidError):
        verify_receipt(envelope, _flip_sig(proof, _key_id(ml_vkey)), [ed_vkey, ml_vkey])
    verify_receipt(envelope, stripped, [ed_vkey], origin=ORIGIN)
    report = verify_ledger(running.settings.database.url, [ed_vkey, ml_vkey])
    assert report.checkpoint_size >= d["ledger_index"] + 1
