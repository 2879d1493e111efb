"""c2sp.org/tlog-witness over HTTP: divergences found auditing the witness server.

Pins the spec (and torchwood's litewitness where the spec leaves room) on points where rsrp
used to differ; docs/ledger-checkpoints.md, "Interop audit", lists them.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from rsrp.cli.main import app
from rsrp.ledger import (
    Checkpoint,
    Checkpointer,
    Log,
    MalformedKeyError,
    UnsupportedCheckpointError,
    Witness,
    WitnessServer,
    WitnessState,
    generate_key,
    open_note,
    parse_note,
    sign_note,
    signer_from_skey,
    verifier_from_vkey,
)
from rsrp.ledger._witness import AddCheckpointRequest, format_add_checkpoint

ORIGIN = "example.com/log"
WITNESS = "witness.example/w1"
ROOT = hashlib.sha256(b"root").digest()
_VEC = json.loads(
    (Path(__file__).parents[1] / "vectors/c2sp-tlog-witness-litewitness-torchwood.json").read_text()
)


def _log_note(extensions: tuple[str, ...]) -> tuple[bytes, str]:
    skey, vkey = generate_key(ORIGIN)
    body = Checkpoint(ORIGIN, 5, ROOT, extensions).body()
    return sign_note(body, [signer_from_skey(skey)]), vkey


@pytest.mark.parametrize("key_type", ["cosignature-mldsa44", "cosignature-ed25519"])
def test_witness_and_extension_lines(tmp_path: Path, key_type: str) -> None:
    """An ML-DSA-44 witness cannot cover extension lines (tlog-cosignature §ML-DSA-44 signed
    message; torchwood refuses to sign them): 422 before any state change. An Ed25519
    witness signs them (§Ed25519 signed message includes them)."""
    note, log_vkey = _log_note(("extension 1",))
    skey, wvkey = generate_key(WITNESS, key_type)
    state = WitnessState(tmp_path / "w.db")
    witness = Witness(state, [signer_from_skey(skey)], {ORIGIN: [verifier_from_vkey(log_vkey)]})
    server = WitnessServer(witness).start()
    try:
        body = format_add_checkpoint(AddCheckpointRequest(0, (), note))
        r = httpx.post(server.url + "/add-checkpoint", content=body)
        if key_type == "cosignature-mldsa44":
            assert r.status_code == UnsupportedCheckpointError.status == 422, r.text
            assert "extension lines" in r.text
            assert state.get(ORIGIN) is None
            # Without the extension line the same witness cosigns.
            plain, plain_vkey = _log_note(())
            witness.logs[ORIGIN] = (verifier_from_vkey(plain_vkey),)
            body = format_add_checkpoint(AddCheckpointRequest(0, (), plain))
            r = httpx.post(server.url + "/add-checkpoint", content=body)
            note = plain
        assert r.status_code == 200, r.text
        text = note[: note.rindex(b"\n\n") + 1]
        opened = open_note(text + b"\n" + r.content, [verifier_from_vkey(wvkey)])
        assert len(opened.verified) == 1
    finally:
        server.stop()
        state.close()


def _ed25519_witness(tmp_path: Path) -> tuple[WitnessServer, WitnessState, bytes, str]:
    note, log_vkey = _log_note(())
    skey, wvkey = generate_key(WITNESS, "cosignature-ed25519")
    state = WitnessState(tmp_path / "w.db")
    witness = Witness(state, [signer_from_skey(skey)], {ORIGIN: [verifier_from_vkey(log_vkey)]})
    body = format_add_checkpoint(AddCheckpointRequest(0, (), note))
    return WitnessServer(witness).start(), state, body, wvkey


def test_witness_accepts_a_chunked_request_body(tmp_path: Path) -> None:
    """A client streaming its body (Go's http.Client with an io.Reader of unknown length,
    httpx with an iterator) sends it chunked, without Content-Length (RFC 9112 §7.1)."""
    server, state, body, wvkey = _ed25519_witness(tmp_path)
    try:
        r = httpx.post(server.url + "/add-checkpoint", content=iter([body[:7], body[7:]]))
        assert r.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in r.request.headers
        assert r.status_code == 200, r.text
        text = parse_note(body.split(b"\n\n", 1)[1]).text.encode()
        assert open_note(text + b"\n" + r.content, [verifier_from_vkey(wvkey)]).verified
        rec = state.get(ORIGIN)
        assert rec is not None and rec.size == 5
    finally:
        server.stop()
        state.close()


def _raw_post(url: str, head: bytes, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + head
            + b"\r\n"
            + payload
        )
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        return reply


@pytest.mark.parametrize(
    ("head", "payload", "status"),
    [
        # int(.., 16) would accept the 0x prefix
        (b"Transfer-Encoding: chunked\r\n", b"0x5\r\nold 0\r\n0\r\n\r\n", 400),
        (b"Transfer-Encoding: chunked\r\n", b"5\r\nold 0XX0\r\n\r\n", 400),  # too long
        (b"Transfer-Encoding: chunked\r\n", b"zz\r\n", 400),
        (b"Transfer-Encoding: chunked\r\n", b"ffffffff\r\n", 413),  # over the body cap
        (b"Content-Length: 1_0\r\n", b"old 0\n\nxxxx", 400),  # int() would read 10
        (b"Content-Length: +5\r\n", b"old 0", 400),
        (b"Content-Length: 99999999\r\n", b"old 0", 413),
        (b"", b"old 0\n\n", 411),
    ],
)
def test_witness_refuses_bad_body_framing(
    tmp_path: Path, head: bytes, payload: bytes, status: int
) -> None:
    """RFC 9110/9112 framing: 411 without a length, 413 over the cap, 400 when malformed."""
    server, state, _, _ = _ed25519_witness(tmp_path)
    try:
        reply = _raw_post(server.url, head, payload)
        assert reply.startswith(b"HTTP/1.1 %d " % status), reply
        assert state.get(ORIGIN) is None
    finally:
        server.stop()
        state.close()


def test_witness_chunking_never_changes_the_answer(tmp_path: Path) -> None:
    """However a client splits its chunked body, the witness parses the same request: here
    an old size the witness has not seen, so always 409 with its size (0) as the body."""
    note, log_vkey = _log_note(())
    skey, _ = generate_key(WITNESS, "cosignature-ed25519")
    state = WitnessState(tmp_path / "w.db")
    witness = Witness(state, [signer_from_skey(skey)], {ORIGIN: [verifier_from_vkey(log_vkey)]})
    body = format_add_checkpoint(AddCheckpointRequest(5, (ROOT,), note))
    server = WitnessServer(witness).start()

    @settings(max_examples=40, deadline=None)
    @given(cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=6))
    def check(cuts: list[int]) -> None:
        chunks, rest = [], body
        for n in cuts:
            chunks.append(rest[:n])
            rest = rest[n:]
        chunks.append(rest)
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c)
        reply = _raw_post(server.url, b"Transfer-Encoding: chunked\r\n", payload + b"0\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 409 "), reply
        assert b"Content-Type: text/x.tlog.size" in reply and reply.endswith(b"\r\n\r\n0\n")

    try:
        check()
    finally:
        server.stop()
        state.close()


def test_witness_wrong_method_is_405_with_allow(tmp_path: Path) -> None:
    """tlog-witness: add-checkpoint "MUST be an HTTP POST", the monitoring URL a GET; the
    other method gets 405 and an Allow header (RFC 9110 §15.5.6), as Go's method-aware mux."""
    server, state, body, _ = _ed25519_witness(tmp_path)
    try:
        r = httpx.get(server.url + "/add-checkpoint")
        assert (r.status_code, r.headers["allow"]) == (405, "POST")
        monitor = "/" + hashlib.sha256(ORIGIN.encode()).hexdigest() + "/checkpoint"
        r = httpx.post(server.url + monitor, content=body)
        assert (r.status_code, r.headers["allow"]) == (405, "GET")
        assert httpx.post(server.url + "/sign-subtree", content=body).status_code == 404
        assert state.get(ORIGIN) is None
    finally:
        server.stop()
        state.close()


def test_witness_cli_follows_a_log_whose_origin_is_not_its_key_name(tmp_path: Path) -> None:
    """litewitness's sumdb script (witnessctl add-log -origin 'go.sum database tree' +
    add-key sum.golang.org+...): the CLI takes ORIGIN=VKEY for such logs. The bare vkey
    would follow origin 'sum.golang.org' and answer 404 for the real checkpoint."""
    sd = _VEC["sumdb"]
    (step,) = sd["steps"]
    skey, wvkey = generate_key(WITNESS, "cosignature-ed25519")
    (tmp_path / "w.skey").write_text(skey)
    (tmp_path / "req").write_text(step["body"])

    def cosign(log_vkey: str, db: str) -> Result:
        args = ["--state", str(tmp_path / db), "--skey-file", str(tmp_path / "w.skey")]
        return CliRunner().invoke(
            app, ["witness", "cosign", str(tmp_path / "req"), *args, "--log-vkey", log_vkey]
        )

    bare = cosign(sd["vkey"], "bare.db")
    assert bare.exit_code == 1 and "unknown log origin 'go.sum database tree'" in bare.output
    ok = cosign(f"{sd['origin']}={sd['vkey']}", "w.db")
    assert ok.exit_code == 0, ok.output
    text = parse_note(step["body"].split("\n\n", 1)[1].encode()).text.encode()
    assert open_note(text + b"\n" + ok.stdout.encode(), [verifier_from_vkey(wvkey)]).verified
    bad = cosign(f"{sd['origin']}=not-a-vkey", "x.db")
    assert bad.exit_code != 0 and "a vkey nor ORIGIN=VKEY" in bad.output


def test_witness_publish_cli_collects_cosignatures(tmp_path: Path) -> None:
    """The log's side of tlog-witness from the CLI: `rsrp witness publish` asks each witness
    (retrying a 409 from the size it reports), stores and prints the cosigned checkpoint."""
    log_skey, log_vkey = generate_key(ORIGIN)
    keys = [generate_key(WITNESS, t) for t in ("cosignature-mldsa44", "cosignature-ed25519")]
    state = WitnessState(tmp_path / "w.db")
    log_v = verifier_from_vkey(log_vkey)
    good = Witness(state, [signer_from_skey(k) for k, _ in keys], {ORIGIN: [log_v]})
    other_state = WitnessState(tmp_path / "o.db")
    o_skey, o_vkey = generate_key("witness.example/other", "cosignature-ed25519")
    other = Witness(other_state, [signer_from_skey(o_skey)], {"example.com/else": [log_v]})
    servers = [WitnessServer(good).start(), WitnessServer(other).start()]
    db = tmp_path / "log.db"
    try:
        with Log.open(db) as log:
            cpr = Checkpointer(ORIGIN, log, log, [signer_from_skey(log_skey)], [log_v])
            log.append_many([b"a", b"b", b"c"])
            cpr.checkpoint()
            log.append_many([b"d"])
            cpr.checkpoint()
        args = ["witness", "publish", str(db)]
        args += [a for _, v in keys for a in ("--witness", f"{servers[0].url}={v}")]
        ok = CliRunner().invoke(app, args)
        assert ok.exit_code == 0, ok.output
        opened = open_note(ok.stdout.encode(), [verifier_from_vkey(v) for _, v in keys])
        assert len(opened.verified) == 2 and parse_note(ok.stdout.encode()).text.split()[1] == "4"
        rec = state.get(ORIGIN)
        assert rec is not None and rec.size == 4
        with Log.open(db) as log:
            stored = log.checkpoint_at(4)
            assert stored is not None and stored.cosignatures
        # A witness that does not follow this log refuses (404): exit 1, the rest is kept.
        refused = CliRunner().invoke(
            app, [*args, "--witness", f"{servers[1].url}={o_vkey}", "--size", "4"]
        )
        assert refused.exit_code == 1
        assert f"witness {servers[1].url} refused (404)" in refused.stderr
        assert open_note(refused.stdout.encode(), [verifier_from_vkey(keys[1][1])]).verified
    finally:
        for s in servers:
            s.stop()
        state.close()
        other_state.close()


def test_mldsa_witness_refuses_an_origin_over_255_bytes_before_any_state_change(
    tmp_path: Path,
) -> None:
    """cosigned_message has ``opaque log_origin<1..2^8-1>`` (tlog-cosignature §ML-DSA-44
    signed message): an ML-DSA witness cannot cosign such a log; 422, state untouched (it
    was a storage-path 500 before). An Ed25519 witness has no such limit."""
    origin = "example.com/" + "o" * 250
    log_skey, log_vkey = generate_key(origin)
    note = sign_note(Checkpoint(origin, 5, ROOT).body(), [signer_from_skey(log_skey)])
    body = format_add_checkpoint(AddCheckpointRequest(0, (), note))
    for key_type, status in (("cosignature-mldsa44", 422), ("cosignature-ed25519", 200)):
        skey, _ = generate_key(WITNESS, key_type)
        state = WitnessState(tmp_path / f"{key_type}.db")
        w = Witness(state, [signer_from_skey(skey)], {origin: [verifier_from_vkey(log_vkey)]})
        server = WitnessServer(w).start()
        try:
            r = httpx.post(server.url + "/add-checkpoint", content=body)
            assert r.status_code == status, r.text
            assert (state.get(origin) is None) == (status == 422)
        finally:
            server.stop()
            state.close()


def test_mldsa_cosigner_name_over_255_bytes_refused_at_load() -> None:
    with pytest.raises(MalformedKeyError, match="at most 255 bytes"):
        generate_key("w" * 256, "cosignature-mldsa44")
    generate_key("w" * 256, "cosignature-ed25519")  # Ed25519 signs no name: no limit
