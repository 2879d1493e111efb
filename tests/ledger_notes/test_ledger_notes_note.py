"""Signed notes against Go's golang.org/x/mod/sumdb/note vectors, the spec and sum.golang.org."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.errors import LedgerError
from rsrp.ledger import (
    AmbiguousKeyError,
    Ed25519NoteSigner,
    MalformedKeyError,
    MalformedNoteError,
    Note,
    NoteSignature,
    SignatureInvalidError,
    UnknownKeyError,
    generate_key,
    open_note,
    parse_note,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)

VECTORS = Path(__file__).parent.parent / "vectors"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


GO = load("c2sp-signed-note-golang-x-mod.json")
SPEC = load("c2sp-signed-note-spec.json")
SUMDB = load("c2sp-signed-note-sum-golang-org.json")


def test_go_sign_is_byte_identical() -> None:
    signer = signer_from_skey(GO["peter_skey"])
    assert signer.name == "PeterNeumann"
    assert signer.key_id == 0xC74F20A3
    assert sign_note(GO["text"], [signer]).decode() == GO["peter_signed"]


def test_go_sign_replaces_existing_signature_of_same_key() -> None:
    signer = signer_from_skey(GO["peter_skey"])
    stale = Note(GO["text"], (NoteSignature("PeterNeumann", 0xC74F20A3, b"BAD"),))
    assert sign_note(stale, [signer]).decode() == GO["peter_signed"]


def test_go_open_one_verified_one_unknown() -> None:
    peter = verifier_from_vkey(GO["peter_vkey"])
    msg = (GO["text"] + "\n" + GO["peter_sig_line"] + GO["enoch_sig_line"]).encode()
    n = open_note(msg, [peter])
    assert n.text == GO["text"]
    assert [(s.name, s.key_id) for s in n.verified] == [("PeterNeumann", 0xC74F20A3)]
    assert [(s.name, s.key_id) for s in n.unverified] == [("EnochRoot", 0xAF0CFE78)]


def test_go_open_both_verified() -> None:
    keys = [verifier_from_vkey(GO["peter_vkey"]), verifier_from_vkey(GO["enoch_vkey"])]
    msg = (GO["text"] + "\n" + GO["peter_sig_line"] + GO["enoch_sig_line"]).encode()
    assert len(open_note(msg, keys).verified) == 2


def test_go_open_no_known_key() -> None:
    msg = (GO["text"] + "\n" + GO["peter_sig_line"] + GO["enoch_sig_line"]).encode()
    with pytest.raises(UnknownKeyError) as e:
        open_note(msg, [])
    assert e.value.names == ("PeterNeumann+c74f20a3", "EnochRoot+af0cfe78")


def test_go_open_ambiguous_key_only_when_used() -> None:
    enoch = verifier_from_vkey(GO["enoch_vkey"])
    peter = verifier_from_vkey(GO["peter_vkey"])
    with pytest.raises(AmbiguousKeyError, match="EnochRoot\\+af0cfe78"):
        open_note((GO["text"] + "\n" + GO["enoch_sig_line"]).encode(), [enoch, peter, enoch])
    open_note((GO["text"] + "\n" + GO["peter_sig_line"]).encode(), [enoch, peter, enoch])


def test_go_open_too_many_signatures() -> None:
    peter = verifier_from_vkey(GO["peter_vkey"])
    msg = (GO["text"] + "\n" + GO["peter_sig_line"] * 101).encode()
    with pytest.raises(MalformedNoteError, match="more than 100"):
        open_note(msg, [peter])
    # 100 identical lines are fine: repeats of a verified key are dropped.
    n = open_note((GO["text"] + "\n" + GO["peter_sig_line"] * 100).encode(), [peter])
    assert len(n.verified) == 1


def test_go_invalid_signature() -> None:
    peter = verifier_from_vkey(GO["peter_vkey"])
    with pytest.raises(SignatureInvalidError, match="PeterNeumann\\+c74f20a3"):
        open_note(GO["invalid_signature_note"].encode(), [peter])


@pytest.mark.parametrize("idx", range(len(GO["malformed_notes"])))
def test_go_malformed_notes(idx: int) -> None:
    peter = verifier_from_vkey(GO["peter_vkey"])
    with pytest.raises(MalformedNoteError):
        open_note(GO["malformed_notes"][idx].encode(), [peter])


def test_go_malformed_invalid_utf8() -> None:
    peter = verifier_from_vkey(GO["peter_vkey"])
    with pytest.raises(MalformedNoteError, match="UTF-8"):
        open_note(bytes.fromhex(GO["malformed_notes_hex"][0]), [peter])


def _manglings(key: str) -> list[str]:
    """Go's TestNewVerifier/TestNewSigner: every proper substring and every +1 byte."""
    out = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)}
    out.discard(key)
    for i in range(len(key)):
        out.add(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])
    return sorted(out)


def test_go_vkey_manglings_refused() -> None:
    vkey = GO["peter_vkey"]
    assert verifier_from_vkey(vkey).key_id == 0xC74F20A3
    for bad in [*_manglings(vkey), *GO["bad_vkeys"]]:
        with pytest.raises(MalformedKeyError):
            verifier_from_vkey(bad)


def test_go_skey_manglings_refused() -> None:
    skey = GO["peter_skey"]
    for bad in _manglings(skey):
        with pytest.raises(MalformedKeyError):
            signer_from_skey(bad)


def test_spec_example_verifies() -> None:
    n = open_note(SPEC["note"].encode(), [verifier_from_vkey(SPEC["vkey"])])
    assert n.text == SPEC["text"]


def test_spec_text_may_contain_empty_lines() -> None:
    # The quasimodo example: text is split from signatures at the *last* empty line.
    note = parse_note(SPEC["unsigned_example"].encode())
    assert note.text == SPEC["unsigned_example_text"]
    assert note.signatures[0].name == "quasimodo.example/salvatore"
    assert note.to_bytes().decode() == SPEC["unsigned_example"]


@pytest.mark.parametrize("cp", SUMDB["checkpoints"], ids=lambda c: c.split("\n")[1])
def test_sum_golang_org_checkpoints_verify(cp: str) -> None:
    n = open_note(cp.encode(), [verifier_from_vkey(SUMDB["vkey"])])
    assert n.text.startswith(SUMDB["origin"] + "\n")


def test_sum_golang_org_wrong_vkey_string_refused() -> None:
    with pytest.raises(MalformedKeyError, match="does not match"):
        verifier_from_vkey(SUMDB["wrong_vkey"])


def test_keygen_round_trip_and_go_format() -> None:
    skey, vkey = generate_key("rsrp.example/FR")
    assert skey.startswith("PRIVATE+KEY+rsrp.example/FR+")
    assert skey.split("+")[3] == vkey.split("+")[1]
    signed = sign_note("a\n", [signer_from_skey(skey)])
    assert open_note(signed, [verifier_from_vkey(vkey)]).text == "a\n"


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\u3000b", "a\x01b", "a\tb"])
def test_invalid_key_names_refused(name: str) -> None:
    with pytest.raises(MalformedKeyError):
        Ed25519NoteSigner(name, b"\x01" * 32)


def test_key_names_allow_del_as_go_does() -> None:
    """signed-note §Format forbids only spaces and ``+`` in names; Go's isValidName accepts
    U+007F, and a note may contain it. An unknown key's DEL-named line is ignored, not fatal."""
    signer = Ed25519NoteSigner("odd\x7fname", b"\x04" * 32)
    other = signer_from_skey(GO["peter_skey"])
    signed = sign_note(GO["text"], [other, signer])
    opened = open_note(signed, [verifier_from_vkey(GO["peter_vkey"])])
    assert [s.name for s in opened.unverified] == ["odd\x7fname"]
    assert open_note(signed, [signer.verifier()]).verified[0].name == "odd\x7fname"
    assert verifier_from_vkey(signer.verifier().vkey).key_id == signer.key_id


def test_key_names_allow_non_space_unicode() -> None:
    signer = Ed25519NoteSigner("héllo/wörld", b"\x02" * 32)
    signed = sign_note("x\n", [signer])
    assert open_note(signed, [signer.verifier()]).verified[0].name == "héllo/wörld"


def test_sign_refuses_text_without_final_newline() -> None:
    with pytest.raises(MalformedNoteError):
        sign_note("abc", [signer_from_skey(GO["peter_skey"])])


def test_non_canonical_base64_signature_refused() -> None:
    line = GO["peter_sig_line"]
    raw = base64.b64decode(line.split(" ")[2])
    # 72 bytes -> no padding; flip unused bits by re-encoding a 71-byte prefix plus junk.
    b64 = base64.b64encode(raw[:71]).decode()
    assert b64.endswith("=")
    bumped = b64[:-2] + chr(ord(b64[-2]) + 1) + "="
    msg = (GO["text"] + "\n— PeterNeumann " + bumped + "\n").encode()
    with pytest.raises(MalformedNoteError, match="canonical"):
        parse_note(msg)


# --- mutation families (STYLE point 5) -------------------------------------------------

SIGNED = GO["peter_signed"].encode()


def _open(msg: bytes) -> None:
    open_note(msg, [verifier_from_vkey(GO["peter_vkey"])])


def test_mutation_every_bit_flip_fails_closed() -> None:
    for i in range(len(SIGNED)):
        for bit in (0, 3, 7):
            mutated = bytearray(SIGNED)
            mutated[i] ^= 1 << bit
            with pytest.raises(LedgerError):
                _open(bytes(mutated))


def test_mutation_every_truncation_fails_closed() -> None:
    for n in range(len(SIGNED)):
        with pytest.raises(LedgerError):
            _open(SIGNED[:n])


@pytest.mark.parametrize(
    "junk", [b"x", b"\n", b"\x00", b"\xff", "\u2014 ".encode(), b"\n\n", b" "], ids=repr
)
def test_mutation_garbage_prefix_and_suffix(junk: bytes) -> None:
    with pytest.raises(LedgerError):
        _open(SIGNED + junk)
    with pytest.raises(LedgerError):
        _open(junk + SIGNED)


def test_mutation_swapped_text_lines() -> None:
    text, sig = GO["text"], GO["peter_sig_line"]
    a, b = text[:-1].split("\n")
    with pytest.raises(SignatureInvalidError):
        _open((f"{b}\n{a}\n\n{sig}").encode())


def test_mutation_oversized_note_refused_before_work() -> None:
    huge = b"a" * 1_000_001 + b"\n\n" + GO["peter_sig_line"].encode()
    with pytest.raises(MalformedNoteError, match="more than"):
        _open(huge)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_hypothesis_arbitrary_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(LedgerError):
        _open(data)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_hypothesis_sign_open_round_trip(text: str) -> None:
    signer = signer_from_skey(GO["peter_skey"])
    body = text + "\n"
    try:
        signed = sign_note(body, [signer])
    except MalformedNoteError:
        assert any(ord(c) < 0x20 and c != "\n" for c in body)
        return
    n = open_note(signed, [signer.verifier()])  # type: ignore[attr-defined]
    assert n.text == body
    assert parse_note(signed).to_bytes() == signed
