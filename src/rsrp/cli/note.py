"""``rsrp note``: sign, verify and make keys for C2SP signed notes (Go sumdb/note format)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rsrp.cli._errors import exit_on_rsrp_error
from rsrp.errors import ConfigError
from rsrp.ledger._note import MAX_NOTE_SIZE, open_note, sign_note
from rsrp.ledger._note_registry import KEY_TYPES, generate_key, signer_from_skey, verifiers

__all__ = ["app", "read_capped", "read_skeys"]

app = typer.Typer(
    name="note",
    help="C2SP signed notes (golang.org/x/mod/sumdb/note compatible).",
    no_args_is_help=True,
)


def read_capped(path: Path, what: str, limit: int = MAX_NOTE_SIZE) -> bytes:
    """Read at most ``limit`` bytes of ``path``; a larger file is refused, not truncated."""
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise ConfigError(f"cannot read {what} {path}: {e.strerror}") from e
    if len(data) > limit:
        raise ConfigError(f"{what} {path} is larger than {limit} bytes")
    return data


def read_skeys(files: list[Path]) -> list[str]:
    """Every non-empty line of the skey files (one PRIVATE+KEY+... each)."""
    out: list[str] = []
    for f in files:
        lines = read_capped(f, "skey file", 65536).decode("utf-8", "replace").splitlines()
        out.extend(line.strip() for line in lines if line.strip())
    if not out:
        raise ConfigError("no skey found in the given --skey-file")
    return out


@app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="Note text to sign (must end with a newline).")],
    skey_file: Annotated[
        list[Path], typer.Option("--skey-file", help="File with one PRIVATE+KEY+... per line.")
    ],
) -> None:
    """Print the signed note: the text, an empty line, one signature line per key."""
    with exit_on_rsrp_error():
        text = read_capped(file, "note text")
        signers = [signer_from_skey(s) for s in read_skeys(skey_file)]
        try:
            body = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{file} is not UTF-8 text") from e
        typer.echo(sign_note(body, signers).decode("utf-8"), nl=False)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="Signed note.")],
    vkey: Annotated[list[str], typer.Option("--vkey", help="Trusted verifier key (repeatable).")],
) -> None:
    """Exit 0 and print the text if a signature from a given key verifies; else exit 1."""
    with exit_on_rsrp_error():
        verified = open_note(read_capped(file, "note"), verifiers(vkey))
        typer.echo(verified.text, nl=False)


@app.command("keygen")
def keygen(
    name: Annotated[str, typer.Argument(help="Key name, e.g. the log origin rsrp.example/FR.")],
    key_type: Annotated[
        str, typer.Option("--type", help=f"One of: {', '.join(KEY_TYPES)}.")
    ] = "ed25519",
) -> None:
    """Print a new skey (keep secret) then its vkey, one per line."""
    with exit_on_rsrp_error():
        skey, vkey = generate_key(name, key_type)
        typer.echo(skey)
        typer.echo(vkey)
