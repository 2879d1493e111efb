"""``rsrp ledger``: publish a log as C2SP tlog-tiles and audit a log (database or tiles)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rsrp.cli._errors import exit_on_rsrp_error
from rsrp.cli.note import read_capped
from rsrp.errors import ConfigError
from rsrp.keys import Keyring
from rsrp.ledger._audit import EntryCheck, audit
from rsrp.ledger._checkpoint_audit import checkpoint_note_verifier
from rsrp.ledger._log import open_backend
from rsrp.ledger._note_registry import verifier_from_vkey, verifiers
from rsrp.ledger._storage import Backend
from rsrp.ledger._tiles import TilesSource, export_tiles
from rsrp.ledger._witness_policy import Threshold, WitnessKey

__all__ = ["app"]

app = typer.Typer(
    name="ledger", help="The transparency log: export and audit.", no_args_is_help=True
)
_console = Console(highlight=False, soft_wrap=True)
_TRUSTED = re.compile(r"^([0-9]{1,20}):([0-9a-f]{64})$")

DbOption = Annotated[
    str,
    typer.Option(
        "--db", envvar="RSRP_LEDGER_DB", help="Ledger database: SQLite path or postgresql:// URL."
    ),
]


def _open_existing(target: str) -> Backend:
    if "://" not in target and not Path(target).is_file():
        raise ConfigError(f"no ledger database at {target}")
    return open_backend(target)


def _witness_policy(vkeys: list[str], required: int | None) -> Threshold | None:
    if not vkeys:
        if required is not None:
            raise ConfigError("--witnesses-required needs --witness keys")
        return None
    keys = [verifier_from_vkey(v) for v in vkeys]
    members = tuple(WitnessKey(k.name, (k,)) for k in keys)
    return Threshold(len(members) if required is None else required, members)


def _pem_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(read_capped(path, "TSA root certificate"))
    except ValueError as e:
        raise ConfigError(f"{path} is not a PEM certificate: {e}") from e


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Output directory (created if missing).")],
    db: DbOption = "ledger.db",
) -> None:
    """Write the log up to its latest checkpoint as C2SP tlog-tiles (tiles, bundles, checkpoint)."""
    with exit_on_rsrp_error():
        backend = _open_existing(db)
        try:
            with _progress() as bar:
                task = bar.add_task("exporting", total=None)
                cp = export_tiles(
                    backend, directory, progress=lambda d, t: bar.update(task, completed=d, total=t)
                )
        finally:
            backend.close()
        _console.print(f"exported {cp.size} entries and the checkpoint to {directory}")


def _envelope_check(directory: Path) -> EntryCheck:
    # Imported here: only --keyring pays for loading the proof stage.
    from rsrp.proof import NeedsInclusionProofError, verify_envelope

    ring = Keyring.load(directory)

    def check(index: int, entry: bytes) -> None:
        try:
            verify_envelope(entry, ring)
        except NeedsInclusionProofError:
            # A batch-mode envelope is signed only through the checkpoint: it carries no
            # evidence of its own, so it cannot be the one named.
            return

    return check


@app.command("verify")
def verify(
    target: Annotated[
        str, typer.Argument(help="Tiles directory, SQLite path or postgresql:// URL.")
    ],
    vkey: Annotated[
        list[str], typer.Option("--vkey", help="The log's note verifier key (repeatable).")
    ],
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="Checkpoint origin line (default: the first vkey's name)."),
    ] = None,
    trusted: Annotated[
        list[str] | None,
        typer.Option("--trusted", help="SIZE:ROOTHEX of a checkpoint seen before (repeatable)."),
    ] = None,
    tsa_root: Annotated[
        list[Path] | None,
        typer.Option("--tsa-root", help="PEM root of the RFC 3161 TSA; tokens then required."),
    ] = None,
    witness: Annotated[
        list[str] | None, typer.Option("--witness", help="A witness's vkey (repeatable).")
    ] = None,
    witnesses_required: Annotated[
        int | None,
        typer.Option("--witnesses-required", help="How many --witness must cosign (default: all)."),
    ] = None,
    keyring: Annotated[
        Path | None,
        typer.Option(
            "--keyring",
            help="Exported decision-signing public keys (rsrp keys export). When a stored "
            "node shows an entry was altered together with its leaf hash, name the exact "
            "entry by its envelope signature instead of its 16-entry range.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Worker processes that read and hash entries in parallel (database "
            "targets); 0 reads and hashes in this process.",
        ),
    ] = 0,
) -> None:
    """Recompute every leaf, node and root; check every checkpoint's signature and the chain.

    Exit 0 when the log is intact; 1 with the first bad index and the problem otherwise.
    """
    with exit_on_rsrp_error():
        anchors = []
        for t in trusted or []:
            m = _TRUSTED.fullmatch(t)
            if m is None:
                raise ConfigError(f"--trusted must be SIZE:ROOTHEX (64 hex digits), got {t!r}")
            anchors.append((int(m.group(1)), bytes.fromhex(m.group(2))))
        log_keys = verifiers(vkey)
        if not log_keys:
            raise ConfigError("give the log's public key with --vkey")
        check = checkpoint_note_verifier(
            origin or log_keys[0].name,
            log_keys,
            witness_policy=_witness_policy(witness or [], witnesses_required),
            tsa_roots=[_pem_cert(p) for p in tsa_root or []],
        )
        if Path(target).is_dir():
            tiles = TilesSource(Path(target))
            sources: tuple[TilesSource | Backend, list[int] | None] = (tiles, tiles.node_levels())
        else:
            sources = (_open_existing(target), None)
        src, levels = sources
        try:
            with _progress() as bar:
                task = bar.add_task("verifying", total=None)
                report = audit(
                    src,
                    progress=lambda d, t: bar.update(task, completed=d, total=t),
                    node_levels=levels,
                    verify_note=check,
                    trusted=anchors,
                    workers=workers,
                    verify_entry=_envelope_check(keyring) if keyring else None,
                )
        finally:
            if not isinstance(src, TilesSource):
                src.close()
        tokens = sum(1 for c in report.checkpoints if c.timestamp_token)
        extras = []
        if tsa_root:
            extras.append(f"{tokens} RFC 3161 token(s) verified")
        if witness:
            extras.append("witness policy met by every checkpoint")
        _console.print(
            f"ok: {report.size} entries, root {report.root.hex()}, "
            f"{report.nodes_checked} stored nodes and {len(report.checkpoints)} signed "
            "checkpoint(s) checked, consistency chain intact"
        )
        if extras:
            _console.print("ok: " + ", ".join(extras))
        if tokens and not tsa_root:
            _console.print(f"note: {tokens} RFC 3161 token(s) stored, not checked (no --tsa-root)")
