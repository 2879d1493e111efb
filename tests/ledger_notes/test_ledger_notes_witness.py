"""Witness: add-checkpoint semantics, rollback/fork refusal, HTTP server and client, policies."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rsrp.ledger import (
    Checkpoint,
    MemoryTree,
    SignatureInvalidError,
    generate_key,
    hash_leaf,
    open_note,
    parse_note,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._witness import (
    AddCheckpointRequest,
    Witness,
    format_add_checkpoint,
    parse_add_checkpoint,
)
from rsrp.ledger._witness_errors import (
    CheckpointSignatureError,
    ForkError,
    InconsistentCheckpointError,
    MalformedRequestError,
    OldSizeConflictError,
    RollbackError,
    UnknownLogError,
    WitnessPolicyError,
)
from rsrp.ledger._witness_http import (
    WitnessEndpoint,
    WitnessServer,
    collect_cosignatures,
    request_cosignatures,
)
from rsrp.ledger._witness_policy import Threshold, WitnessKey, all_of, any_of, verify_witnesses
from rsrp.ledger._witness_state import WitnessState

ORIGIN = "rsrp.example/FR"


class Log:
    """A log for tests: a real MemoryTree and real keys."""

    def __init__(self, entries: list[bytes]) -> None:
        skey, vkey = generate_key(ORIGIN)
        self.signer, self.verifier = signer_from_skey(skey), verifier_from_vkey(vkey)
        self.tree = MemoryTree.from_entries(entries)

    def note(self, tree: MemoryTree | None = None) -> bytes:
        t = tree or self.tree
        return sign_note(Checkpoint(ORIGIN, t.size, t.root()).body(), [self.signer])

    def request(self, old: int, tree: MemoryTree | None = None) -> bytes:
        t = tree or self.tree
        proof = tuple(t.consistency_proof(old, t.size)) if 0 < old < t.size else ()
        return format_add_checkpoint(AddCheckpointRequest(old, proof, self.note(t)))


def make_witness(tmp_path: Path, log: Log, name: str = "witness.example/w1") -> tuple[Witness, Any]:
    ml_skey, ml_vkey = generate_key(name, "cosignature-mldsa44")
    ed_skey, ed_vkey = generate_key(name, "cosignature-ed25519")
    state = WitnessState(tmp_path / f"{name.replace('/', '_')}.db")
    w = Witness(
        state, [signer_from_skey(ml_skey), signer_from_skey(ed_skey)], {ORIGIN: [log.verifier]}
    )
    return w, WitnessKey(name, (verifier_from_vkey(ml_vkey), verifier_from_vkey(ed_vkey)))


def entries(n: int, tag: bytes = b"e") -> list[bytes]:
    return [tag + str(i).encode() for i in range(n)]


def test_witness_cosigns_then_follows_consistent_growth(tmp_path: Path) -> None:
    log = Log(entries(5))
    w, key = make_witness(tmp_path, log)
    lines = w.add_checkpoint(log.request(0))
    assert lines.count("\u2014 witness.example/w1 ".encode()) == 2
    cosigned = log.note() + lines
    assert verify_witnesses(cosigned, any_of(key)) == {"witness.example/w1"}
    log.tree.append_leaf_hashes([hash_leaf(e) for e in entries(7, b"f")])
    w.add_checkpoint(log.request(5))
    rec = w.state.get(ORIGIN)
    assert rec is not None and rec.size == 12
    # State survives a restart.
    assert WitnessState(w.state.path).get(ORIGIN) == rec


def test_witness_refuses_rollback_and_records_incident(tmp_path: Path) -> None:
    log = Log(entries(8))
    w, _ = make_witness(tmp_path, log)
    w.add_checkpoint(log.request(0))
    smaller = MemoryTree.from_entries(entries(4))
    with pytest.raises(RollbackError) as e409:
        w.add_checkpoint(log.request(0, smaller))
    assert (e409.value.status, e409.value.latest_size) == (409, 8)
    with pytest.raises(RollbackError) as e400:
        w.add_checkpoint(format_add_checkpoint(AddCheckpointRequest(8, (), log.note(smaller))))
    assert e400.value.status == 400  # old size > checkpoint size
    kinds = [i.kind for i in w.state.incidents(ORIGIN)]
    assert kinds == ["RollbackError", "RollbackError"]
    rec = w.state.get(ORIGIN)
    assert rec is not None and rec.size == 8


def test_witness_refuses_fork_same_size(tmp_path: Path) -> None:
    log = Log(entries(6))
    w, _ = make_witness(tmp_path, log)
    w.add_checkpoint(log.request(0))
    fork = MemoryTree.from_entries(entries(6, b"x"))
    with pytest.raises(ForkError, match="fork") as e:
        w.add_checkpoint(format_add_checkpoint(AddCheckpointRequest(6, (), log.note(fork))))
    assert e.value.status == 422
    incident = w.state.incidents(ORIGIN)[0]
    assert incident.kind == "ForkError"
    assert log.note(fork) in incident.request  # the signed evidence is kept


def test_witness_refuses_inconsistent_growth(tmp_path: Path) -> None:
    log = Log(entries(6))
    w, _ = make_witness(tmp_path, log)
    w.add_checkpoint(log.request(0))
    forked_longer = MemoryTree.from_entries([*entries(5), b"evil", *entries(3, b"g")])
    with pytest.raises(ForkError, match="not consistent"):
        w.add_checkpoint(log.request(6, forked_longer))
    rec = w.state.get(ORIGIN)
    assert rec is not None and rec.size == 6


def test_witness_protocol_errors(tmp_path: Path) -> None:
    log = Log(entries(3))
    w, _ = make_witness(tmp_path, log)
    w.add_checkpoint(log.request(0))
    log.tree.append_leaf_hashes([hash_leaf(b"z")])
    with pytest.raises(OldSizeConflictError) as conflict:
        w.add_checkpoint(log.request(2))
    assert (conflict.value.status, conflict.value.latest_size) == (409, 3)
    other = Log(entries(3))
    with pytest.raises(CheckpointSignatureError):
        w.add_checkpoint(other.request(3))  # right origin, key the witness does not trust
    with pytest.raises(UnknownLogError):
        w.add_checkpoint(
            format_add_checkpoint(
                AddCheckpointRequest(
                    0, (), sign_note(Checkpoint("other/log", 1, b"\0" * 32).body(), [log.signer])
                )
            )
        )
    fresh, _ = make_witness(tmp_path, log, "witness.example/fresh")
    with pytest.raises(InconsistentCheckpointError, match="empty consistency proof"):
        fresh.add_checkpoint(b"old 0\n" + base64.b64encode(b"\0" * 32) + b"\n\n" + log.note())


@pytest.mark.parametrize(
    "body",
    [
        b"old +3\n\n",
        b"old 03\n\n",
        b"old 1_0\n\n",
        b"old  3\n\n",
        b"old 3",
        b"new 3\n\n",
        b"old 3\nnot-base64!\n\n",
        b"old 3\n" + base64.b64encode(b"\0" * 31) + b"\n\n",
        b"old 3\n" + (base64.b64encode(b"\0" * 32) + b"\n") * 64 + b"\n",
        b"old 3\n\n" + b"a" * 1_200_000,
        "old \u0663\n\n".encode(),
    ],
    ids=lambda b: repr(b[:24]),
)
def test_add_checkpoint_request_mutations(body: bytes) -> None:
    with pytest.raises(MalformedRequestError):
        parse_add_checkpoint(body)


def test_add_checkpoint_request_round_trip() -> None:
    req = AddCheckpointRequest(5, (b"\1" * 32, b"\2" * 32), b"origin\n1\nroot\n\n- sig\n")
    assert parse_add_checkpoint(format_add_checkpoint(req)) == req


# --- HTTP --------------------------------------------------------------------------------


def test_http_witnesses_collect_and_policy(tmp_path: Path) -> None:
    log = Log(entries(10))
    w1, k1 = make_witness(tmp_path, log, "witness.example/w1")
    w2, k2 = make_witness(tmp_path, log, "witness.example/w2")
    _, k3 = make_witness(tmp_path, log, "witness.example/w3")  # never reachable
    s1, s2 = WitnessServer(w1).start(), WitnessServer(w2).start()
    try:
        eps = [
            WitnessEndpoint(s1.url, k1.verifiers),
            WitnessEndpoint(s2.url, k2.verifiers),
            WitnessEndpoint("http://127.0.0.1:9", k3.verifiers),  # discard port: refused
        ]

        def proof_for(old: int) -> list[bytes]:
            return log.tree.consistency_proof(old, log.tree.size)

        published, failures = collect_cosignatures(log.note(), eps, proof_for)
        assert list(failures) == ["http://127.0.0.1:9"]
        open_note(published, [log.verifier])
        policy = Threshold(2, (k1, k2, k3))
        assert verify_witnesses(published, policy) == {"witness.example/w1", "witness.example/w2"}
        with pytest.raises(WitnessPolicyError):
            verify_witnesses(published, all_of(k1, k2, k3))
        # Growth: the client starts at 0, gets 409 with the witness's size, retries with a proof.
        log.tree.append_leaf_hashes([hash_leaf(e) for e in entries(5, b"n")])
        lines = request_cosignatures(eps[0], log.note(), 0, proof_for)
        assert {s.name for s in lines} == {"witness.example/w1"}
        # Monitoring endpoint serves the cosigned checkpoint.
        h = hashlib.sha256(ORIGIN.encode()).hexdigest()
        r = httpx.get(f"{s1.url}/{h}/checkpoint")
        assert r.status_code == 200 and b"\n15\n" in r.content
        # A fork over HTTP is a 422 and nothing is cosigned.
        fork = MemoryTree.from_entries(entries(15, b"q"))
        bad = httpx.post(
            f"{s1.url}/add-checkpoint",
            content=format_add_checkpoint(AddCheckpointRequest(15, (), log.note(fork))),
        )
        assert bad.status_code == 422
        conflict = httpx.post(f"{s1.url}/add-checkpoint", content=log.request(3))
        assert (conflict.status_code, conflict.text) == (409, "15\n")
        assert conflict.headers["content-type"] == "text/x.tlog.size"
        assert httpx.post(f"{s1.url}/add-checkpoint", content=b"garbage").status_code == 400
    finally:
        s1.stop()
        s2.stop()


# --- policies ----------------------------------------------------------------------------


def test_policy_refuses_empty_and_bad_threshold() -> None:
    with pytest.raises(WitnessPolicyError):
        Threshold(1, ())
    with pytest.raises(WitnessPolicyError):
        any_of()
    _, vkey = generate_key("w", "cosignature-ed25519")
    k = WitnessKey("w", (verifier_from_vkey(vkey),))
    with pytest.raises(WitnessPolicyError):
        Threshold(2, (k,))
    with pytest.raises(WitnessPolicyError):
        Threshold(0, (k,))
    with pytest.raises(WitnessPolicyError):
        WitnessKey("w", ())


def test_policy_invalid_known_cosignature_fails_closed(tmp_path: Path) -> None:
    log = Log(entries(2))
    w, key = make_witness(tmp_path, log)
    lines = w.add_checkpoint(log.request(0))
    note = parse_note(log.note() + lines)
    sig = note.signatures[-1]
    tampered = type(sig)(sig.name, sig.key_id, sig.signature[:-1] + bytes([sig.signature[-1] ^ 1]))
    bad = type(note)(note.text, (*note.signatures[:-1], tampered)).to_bytes()
    with pytest.raises(SignatureInvalidError):
        verify_witnesses(bad, any_of(key))


def test_witness_size_zero_needs_empty_root_422_after_signature(tmp_path: Path) -> None:
    log = Log(entries(1))
    w, _ = make_witness(tmp_path, log)
    not_empty = base64.b64encode(bytes(range(32))).decode()
    wrong = f"{ORIGIN}\n0\n{not_empty}\n"
    with pytest.raises(InconsistentCheckpointError, match="empty-tree root"):
        w.add_checkpoint(b"old 0\n\n" + sign_note(wrong, [log.signer]))
    # The same body signed by an untrusted key is a 403 first (spec order).
    other = Log(entries(1))
    with pytest.raises(CheckpointSignatureError):
        w.add_checkpoint(b"old 0\n\n" + sign_note(wrong, [other.signer]))
    empty_root = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    empty = f"{ORIGIN}\n0\n{empty_root}\n"
    assert w.add_checkpoint(b"old 0\n\n" + sign_note(empty, [log.signer]))


def test_witness_old_size_above_checkpoint_is_400_even_when_conflicting(tmp_path: Path) -> None:
    log = Log(entries(8))
    w, _ = make_witness(tmp_path, log)
    w.add_checkpoint(log.request(0))
    smaller = MemoryTree.from_entries(entries(4))
    with pytest.raises(RollbackError) as e:
        w.add_checkpoint(format_add_checkpoint(AddCheckpointRequest(6, (), log.note(smaller))))
    assert e.value.status == 400


# --- model-based property: the witness accepts exactly the append-only extensions --------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 12), st.booleans()), min_size=1, max_size=8))
def test_witness_model_property(tmp_path: Path, steps: list[tuple[int, bool]]) -> None:
    log = Log(entries(0))
    w, _ = make_witness(tmp_path, log, f"witness.example/p{abs(hash(tuple(steps))) % 10**9}")
    cosigned: list[bytes] = []  # the entries behind the witness's latest cosigned checkpoint
    for size, fork in steps:
        history = [*cosigned[:size], *entries(max(0, size - len(cosigned)), b"n")][:size]
        if fork and size:
            history[size // 2] = b"forked"
        tree = MemoryTree.from_entries(history)
        old = len(cosigned)
        proof = tuple(tree.consistency_proof(old, size)) if 0 < old < size else ()
        req = format_add_checkpoint(AddCheckpointRequest(min(old, size), proof, log.note(tree)))
        extends = size >= old and history[:old] == cosigned
        try:
            w.add_checkpoint(req)
        except (RollbackError, ForkError, InconsistentCheckpointError, MalformedRequestError):
            assert not extends, (size, fork, old)
            continue
        assert extends, (size, fork, old)
        cosigned = history
