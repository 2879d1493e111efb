"""``rsrp keys``: manage keys in a store (``--store file:...`` or ``--store pkcs11:...``)
and verify detached signatures. Secrets come from RSRP_KEYSTORE_PASSPHRASE or
RSRP_PKCS11_PIN, never from the command line."""

from __future__ import annotations

import base64
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rsrp.cli._errors import err_console, exit_on_rsrp_error
from rsrp.keys import (
    BaseKeyStore,
    JournalError,
    KeyStoreError,
    Purpose,
    SignatureInvalidError,
    export_public,
    jwks,
    note_vkey,
    open_store,
    spki_pem,
)
from rsrp.keys._journal import GENESIS
from rsrp.keys._material import crypto_errors, load_public
from rsrp.keys._model import parse_time

__all__ = ["app"]

app = typer.Typer(help="Key stores: generate, rotate, export, import, destroy; verify signatures.")
out = Console(highlight=False)

StoreOpt = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="RSRP_KEY_STORE",
        help="Store URI: file:/dir[?jurisdiction=XX] or pkcs11:token=...?module-path=...",
    ),
]
KeyIdArg = Annotated[str, typer.Argument(help="Key id.")]


class ExportFormat(StrEnum):
    PEM = "pem"
    JWKS = "jwks"
    KEYRING = "keyring"
    NOTE_VKEY = "note-vkey"


class SigEncoding(StrEnum):
    RAW = "raw"
    BASE64 = "base64"
    HEX = "hex"


def _store(uri: str) -> BaseKeyStore:
    return open_store(uri)


@app.command("init")
def init(store: StoreOpt) -> None:
    """Create (file:) or open (pkcs11:) a store and check its journal."""
    with exit_on_rsrp_error():
        s = _store(store)
        n = len(s.journal())
        out.print(f"store ready: {s.scheme}: {len(s.list())} keys, {n} journal events")


@app.command("generate")
def generate(
    store: StoreOpt,
    algorithm: Annotated[str, typer.Option(help="ed25519, ecdsa-p384-sha384, ml-dsa-65, ...")],
    purpose: Annotated[Purpose, typer.Option(help="What the key is for.")],
    jurisdiction: Annotated[str | None, typer.Option(help="ISO 3166 code or region id.")] = None,
    key_id: Annotated[str | None, typer.Option(help="Key id (default: generated).")] = None,
    not_after: Annotated[str | None, typer.Option(help="End of validity, RFC 3339.")] = None,
    test: Annotated[bool, typer.Option(help="Mark as a test key (refused in production).")] = False,
) -> None:
    """Generate a key and activate it; prints its key id."""
    with exit_on_rsrp_error():
        end = parse_time(not_after) if not_after else None
        info = _store(store).generate(
            algorithm, purpose, jurisdiction=jurisdiction, key_id=key_id, not_after=end, test=test
        )
        out.print(info.key_id)


@app.command("list")
def list_keys(store: StoreOpt) -> None:
    """List keys with their state, jurisdiction and validity."""
    with exit_on_rsrp_error():
        table = Table("key id", "algorithm", "purpose", "jurisdiction", "state", "not after")
        for i in _store(store).list():
            end = i.not_after.isoformat() if i.not_after else "-"
            state = i.state.value + (" (test)" if i.test else "")
            table.add_row(i.key_id, i.algorithm, i.purpose.value, i.jurisdiction, state, end)
        out.print(table)


@app.command("rotate")
def rotate(
    store: StoreOpt,
    key_id: KeyIdArg,
    new_key_id: Annotated[str | None, typer.Option(help="Id of the successor.")] = None,
) -> None:
    """Activate a successor key and deactivate KEY_ID; prints the new key id."""
    with exit_on_rsrp_error():
        out.print(_store(store).rotate(key_id, new_key_id=new_key_id).key_id)


@app.command("retire")
def retire(store: StoreOpt, key_id: KeyIdArg) -> None:
    """Deactivate KEY_ID: it never signs again but still verifies the past."""
    with exit_on_rsrp_error():
        out.print(f"{key_id}: {_store(store).retire(key_id).state.value}")


class Transition(StrEnum):
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    COMPROMISE = "compromise"


@app.command("state")
def state(
    store: StoreOpt,
    key_id: KeyIdArg,
    to: Annotated[Transition, typer.Option("--to", help="Lifecycle change (NIST SP 800-57).")],
) -> None:
    """Activate, suspend or mark KEY_ID compromised (retire and destroy have their own)."""
    with exit_on_rsrp_error():
        s = _store(store)
        change = {
            Transition.ACTIVATE: s.activate,
            Transition.SUSPEND: s.suspend,
            Transition.COMPROMISE: s.compromise,
        }[to]
        out.print(f"{key_id}: {change(key_id).state.value}")


@app.command("destroy")
def destroy(
    store: StoreOpt,
    key_id: KeyIdArg,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
) -> None:
    """Destroy KEY_ID's private material (it must be deactivated, compromised or unused)."""
    with exit_on_rsrp_error():
        if not yes:
            err_console.print("error: destroying a key cannot be undone; pass --yes")
            raise typer.Exit(2)
        out.print(f"{key_id}: {_store(store).destroy(key_id).state.value}")


@app.command("export")
def export(
    store: StoreOpt,
    key_ids: Annotated[list[str] | None, typer.Argument(help="Key ids (default: all).")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = (
        ExportFormat.PEM
    ),
    output: Annotated[Path | None, typer.Option("--out", help="File (or directory).")] = None,
    name: Annotated[str | None, typer.Option(help="Signed-note key name (note-vkey).")] = None,
) -> None:
    """Export public keys: PEM SPKI, JWKS, a keyring directory, or a signed-note vkey."""
    with exit_on_rsrp_error():
        s = _store(store)
        # By default every key; JWKS and PEM are about signature keys, so KEM keys are
        # left out unless named.
        ids = key_ids or [i.key_id for i in s.list() if fmt is ExportFormat.KEYRING or not i.is_kem]
        if fmt is ExportFormat.KEYRING:
            if output is None:
                raise KeyStoreError("--format keyring needs --out DIRECTORY")
            for k in ids:
                export_public(s, k, output)
            out.print(f"exported {len(ids)} keys to {output}")
            return
        if fmt is ExportFormat.PEM:
            text = "".join(spki_pem(s.public_key(k)) for k in ids)
        elif fmt is ExportFormat.JWKS:
            text = json.dumps(jwks([(k, s.public_key(k)) for k in ids]), indent=2) + "\n"
        else:
            if len(ids) != 1 or not name:
                raise KeyStoreError("--format note-vkey needs exactly one key id and --name")
            text = note_vkey(name, s.public_key(ids[0])) + "\n"
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text)


@app.command("wrapping-key")
def wrapping_key(
    store: StoreOpt,
    output: Annotated[Path, typer.Option("--out", help="Where to write the AES-256 key.")],
) -> None:
    """Create a one-time BYOK import key (AES-256, for RFC 5649 key wrap); prints its id."""
    with exit_on_rsrp_error():
        import_id, kek = _store(store).new_import_key()
        output.touch(mode=0o600)
        output.write_bytes(kek)
        out.print(import_id)


@app.command("import")
def import_key(
    store: StoreOpt,
    key_file: Annotated[Path, typer.Argument(help="PKCS#8 (DER/PEM) or RFC 5649-wrapped.")],
    purpose: Annotated[Purpose, typer.Option(help="What the key is for.")],
    jurisdiction: Annotated[str | None, typer.Option(help="ISO 3166 code or region id.")] = None,
    key_id: Annotated[str | None, typer.Option(help="Key id (default: generated).")] = None,
    wrapping_key_id: Annotated[
        str | None, typer.Option(help="Id from `rsrp keys wrapping-key` if KEY_FILE is wrapped.")
    ] = None,
    test: Annotated[bool, typer.Option(help="Mark as a test key.")] = False,
) -> None:
    """Import a customer key (BYOK) and activate it; prints its key id."""
    with exit_on_rsrp_error():
        info = _store(store).import_key(
            key_file.read_bytes(),
            purpose,
            wrapping_key_id=wrapping_key_id,
            jurisdiction=jurisdiction,
            key_id=key_id,
            test=test,
        )
        out.print(info.key_id)


@app.command("journal")
def journal(
    store: StoreOpt,
    expected_head: Annotated[
        str | None,
        typer.Option(help="SHA-256 (hex) the last line must have, e.g. from a checkpoint."),
    ] = None,
) -> None:
    """Verify the key-event journal (hash chain, and agreement with the store); print it."""
    with exit_on_rsrp_error():
        events = _store(store).check_journal()
        head = events[-1].line_hash if events else GENESIS
        if expected_head is not None and head != expected_head.lower():
            raise JournalError(f"journal head is {head}, want {expected_head} (truncated?)")
        table = Table("seq", "time", "actor", "event", "key id", "state")
        for e in events:
            table.add_row(
                str(e.seq), e.time.isoformat(), e.actor, e.event, e.key.key_id, e.key.state.value
            )
        out.print(table)
        out.print(f"journal ok: {len(events)} events, head {head}", soft_wrap=True)


def _read_signature(path: Path, encoding: SigEncoding) -> bytes:
    data = path.read_bytes()
    try:
        if encoding is SigEncoding.BASE64:
            return base64.b64decode(b"".join(data.split()), validate=True)
        if encoding is SigEncoding.HEX:
            return bytes.fromhex(data.decode("ascii").strip())
    except ValueError as e:
        raise KeyStoreError(f"signature file is not {encoding.value}: {e}") from e
    return data


@app.command("verify")
def verify(
    public_key: Annotated[Path, typer.Option(help="PEM/DER SubjectPublicKeyInfo or X.509.")],
    signature: Annotated[Path, typer.Option(help="Detached signature file.")],
    message_file: Annotated[Path, typer.Argument(help="The signed message.")],
    context: Annotated[str | None, typer.Option(help="Context string (ML-DSA/composite).")] = None,
    encoding: Annotated[SigEncoding, typer.Option(help="Signature file encoding.")] = (
        SigEncoding.RAW
    ),
) -> None:
    """Verify a detached signature: exit 0 if valid, 1 with the reason if not."""
    with exit_on_rsrp_error():
        key = load_public(public_key.read_bytes())
        sig = _read_signature(signature, encoding)
        ctx = context.encode() if context is not None else b""
        try:
            with crypto_errors("verify"):
                key.verify(message_file.read_bytes(), sig, ctx)
        except SignatureInvalidError as e:
            err_console.print(f"invalid: {e.reason}")
            raise typer.Exit(1) from e
        out.print(f"valid: {key.algorithm} signature")
