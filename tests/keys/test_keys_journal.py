"""The key-event journal: hash chain over canonical JSON lines; every edit is detected."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.keys.keys_helpers import Clock, file_store, info

from rsrp.keys import JournalError, KeyJournal, Purpose, verify_journal
from rsrp.keys._journal import GENESIS


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    clock = Clock()
    store = file_store(tmp_path / "ks", clock=clock)
    a = store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="fr-a")
    clock.advance(hours=1)
    store.rotate(a.key_id, new_key_id="fr-b")
    clock.advance(hours=1)
    store.destroy("fr-a")
    return tmp_path / "ks" / "journal.jsonl"


def lines(p: Path) -> list[bytes]:
    return p.read_bytes().split(b"\n")[:-1]


def write(p: Path, ls: list[bytes]) -> None:
    p.write_bytes(b"".join(line + b"\n" for line in ls))


def test_chain_links_each_line_to_the_previous(journal_path: Path) -> None:
    events = verify_journal(journal_path)
    assert [e.event for e in events] == [
        "generate",
        "activate",
        "rotate",
        "activate",
        "deactivate",
        "destroy",
    ]
    raw = lines(journal_path)
    assert json.loads(raw[0])["prev"] == GENESIS
    for i in range(1, len(raw)):
        assert json.loads(raw[i])["prev"] == hashlib.sha256(raw[i - 1]).hexdigest()
    # every event carries all attributes of the key and who/when
    last = json.loads(raw[-1])
    assert last["actor"] == "test-operator"
    assert set(last["key"]) >= {
        "key_id",
        "algorithm",
        "purpose",
        "jurisdiction",
        "not_before",
        "not_after",
        "state",
        "test",
    }
    assert last["key"]["state"] == "destroyed"


def test_edit_a_field_is_detected(journal_path: Path) -> None:
    raw = lines(journal_path)
    raw[1] = raw[1].replace(b'"actor":"test-operator"', b'"actor":"mallory-operator"')
    write(journal_path, raw)
    with pytest.raises(JournalError, match="line 3: hash chain broken"):
        verify_journal(journal_path)


def test_deleted_line_is_detected(journal_path: Path) -> None:
    raw = lines(journal_path)
    del raw[2]
    write(journal_path, raw)
    with pytest.raises(JournalError, match="line 3: seq 3, want 2"):
        verify_journal(journal_path)


def test_swapped_lines_are_detected(journal_path: Path) -> None:
    raw = lines(journal_path)
    raw[2], raw[3] = raw[3], raw[2]
    write(journal_path, raw)
    with pytest.raises(JournalError, match="line 3"):
        verify_journal(journal_path)


def test_tail_truncation_needs_the_expected_head(journal_path: Path) -> None:
    head = verify_journal(journal_path)[-1].line_hash
    write(journal_path, lines(journal_path)[:-1])
    assert len(verify_journal(journal_path)) == 5  # a valid shorter chain...
    with pytest.raises(JournalError, match="truncated"):
        verify_journal(journal_path, expected_head=head)  # ...caught against the anchor


def test_partial_last_line_is_detected(journal_path: Path) -> None:
    journal_path.write_bytes(journal_path.read_bytes()[:-10])
    with pytest.raises(JournalError, match="incomplete"):
        verify_journal(journal_path)


def test_non_canonical_spelling_is_refused(journal_path: Path) -> None:
    raw = lines(journal_path)
    obj = json.loads(raw[0])
    raw[0] = json.dumps(obj, indent=1).replace("\n", "").encode()  # same data, other bytes
    write(journal_path, raw)
    with pytest.raises(JournalError, match="line 1: not in canonical form"):
        verify_journal(journal_path)


@pytest.mark.parametrize(
    "garbage", [b"{}", b"not json", b"[1,2]", b'{"seq":0}', b"\xff\xfe", b"x" * 70000]
)
def test_garbage_lines_are_refused(tmp_path: Path, garbage: bytes) -> None:
    p = tmp_path / "j.jsonl"
    p.write_bytes(garbage + b"\n")
    with pytest.raises(JournalError):
        verify_journal(p)


def test_append_refuses_to_extend_a_broken_chain(journal_path: Path) -> None:
    raw = lines(journal_path)
    del raw[1]
    write(journal_path, raw)
    before = journal_path.read_bytes()
    j = KeyJournal(journal_path)
    with pytest.raises(JournalError):
        j.append("activate", info(), actor="x", time=Clock()())
    assert journal_path.read_bytes() == before


def test_journal_file_is_private(journal_path: Path) -> None:
    assert journal_path.stat().st_mode & 0o777 == 0o600


@settings(max_examples=200)
@given(st.binary(max_size=600))
def test_hostile_journal_bytes_only_raise_journal_errors(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "j.jsonl"
        p.write_bytes(data)
        with contextlib.suppress(JournalError):
            verify_journal(p)


def test_check_journal_agrees_with_the_store(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="a")
    store.retire("a")
    assert len(store.check_journal()) == 3


def test_check_journal_catches_tail_truncation(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="a")
    store.retire("a")
    path = tmp_path / "ks" / "journal.jsonl"
    write(path, lines(path)[:-1])  # the chain alone cannot see this
    assert len(verify_journal(path)) == 2
    with pytest.raises(
        JournalError, match="a: store says deactivated, journal's last event says active"
    ):
        store.check_journal()


def test_check_journal_catches_a_deleted_key_file(tmp_path: Path) -> None:
    store = file_store(tmp_path / "ks")
    store.generate("ed25519", Purpose.DECISION_SIGNING, key_id="a")
    (tmp_path / "ks" / "keys" / "a.key").unlink()
    with pytest.raises(JournalError, match="a: journalled but absent"):
        store.check_journal()


_WRITER = """
import sys
from pathlib import Path
from rsrp.keys import FileKeyStore, Purpose
store = FileKeyStore(Path(sys.argv[1]), passphrase=lambda: b"correct horse battery staple",
                     default_jurisdiction="FR", actor=sys.argv[2], scrypt_log2_n=14)
for i in range(6):
    k = store.generate("ed25519", Purpose.WITNESS, key_id=f"{sys.argv[2]}-{i}")
    store.retire(k.key_id)
"""


def test_concurrent_processes_keep_one_chain(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import rsrp

    file_store(tmp_path / "ks")  # create the directory layout first
    env = {**os.environ, "PYTHONPATH": str(Path(rsrp.__file__).parents[1])}  # this checkout
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path / "ks"), f"w{n}"], env=env)
        for n in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    events = file_store(tmp_path / "ks").check_journal()
    assert len(events) == 3 * 6 * 3  # generate, activate, deactivate per key
