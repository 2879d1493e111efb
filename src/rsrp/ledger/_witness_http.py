"""tlog-witness over HTTP: a small loopback server and the log's client.

Server: ``POST /add-checkpoint`` (200 with cosignature lines; 400/403/404/409/422
per c2sp.org/tlog-witness, 409 with ``text/x.tlog.size``) and
``GET /<sha256(origin) hex>/checkpoint`` (the monitoring endpoint).
Client: :func:`request_cosignatures` (one witness, retrying once on 409 with the
size the witness reports) and :func:`collect_cosignatures` (publish a checkpoint
with every witness's lines that verify under that witness's keys).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from rsrp.errors import LedgerError
from rsrp.ledger._checkpoint import parse_checkpoint, parse_decimal
from rsrp.ledger._log import Log
from rsrp.ledger._note import Note, NoteSignature, NoteVerifier, open_note, parse_note
from rsrp.ledger._witness import AddCheckpointRequest, Witness, format_add_checkpoint
from rsrp.ledger._witness_errors import OldSizeConflictError, WitnessError, WitnessUnavailableError

__all__ = [
    "WitnessEndpoint",
    "WitnessServer",
    "collect_cosignatures",
    "publish_checkpoint",
    "request_cosignatures",
]

_MAX_BODY = 1_100_000
_ORIGIN_PATH = re.compile(r"/([0-9a-f]{64})/checkpoint")
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,8}")
_DECIMAL_LENGTH = re.compile(r"[0-9]{1,10}")


class _BodyRefusedError(WitnessError):
    """A request body the server will not read (HTTP framing, before the witness protocol)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status=status)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return  # requests are not logged to stderr; incidents are stored instead

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "text/plain; charset=utf-8",
        allow: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if allow is not None:
            self.send_header("Allow", allow)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path != "/add-checkpoint":
            self.close_connection = True  # the body is left unread
            if _ORIGIN_PATH.fullmatch(self.path):
                self._send(405, b"use GET\n", allow="GET")
            else:
                self._send(404, b"not found\n")
            return
        body = self._read_body()
        if body is None:
            return
        try:
            lines = self.server.witness.add_checkpoint(body)
        except OldSizeConflictError as e:
            if e.status == 409:
                self._send(409, f"{e.latest_size}\n".encode(), "text/x.tlog.size")
            else:
                self._send(e.status, f"{e}\n".encode())
            return
        except WitnessError as e:
            self._send(e.status, f"{e}\n".encode())
            return
        except LedgerError as e:  # storage failure: nothing was cosigned
            self._send(500, f"{e}\n".encode())
            return
        self._send(200, lines)

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked, RFC 9112 §6-7), or None once refused.

        Clients that stream their body (Go's http.Client with a non-buffer reader, curl
        reading a pipe) send it chunked; both forms are capped at ``_MAX_BODY``. Refusals:
        411 without a length, 413 over the cap, 400 for malformed framing.
        """
        try:
            if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
                return self._read_chunked()
            raw = self.headers.get("Content-Length")
            if raw is None:
                raise _BodyRefusedError(411, "a Content-Length or chunked body is required")
            if not _DECIMAL_LENGTH.fullmatch(raw.strip()):  # int() takes "+5" and "1_0"
                raise _BodyRefusedError(400, "malformed Content-Length")
            if int(raw) > _MAX_BODY:
                raise _BodyRefusedError(413, f"request body larger than {_MAX_BODY} bytes")
            return self.rfile.read(int(raw))
        except _BodyRefusedError as e:
            self.close_connection = True  # the rest of the stream is unframed or unread
            self._send(e.status, f"{e}\n".encode())
            return None

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(80).split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_line):  # int(.., 16) would take "0x1f", "1_0"
                raise _BodyRefusedError(400, "malformed chunk size line")
            size = int(size_line, 16)
            if total + size > _MAX_BODY:
                raise _BodyRefusedError(413, f"request body larger than {_MAX_BODY} bytes")
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) != b"\r\n":
                raise _BodyRefusedError(400, "chunk data does not match its size")
            chunks.append(chunk)
            total += size
        for _ in range(64):  # trailer fields, then the final empty line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                return b"".join(chunks)
        raise _BodyRefusedError(400, "too many trailer fields")

    def do_GET(self) -> None:
        if self.path == "/add-checkpoint":  # tlog-witness: "The request MUST be an HTTP POST."
            self._send(405, b"use POST\n", allow="POST")
            return
        m = _ORIGIN_PATH.fullmatch(self.path)
        note = self.server.witness.latest(m.group(1)) if m else None
        if note is None:
            self._send(404, b"not found\n")
        else:
            self._send(200, note)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], witness: Witness) -> None:
        super().__init__(addr, _Handler)
        self.witness = witness


class WitnessServer:
    """Runs a :class:`Witness` on ``host:port`` (port 0 picks a free one) in a thread."""

    def __init__(self, witness: Witness, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), witness)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> WitnessServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True, slots=True)
class WitnessEndpoint:
    """A witness as the log sees it: submission URL prefix and trusted cosigner keys."""

    url: str
    verifiers: tuple[NoteVerifier, ...]


def request_cosignatures(
    endpoint: WitnessEndpoint,
    checkpoint_note: bytes,
    old_size: int,
    proof_for: Callable[[int], Sequence[bytes]],
    *,
    client: httpx.Client | None = None,
) -> tuple[NoteSignature, ...]:
    """POST add-checkpoint; on 409 retry once from the witness's size. Return verified lines."""
    own = client or httpx.Client(timeout=10.0)
    try:
        for _attempt in range(2):
            proof = tuple(proof_for(old_size)) if old_size else ()
            body = format_add_checkpoint(AddCheckpointRequest(old_size, proof, checkpoint_note))
            try:
                r = own.post(endpoint.url.rstrip("/") + "/add-checkpoint", content=body)
            except httpx.HTTPError as e:
                raise WitnessUnavailableError(f"witness {endpoint.url}: {e}") from e
            if r.status_code == 409 and r.headers.get("content-type", "").startswith(
                "text/x.tlog.size"
            ):
                old_size = parse_checkpoint_size(r.text)
                continue
            if r.status_code != 200:
                raise WitnessError(
                    f"witness {endpoint.url} refused ({r.status_code}): {r.text.strip()[:200]}",
                    status=r.status_code,
                )
            return _verified_lines(endpoint, checkpoint_note, r.content)
        raise WitnessError(f"witness {endpoint.url} kept reporting a conflicting size", status=409)
    finally:
        if client is None:
            own.close()


def parse_checkpoint_size(text: str) -> int:
    """The 409 body: a decimal size and a newline."""
    try:
        if not text.endswith("\n"):
            raise WitnessError("409 body does not end in a newline")
        return parse_decimal(text[:-1], "witness size")
    except LedgerError as e:
        raise WitnessError(f"malformed 409 body from witness: {e}", status=502) from e


def _verified_lines(
    endpoint: WitnessEndpoint, checkpoint_note: bytes, lines: bytes
) -> tuple[NoteSignature, ...]:
    # tlog-witness: concatenate the response to the checkpoint and open it with the
    # witness keys; keep only lines that verify, ignore unknown keys.
    text = parse_note(checkpoint_note).text.encode("utf-8")
    try:
        opened = open_note(text + b"\n" + lines, endpoint.verifiers)
    except LedgerError as e:
        raise WitnessError(f"witness {endpoint.url} returned no valid cosignature: {e}") from e
    return opened.verified


def collect_cosignatures(
    checkpoint_note: bytes,
    endpoints: Sequence[WitnessEndpoint],
    proof_for: Callable[[int], Sequence[bytes]],
    *,
    known_sizes: dict[str, int] | None = None,
) -> tuple[bytes, dict[str, WitnessError]]:
    """Ask every witness; return the note with all verified cosignatures, and the failures.

    ``known_sizes`` (url -> last size that witness cosigned) saves the 409 round trip.
    """
    note = parse_note(checkpoint_note)
    size = parse_checkpoint(note.text).size
    sigs = list(note.signatures)
    failures: dict[str, WitnessError] = {}
    with httpx.Client(timeout=10.0) as client:
        for ep in endpoints:
            old = (known_sizes or {}).get(ep.url, 0)
            try:
                got = request_cosignatures(
                    ep, checkpoint_note, min(old, size), proof_for, client=client
                )
            except WitnessError as e:
                failures[ep.url] = e
                continue
            if known_sizes is not None:
                known_sizes[ep.url] = size
            sigs.extend(s for s in got if s not in sigs)
    return Note(note.text, tuple(sigs)).to_bytes(), failures


def publish_checkpoint(
    log: Log,
    size: int,
    endpoints: Sequence[WitnessEndpoint],
    *,
    known_sizes: dict[str, int] | None = None,
) -> tuple[bytes, dict[str, WitnessError]]:
    """Collect cosignatures on the stored checkpoint at ``size`` and store them with it.

    Returns the published note (log signatures then every witness's verified lines)
    and the witnesses that failed; consistency proofs come from the log itself.
    """
    stored = log.checkpoint_at(size)
    if stored is None:
        raise WitnessError(f"no stored checkpoint at size {size}", status=404)
    published, failures = collect_cosignatures(
        stored.note,
        endpoints,
        lambda old: log.consistency_proof(old, size),
        known_sizes=known_sizes,
    )
    # Note.to_bytes keeps the stored note's own lines first, so the rest is new lines only.
    if not published.startswith(stored.note):
        raise WitnessError("internal: published note does not extend the stored note", status=500)
    fresh = published[len(stored.note) :]
    if fresh:
        # One line per witness key: a fresh cosignature replaces an older one.
        text = parse_note(stored.note).text.encode("utf-8") + b"\n"
        lines = {
            (s.name, s.key_id): s
            for chunk in (stored.cosignatures, fresh)
            if chunk
            for s in parse_note(text + chunk).signatures
        }
        merged = "".join(s.line() for s in lines.values()).encode("utf-8")
        log.update_checkpoint(size, cosignatures=merged)
    return published, failures
