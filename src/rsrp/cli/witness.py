"""``rsrp witness``: a c2sp.org/tlog-witness witness (serve over HTTP, or cosign one request),
and the log's side (publish a stored checkpoint with witnesses' cosignatures)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rsrp.cli._errors import err_console, exit_on_rsrp_error
from rsrp.cli.note import read_capped, read_skeys
from rsrp.errors import ConfigError
from rsrp.ledger._log import Log
from rsrp.ledger._note import NoteVerifier
from rsrp.ledger._note_errors import MalformedKeyError
from rsrp.ledger._note_registry import signer_from_skey, verifier_from_vkey
from rsrp.ledger._witness import Witness
from rsrp.ledger._witness_http import WitnessEndpoint, WitnessServer, publish_checkpoint
from rsrp.ledger._witness_state import WitnessState

__all__ = ["app"]

app = typer.Typer(name="witness", help="Cosign checkpoints of logs (c2sp.org/tlog-witness).")

StateOpt = Annotated[Path, typer.Option("--state", help="SQLite file with the witness state.")]
SkeyOpt = Annotated[
    list[Path], typer.Option("--skey-file", help="Cosigning skey file(s) (ML-DSA-44/Ed25519).")
]
LogOpt = Annotated[
    list[str],
    typer.Option(
        "--log-vkey",
        help="A followed log's vkey (its key name is the origin), or ORIGIN=VKEY when the "
        "origin differs from the key name (sum.golang.org signs 'go.sum database tree').",
    ),
]


def _split_keyed(spec: str, option: str, left: str) -> tuple[str, NoteVerifier]:
    """``<left>=VKEY`` -> (left, verifier).

    A vkey may itself contain ``=`` (its name, its base64), so the split is the first ``=``
    whose right side is a valid vkey; its key ID binds the name, so only one split can fit.
    """
    for i, c in enumerate(spec):
        if c == "=" and i > 0:
            try:
                return spec[:i], verifier_from_vkey(spec[i + 1 :])
            except MalformedKeyError:
                continue
    raise ConfigError(f"{option} {spec[:60]!r} is not {left}=VKEY")


def _log_key(spec: str) -> tuple[str, NoteVerifier]:
    """``VKEY`` or ``ORIGIN=VKEY`` -> (origin, verifier), as witnessctl's add-log + add-key."""
    try:
        v = verifier_from_vkey(spec)
        return v.name, v
    except MalformedKeyError:
        return _split_keyed(spec, "--log-vkey", "a vkey nor ORIGIN")


def _witness(state: Path, skey_file: list[Path], log_vkey: list[str]) -> Witness:
    logs: dict[str, list[NoteVerifier]] = {}
    for spec in log_vkey:
        origin, v = _log_key(spec)
        logs.setdefault(origin, []).append(v)
    if not logs:
        raise ConfigError("give at least one --log-vkey")
    signers = [signer_from_skey(s) for s in read_skeys(skey_file)]
    return Witness(WitnessState(state), signers, logs)


@app.command("serve")
def serve(
    state: StateOpt,
    skey_file: SkeyOpt,
    log_vkey: LogOpt,
    host: Annotated[str, typer.Option(help="Listen address (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 7380,
) -> None:
    """Serve POST /add-checkpoint and GET /<origin hash>/checkpoint until interrupted."""
    with exit_on_rsrp_error():
        server = WitnessServer(_witness(state, skey_file, log_vkey), host, port)
        typer.echo(f"witness listening on {server.url}", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


@app.command("cosign")
def cosign(
    request: Annotated[Path, typer.Argument(help="add-checkpoint request body, or - for stdin.")],
    state: StateOpt,
    skey_file: SkeyOpt,
    log_vkey: LogOpt,
) -> None:
    """Check one add-checkpoint request against the state; print our cosignature lines.

    Exit 1 on refusal (rollback, fork, bad signature, ...), with the reason and the
    HTTP status a witness server would have answered.
    """
    with exit_on_rsrp_error():
        body = (
            sys.stdin.buffer.read(1_100_001)
            if str(request) == "-"
            else read_capped(request, "request", 1_100_000)
        )
        lines = _witness(state, skey_file, log_vkey).add_checkpoint(body)
        typer.echo(lines.decode("utf-8"), nl=False)


@app.command("incidents")
def incidents(state: StateOpt) -> None:
    """List stored evidence of log misbehaviour (rollbacks, forks)."""
    with exit_on_rsrp_error():
        for i in WitnessState(state).incidents():
            typer.echo(f"{i.at_unix}\t{i.origin}\t{i.kind}\t{i.detail}")


@app.command("publish")
def publish(
    log: Annotated[str, typer.Argument(help="Log database (SQLite path or postgresql:// URL).")],
    witness: Annotated[
        list[str],
        typer.Option(
            "--witness",
            help="URL=VKEY: a witness's submission prefix and one of its cosigner vkeys "
            "(repeat the URL for each of its keys).",
        ),
    ],
    size: Annotated[
        int | None, typer.Option(help="Checkpoint size (default: the latest stored one).")
    ] = None,
) -> None:
    """Ask each witness to cosign a stored checkpoint (tlog-witness add-checkpoint), store the
    cosignatures with it and print the published note. Exit 1 if any witness refused."""
    with exit_on_rsrp_error():
        keys: dict[str, list[NoteVerifier]] = {}
        for spec in witness:
            url, v = _split_keyed(spec, "--witness", "URL")
            keys.setdefault(url, []).append(v)
        endpoints = [WitnessEndpoint(url, tuple(vs)) for url, vs in keys.items()]
        with Log.open(log) as opened:
            if size is None:
                latest = opened.latest_checkpoint()
                if latest is None:
                    raise ConfigError("the log has no checkpoint yet")
                size = latest.size
            note, failures = publish_checkpoint(opened, size, endpoints)
        typer.echo(note.decode("utf-8"), nl=False)
        for url, err in failures.items():
            err_console.print(f"witness {url} refused ({err.status}): {err}", markup=False)
        if failures:
            raise typer.Exit(1)
