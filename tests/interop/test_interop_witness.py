"""c2sp.org/tlog-witness add-checkpoint, replayed from litewitness's own conformance scripts.

tests/vectors/c2sp-tlog-witness-litewitness-torchwood.json: the request bodies of torchwood's
litewitness tests (a Sigsum-style log, and a real sum.golang.org checkpoint) with the status
and body litewitness answers. Our witness runs as a real HTTP server on loopback and must give
the same answers — except where the current spec text differs (unknown origin: 404).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rsrp.errors import ConfigError
from rsrp.ledger import (
    Witness,
    WitnessServer,
    WitnessState,
    generate_key,
    open_note,
    parse_note,
    signer_from_skey,
    verifier_from_vkey,
)

_VEC = json.loads(
    (Path(__file__).parents[1] / "vectors/c2sp-tlog-witness-litewitness-torchwood.json").read_text()
)
WITNESS = "example.com/witness"


def _ed25519_vkey(name: str, public: bytes) -> str:
    # signed-note §Verifier keys: key ID = SHA-256(name || 0x0A || 0x01 || key)[:4].
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    material = base64.b64encode(b"\x01" + public).decode()
    return f"{name}+{key_id.hex()}+{material}"


def _serve(tmp: Path, origin: str, log_vkey: str) -> Iterator[tuple[str, list[str]]]:
    keys = [generate_key(WITNESS, t) for t in ("cosignature-mldsa44", "cosignature-ed25519")]
    state = WitnessState(tmp / "witness.db")
    witness = Witness(
        state, [signer_from_skey(s) for s, _ in keys], {origin: [verifier_from_vkey(log_vkey)]}
    )
    server = WitnessServer(witness).start()
    try:
        yield server.url, [v for _, v in keys]
    finally:
        server.stop()
        state.close()


@pytest.fixture
def litewitness(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    lw = _VEC["litewitness"]
    yield from _serve(
        tmp_path, lw["origin"], _ed25519_vkey(lw["origin"], bytes.fromhex(lw["log_public_key_hex"]))
    )


def _check_cosignatures(body: bytes, request: str, vkeys: list[str]) -> None:
    # tlog-witness: one or more note signature lines, each "— <name> <base64>\n"; the client
    # appends them to the checkpoint and opens it with the witness keys.
    lines = body.decode().splitlines(keepends=True)
    assert lines and all(ln.startswith(f"\u2014 {WITNESS} ") and ln.endswith("\n") for ln in lines)
    checkpoint_text = parse_note(request.split("\n\n", 1)[1].encode()).text.encode()
    opened = open_note(checkpoint_text + b"\n" + body, [verifier_from_vkey(v) for v in vkeys])
    assert len(opened.verified) == len(vkeys) == len(lines)


def _assert_step(step: dict[str, Any], r: httpx.Response, vkeys: list[str]) -> None:
    assert r.status_code == step.get("spec_status", step["status"]), (step["assert"], r.text)
    if step["status"] == 200:
        _check_cosignatures(r.content, step["body"], vkeys)
    elif step["status"] == 409:
        want = json.loads(step["assert"].removeprefix("body == "))
        assert r.text == want
        assert r.headers["content-type"] == "text/x.tlog.size"


def test_litewitness_conformance_script(litewitness: tuple[str, list[str]]) -> None:
    url, vkeys = litewitness
    steps = _VEC["litewitness"]["steps"]
    assert [s["status"] for s in steps] == [200, 403, 403, 422, 422, 200, 409, 200, 409]
    with httpx.Client(timeout=10) as client:
        for step in steps:
            r = client.post(f"{url}/add-checkpoint", content=step["body"].encode())
            _assert_step(step, r, vkeys)
        # Monitoring endpoint: the latest cosigned checkpoint, with our cosignatures.
        origin_hash = hashlib.sha256(_VEC["litewitness"]["origin"].encode()).hexdigest()
        latest = client.get(f"{url}/{origin_hash}/checkpoint")
        assert latest.status_code == 200
        note = parse_note(latest.content)
        assert note.text.split("\n")[1] == "5"
        assert open_note(latest.content, [verifier_from_vkey(v) for v in vkeys]).verified


def test_real_sum_golang_org_checkpoint_is_cosigned(tmp_path: Path) -> None:
    sd = _VEC["sumdb"]
    for url, vkeys in _serve(tmp_path, sd["origin"], sd["vkey"]):
        with httpx.Client(timeout=10) as client:
            (step,) = sd["steps"]
            r = client.post(f"{url}/add-checkpoint", content=step["body"].encode())
            _assert_step(step, r, vkeys)
            # Submitting it again from old 0 is now a conflict naming the cosigned size.
            again = client.post(f"{url}/add-checkpoint", content=step["body"].encode())
            assert again.status_code == 409 and again.text == "35225469\n"


@pytest.mark.parametrize(
    ("note", "status"),
    [
        # Known origin, a log signature line that does not decode canonically: 403.
        ("{origin}\n1\n{root}\n\n\u2014 {origin} AAAA*AAA=\n", 403),
        # Unknown origin wins over every other problem: 404.
        ("example.com/other\n1\n{root}\n\n\u2014 x AAAA*AAA=\n", 404),
        # Not even an origin line: a malformed request, 400.
        ("\n\n", 400),
    ],
    ids=["known-origin-bad-line", "unknown-origin", "no-origin"],
)
def test_unparseable_checkpoint_status(
    litewitness: tuple[str, list[str]], note: str, status: int
) -> None:
    url, _ = litewitness
    text = note.format(origin=_VEC["litewitness"]["origin"], root="A" * 43 + "=")
    with httpx.Client(timeout=10) as client:
        r = client.post(f"{url}/add-checkpoint", content=("old 0\n\n" + text).encode())
    assert r.status_code == status, r.text


def test_witness_refuses_a_plain_note_key(tmp_path: Path) -> None:
    # tlog-witness: "The signatures MUST be cosignatures" — a type 0x01 note key is refused.
    skey, vkey = generate_key(WITNESS)
    state = WitnessState(tmp_path / "w.db")
    try:
        with pytest.raises(ConfigError, match="not a cosignature key"):
            Witness(state, [signer_from_skey(skey)], {"o": [verifier_from_vkey(vkey)]})
    finally:
        state.close()
