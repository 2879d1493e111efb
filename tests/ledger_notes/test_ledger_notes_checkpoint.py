"""tlog-checkpoint bodies, tlog-cosignatures (0x04, 0x06, 0xff ML-DSA-65) and the checkpointer."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.tsa import LocalTSA

from rsrp.errors import ConfigError, LedgerError
from rsrp.ledger import (
    Checkpoint,
    CosignatureSigner,
    Log,
    MalformedCheckpointError,
    MemoryTree,
    OriginMismatchError,
    SignatureInvalidError,
    cosignature_timestamp,
    generate_key,
    hash_leaf,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._checkpointer import Checkpointer, CheckpointerPolicy, InconsistentTreeError
from rsrp.ledger._cosignature import ED25519, MLDSA44, MLDSA65, cosigned_message
from rsrp.ledger._storage import StoredCheckpoint
from rsrp.ledger._timestamp import TimestampToken, request_timestamp, verify_timestamp

VECTORS = Path(__file__).parent.parent / "vectors"
ORIGIN = "rsrp.example/FR"
ROOT = hashlib.sha256(b"root").digest()
B64ROOT = base64.b64encode(ROOT).decode()


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


# --- checkpoint body ---------------------------------------------------------------------


def test_checkpoint_body_round_trip() -> None:
    cp = Checkpoint(ORIGIN, 20852163, ROOT, ("ext one",))
    assert cp.body() == f"{ORIGIN}\n20852163\n{B64ROOT}\next one\n"
    assert parse_checkpoint(cp.body()) == cp


def test_spec_example_checkpoint_parses() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = parse_checkpoint(body)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)


@pytest.mark.parametrize(
    "size",
    [
        "+3",
        "1_000",
        " 3",
        "3 ",
        "03",
        "-1",
        "",
        "0x10",
        "\uff11\uff12",  # fullwidth digits: int() accepts them
        "3.0",
        "1e3",
        "18446744073709551616",
    ],
    ids=repr,
)
def test_checkpoint_size_must_be_canonical_decimal(size: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        parse_checkpoint(f"{ORIGIN}\n{size}\n{B64ROOT}\n")


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n5\n{B64ROOT}",  # no final newline
        f"{ORIGIN}\n5\n",  # two lines
        f"\n5\n{B64ROOT}\n",  # empty origin
        f"{ORIGIN}\n5\n{B64ROOT}\n\next\n",  # empty extension line
        f"{ORIGIN}\n5\n{B64ROOT[:-1]}\n",  # bad base64
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"{ORIGIN}\n0\n{B64ROOT}\n",  # size 0 with a non-empty-tree root
        f"{ORIGIN}\n5\n {B64ROOT}\n",
    ],
    ids=lambda b: repr(b[-30:]),
)
def test_checkpoint_malformed(body: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        parse_checkpoint(body)


def test_checkpoint_empty_tree() -> None:
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert parse_checkpoint(f"{ORIGIN}\n0\n{empty}\n").size == 0


def test_open_checkpoint_checks_origin() -> None:
    skey, vkey = generate_key(ORIGIN)
    note = sign_note(Checkpoint(ORIGIN, 1, ROOT).body(), [signer_from_skey(skey)])
    assert open_checkpoint(note, ORIGIN, [verifier_from_vkey(vkey)]).checkpoint.size == 1
    with pytest.raises(OriginMismatchError):
        open_checkpoint(note, "rsrp.example/DE", [verifier_from_vkey(vkey)])


# --- cosignatures ------------------------------------------------------------------------


def test_torchwood_mldsa44_vector() -> None:
    v = load("c2sp-tlog-cosignature-mldsa44-torchwood.json")
    verifier = verifier_from_vkey(v["vkey"])
    n = open_note(v["note"].encode(), [verifier])
    assert cosignature_timestamp(n.verified[0]) == 0
    cp = parse_checkpoint(n.text)
    assert cp.root_hash == hash_leaf(v["root_is_rfc6962_leaf_hash_of"].encode())
    # Our signer derives the same key (same vkey) from the published seed and
    # produces cosignatures the same verifier accepts (ML-DSA signing is hedged,
    # so the bytes differ run to run).
    signer = CosignatureSigner(MLDSA44, v["origin"], bytes.fromhex(v["seed_hex"]), lambda: 0)
    assert signer.key_id == verifier.key_id
    ours = sign_note(n.text, [signer])
    open_note(ours, [verifier])


def test_spec_ed25519_cosignature_line_carries_the_spec_timestamp() -> None:
    # tlog-cosignature's example line for witness.example.com/w1 and its "time 1679315147".
    line = (
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEh"
        "ZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
    )
    note = parse_note(("a\n\n" + line).encode())
    assert cosignature_timestamp(note.signatures[0]) == 1679315147
    assert len(note.signatures[0].signature) == 8 + 64


@pytest.mark.parametrize("kind", [ED25519, MLDSA44, MLDSA65], ids=lambda k: k.label)
def test_cosignature_round_trip_and_tamper(kind: Any) -> None:
    signer = CosignatureSigner(kind, "witness.example/w1", b"\x07" * 32, lambda: 1679315147)
    body = Checkpoint(ORIGIN, 7, ROOT).body()
    note = sign_note(body, [signer])
    n = open_note(note, [signer.verifier()])
    assert cosignature_timestamp(n.verified[0]) == 1679315147
    # The vkey form round-trips to the same verifier.
    pub = kind.type_bytes + signer.public_key
    from rsrp.ledger._note_keys import format_vkey

    v2 = verifier_from_vkey(format_vkey(signer.name, pub))
    assert v2.key_id == signer.key_id
    open_note(note, [v2])
    # Changing the timestamp, the size, or the root breaks it.
    sig = n.verified[0]
    forged_ts = (1679315148).to_bytes(8, "big") + sig.signature[8:]
    with pytest.raises(SignatureInvalidError):
        v2.verify(body.encode(), forged_ts)
    with pytest.raises(SignatureInvalidError):
        v2.verify(Checkpoint(ORIGIN, 8, ROOT).body_bytes(), sig.signature)
    with pytest.raises(SignatureInvalidError):
        v2.verify(body.encode(), sig.signature[:-1])


@pytest.mark.parametrize("kind", [MLDSA44, MLDSA65], ids=lambda k: k.label)
def test_mldsa_cosignature_refuses_extension_lines(kind: Any) -> None:
    """torchwood (cosignature.go, TestSignerRoundtrip): ML-DSA cosigners refuse to sign, and
    verifiers reject, checkpoints with extension lines, which cosigned_message does not cover.

    Otherwise anyone could append lines under a valid cosignature (the forgery below)."""
    ml = CosignatureSigner(kind, "w", b"\x01" * 32, lambda: 5)
    base, ext = Checkpoint(ORIGIN, 3, ROOT), Checkpoint(ORIGIN, 3, ROOT, ("x",))
    with pytest.raises(LedgerError, match="extension lines"):
        sign_note(ext.body(), [ml])
    forged = sign_note(base.body(), [ml]).replace(b"\n\n", b"\nx\n\n", 1)
    assert parse_note(forged).text == ext.body()
    with pytest.raises(SignatureInvalidError, match="extension lines"):
        open_note(forged, [ml.verifier()])


def test_ed25519_cosignature_covers_extension_lines() -> None:
    """tlog-cosignature §Ed25519 signed message: extension lines MUST be included."""
    ed = CosignatureSigner(ED25519, "w", b"\x01" * 32, lambda: 5)
    ext = Checkpoint(ORIGIN, 3, ROOT, ("extension 1", "extension 2"))
    signed = sign_note(ext.body(), [ed])
    assert open_note(signed, [ed.verifier()]).text == ext.body()
    with pytest.raises(SignatureInvalidError):
        open_note(signed.replace(b"extension 2", b"extension X"), [ed.verifier()])


@pytest.mark.parametrize("kind", [ED25519, MLDSA44], ids=lambda k: k.label)
@pytest.mark.parametrize(
    "text",
    [
        b"This is an example message.\n",  # not a checkpoint at all
        f"{ORIGIN}\n007\n{B64ROOT}\n".encode(),  # non-canonical size
        f"{ORIGIN}\n7\n{B64ROOT}\n\n".encode(),  # empty extension line
    ],
)
def test_cosignature_only_over_checkpoints(kind: Any, text: bytes) -> None:
    """tlog-cosignature §Format: a cosignature is a note signature *applied to a checkpoint*;
    torchwood's signer and verifier both parse the text as one first."""
    signer = CosignatureSigner(kind, "w", b"\x03" * 32, lambda: 5)
    with pytest.raises(LedgerError, match="checkpoints only"):
        signer.sign(text)
    # A signature made over the same bytes without the check does not verify either.
    forged = (5).to_bytes(8, "big") + bytes(kind.signature_size)
    with pytest.raises(SignatureInvalidError, match="checkpoints only"):
        signer.verifier().verify(text, forged)


def test_cosigned_message_layout() -> None:
    msg = cosigned_message("w", 0x0102, Checkpoint("o", 9, ROOT))
    assert msg == (
        b"subtree/v1\n\x00" + b"\x01w" + (0x0102).to_bytes(8, "big") + b"\x01o"
        b"" + (0).to_bytes(8, "big") + (9).to_bytes(8, "big") + ROOT
    )


def test_long_origin_parses_but_cannot_be_mldsa_cosigned() -> None:
    long_origin = "o" * 256
    cp = parse_checkpoint(f"{long_origin}\n5\n{B64ROOT}\n")
    with pytest.raises(LedgerError, match=r"1\.\.255"):
        cosigned_message("w", 0, cp)


def test_timestamp_over_2_63_refused() -> None:
    signer = CosignatureSigner(ED25519, "w", b"\x01" * 32, lambda: 2**63)
    with pytest.raises(LedgerError):
        signer.sign(Checkpoint(ORIGIN, 3, ROOT).body_bytes())


@pytest.mark.parametrize(
    "key_type", ["cosignature-ed25519", "cosignature-mldsa44", "cosignature-mldsa65"]
)
def test_generate_cosigner_keys(key_type: str) -> None:
    skey, vkey = generate_key("witness.example/w9", key_type)
    note = sign_note(Checkpoint(ORIGIN, 1, ROOT).body(), [signer_from_skey(skey)])
    open_note(note, [verifier_from_vkey(vkey)])


# --- checkpointer ------------------------------------------------------------------------


def _log_keys() -> tuple[list[Any], list[Any]]:
    skey, vkey = generate_key(ORIGIN)
    ml_skey, ml_vkey = generate_key(ORIGIN, "cosignature-mldsa44")
    return (
        [signer_from_skey(skey), signer_from_skey(ml_skey)],
        [verifier_from_vkey(vkey), verifier_from_vkey(ml_vkey)],
    )


def test_checkpointer_cadence_entries_and_time(tmp_path: Path) -> None:
    signers, verifiers = _log_keys()
    now = [0]
    with Log.open(tmp_path / "log.db") as log:
        policy = CheckpointerPolicy(3, 100)
        cp = Checkpointer(ORIGIN, log, log, signers, verifiers, policy, lambda: now[0])
        assert cp.maybe_checkpoint() is None
        log.append_many([b"a", b"b"])
        assert cp.maybe_checkpoint() is None  # 2 < 3 entries, 0 ms elapsed
        now[0] = 100
        first = cp.maybe_checkpoint()
        assert first is not None and first.checkpoint.size == 2
        assert len(first.note.verified) == 2  # Ed25519 note signature + ML-DSA-44 cosignature
        log.append_many([bytes([i]) for i in range(3)])
        second = cp.maybe_checkpoint()  # 3 new entries: due at once
        assert second is not None and second.checkpoint.size == 5
        assert [c.size for c in log.checkpoints()] == [2, 5]
        stored = log.latest_checkpoint()
        assert stored is not None and stored.note == second.raw


def test_checkpointer_refuses_fork_rollback_and_tampered_store(tmp_path: Path) -> None:
    signers, verifiers = _log_keys()
    with Log.open(tmp_path / "log.db") as log:
        log.append_many([b"a", b"b", b"c"])
        signed = Checkpointer(ORIGIN, log, log, signers, verifiers).checkpoint()

        # The operator rewrites history: another database with a forked tree whose latest
        # stored checkpoint is the genuine signed one. The checkpointer must not sign on.
        def forked(name: str, entries: list[bytes]) -> Log:
            other = Log.open(tmp_path / name)
            other.append_many(entries)
            cp = signed.checkpoint
            other.backend.put_checkpoint(
                StoredCheckpoint(cp.size, cp.root_hash, signed.raw, dt.datetime.now(dt.UTC))
            )
            return other

        with (
            forked("fork.db", [b"a", b"b", b"X"]) as fork,
            pytest.raises(InconsistentTreeError, match="fork"),
        ):
            Checkpointer(ORIGIN, fork, fork, signers, verifiers).checkpoint()
        with (
            forked("longer.db", [b"a", b"X", b"c", b"d"]) as longer,
            pytest.raises(InconsistentTreeError, match="not consistent"),
        ):
            Checkpointer(ORIGIN, longer, longer, signers, verifiers).checkpoint()
        with (
            forked("short.db", [b"a"]) as short,
            pytest.raises(InconsistentTreeError, match="rollback"),
        ):
            Checkpointer(ORIGIN, short, short, signers, verifiers).checkpoint()
        assert len(log.checkpoints()) == 1


def test_checkpointer_refuses_unverifiable_stored_checkpoint(tmp_path: Path) -> None:
    signers, verifiers = _log_keys()
    other_signers, _ = _log_keys()
    with Log.open(tmp_path / "log.db") as log:
        log.append_many([b"a", b"b", b"c"])
        # A checkpoint signed by someone else's key is in the store.
        note = sign_note(Checkpoint(ORIGIN, 3, log.root(3)).body(), other_signers)
        log.store_checkpoint(3, log.root(3), note)
        with pytest.raises(InconsistentTreeError, match="does not verify"):
            Checkpointer(ORIGIN, log, log, signers, verifiers)


def test_checkpointer_extension_is_signed_and_timestamped(tmp_path: Path, tsa: LocalTSA) -> None:
    signers, verifiers = _log_keys()

    def stamp(text: bytes) -> bytes:
        return request_timestamp(tsa.url, text).encode().encode()

    with Log.open(tmp_path / "log.db") as log:
        log.append_many([b"a", b"b", b"c"])
        c = Checkpointer(ORIGIN, log, log, signers, verifiers, timestamper=stamp)
        c.checkpoint()
        log.append(b"d")
        signed = c.checkpoint()
        assert (
            signed.checkpoint.root_hash == MemoryTree.from_entries([b"a", b"b", b"c", b"d"]).root()
        )
        stored = log.latest_checkpoint()
        assert stored is not None and stored.timestamp_token is not None
        token = TimestampToken.decode(stored.timestamp_token.decode())
        verify_timestamp(token, signed.checkpoint.body_bytes(), [tsa.root])


def test_checkpointer_policy_refuses_zero() -> None:
    with pytest.raises(ConfigError):
        CheckpointerPolicy(0, 10)


def test_ed25519_cosignature_matches_spec_message_by_hand() -> None:
    """Oracle from tlog-cosignature §Ed25519 signed message, assembled by hand."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = b"\x09" * 32
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    signer = CosignatureSigner(ED25519, "witness.example.com/w1", seed, lambda: 1679315147)
    sig = signer.sign(body.encode())
    assert sig[:8] == (1679315147).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1679315147\n" + body.encode()
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    pub.verify(sig[8:], message)  # raises if our message differs from the spec's
    expected_id = hashlib.sha256(b"witness.example.com/w1\n\x04" + pub.public_bytes_raw()).digest()
    assert signer.key_id == int.from_bytes(expected_id[:4], "big")


def test_checkpointer_background_thread_signs_on_time(tmp_path: Path) -> None:
    import threading
    import time

    signers, verifiers = _log_keys()
    with Log.open(tmp_path / "log.db") as log:
        c = Checkpointer(ORIGIN, log, log, signers, verifiers, CheckpointerPolicy(10_000, 20))
        stop = threading.Event()
        t = threading.Thread(target=c.run, args=(stop, 5), daemon=True)
        t.start()
        try:
            log.append_many([b"x", b"y"])
            deadline = time.monotonic() + 10
            while not log.checkpoints() and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            stop.set()
            t.join(timeout=10)
        assert [cp.size for cp in log.checkpoints()] == [2]
