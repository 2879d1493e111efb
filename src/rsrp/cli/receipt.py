"""``rsrp receipt``: build a decision's receipt from a log; verify one offline."""

from __future__ import annotations

import base64
import binascii
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from cryptography import x509

from rsrp.cli._errors import exit_on_rsrp_error
from rsrp.cli.note import read_capped
from rsrp.errors import ConfigError
from rsrp.ledger._log import Log
from rsrp.ledger._note import NoteVerifier
from rsrp.ledger._note_registry import verifier_from_vkey
from rsrp.ledger._receipt import build_receipt, verify_receipt, verify_tlog_proof
from rsrp.ledger._receipt_format import MAX_RECEIPT
from rsrp.ledger._witness_policy import Threshold, WitnessKey
from rsrp.ledger.rfc6962 import hash_leaf

if TYPE_CHECKING:
    from rsrp.proof import Keyring

__all__ = ["app"]

app = typer.Typer(name="receipt", help="Decision receipts (envelope + C2SP tlog-proof).")

# The witness options both verify commands share.
_WitnessVkeys = Annotated[
    list[str] | None, typer.Option("--witness-vkey", help="Witness cosigner vkey.")
]
_WitnessThreshold = Annotated[
    int | None, typer.Option(help="Witnesses required (default: all given).")
]


def witness_policy(vkeys: list[str], threshold: int | None) -> Threshold | None:
    """Group witness vkeys by key name (one witness may have several keys): k of n witnesses."""
    if not vkeys:
        if threshold:
            raise ConfigError("--witness-threshold needs --witness-vkey")
        return None
    groups: dict[str, list[NoteVerifier]] = {}
    for vkey in vkeys:
        v = verifier_from_vkey(vkey)
        groups.setdefault(v.name, []).append(v)
    members = tuple(WitnessKey(name, tuple(vs)) for name, vs in groups.items())
    return Threshold(len(members) if threshold is None else threshold, members)


def _keyring(directory: Path) -> Keyring:
    from rsrp.keys import Keyring as KeysKeyring
    from rsrp.proof import StaticKeyring

    if not directory.is_dir():
        raise ConfigError(f"--keyring {directory} is not a directory")
    if any(directory.glob("*.json")):
        return KeysKeyring.load(directory)  # `rsrp keys export` files, with validity windows
    return StaticKeyring.from_dir(directory)


def _roots(files: list[Path]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for f in files:
        try:
            out.extend(x509.load_pem_x509_certificates(read_capped(f, "TSA root", 1 << 20)))
        except ValueError as e:
            raise ConfigError(f"{f} holds no PEM certificate") from e
    return out


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="Receipt file (.rsrp-receipt).")],
    vkey: Annotated[list[str], typer.Option("--vkey", help="Log vkey (repeatable).")],
    keyring: Annotated[
        Path | None, typer.Option(help="Envelope keys: `rsrp keys export` dir or <key id>.pem.")
    ] = None,
    witness_vkey: _WitnessVkeys = None,
    witness_threshold: _WitnessThreshold = None,
    origin: Annotated[str | None, typer.Option(help="Expected checkpoint origin.")] = None,
    tsa_root: Annotated[
        list[Path] | None,
        typer.Option("--tsa-root", help="Trusted TSA root (PEM); requires a stamp."),
    ] = None,
) -> None:
    """Verify offline: log signature, witnesses, inclusion, time-stamp, envelope. Exit 0/1."""
    with exit_on_rsrp_error():
        policy = witness_policy(witness_vkey or [], witness_threshold)
        ring = _keyring(keyring) if keyring is not None else None
        v = verify_receipt(
            read_capped(file, "receipt", MAX_RECEIPT),
            vkey,
            policy,
            ring,
            origin=origin,
            tsa_roots=_roots(tsa_root or []),
        )
        cp = v.checkpoint
        typer.echo(f"valid: entry {v.index} of {cp.origin} (tree size {cp.size})")
        typer.echo(f"log signatures: {', '.join(v.log_keys)}")
        typer.echo(f"witnesses: {', '.join(sorted(v.witnesses)) or 'none required'}")
        typer.echo(f"time-stamp: {v.timestamp.isoformat() if v.timestamp else 'not checked'}")
        if v.envelope is None:
            typer.echo("envelope: NOT CHECKED (no --keyring)")
        else:
            env = v.envelope
            typer.echo(f"envelope: {env.envelope.decision.name} by {env.key_id} ({env.evidence})")


@app.command("build")
def build(
    log: Annotated[str, typer.Argument(help="Log database (SQLite path or postgresql:// URL).")],
    index: Annotated[int, typer.Argument(help="Entry index.")],
) -> None:
    """Print the receipt of an entry under the latest stored checkpoint."""
    with exit_on_rsrp_error(), Log.open(log) as opened:
        typer.echo(build_receipt(opened, index).to_bytes().decode("utf-8"), nl=False)


def _leaf_hash(leaf_hash: str | None, leaf_file: Path | None) -> bytes:
    """Step 1 of tlog-proof §Verifying: a given hash (hex or base64) or RFC 6962 of a file."""
    if (leaf_hash is None) == (leaf_file is None):
        raise ConfigError("give exactly one of --leaf-hash and --leaf-file")
    if leaf_file is not None:
        return hash_leaf(read_capped(leaf_file, "leaf", MAX_RECEIPT))
    text = (leaf_hash or "").strip()
    raw: bytes | None = None
    if len(text) == 64:
        with contextlib.suppress(ValueError):
            raw = bytes.fromhex(text)
    if raw is None:
        with contextlib.suppress(ValueError, binascii.Error):
            raw = base64.b64decode(text, validate=True)
    if raw is None or len(raw) != 32:
        raise ConfigError("--leaf-hash must be 32 bytes in hex or base64")
    return raw


@app.command("verify-proof")
def verify_proof(
    file: Annotated[Path, typer.Argument(help="A c2sp.org/tlog-proof@v1 file from any log.")],
    vkey: Annotated[list[str], typer.Option("--vkey", "--log-key", help="Log vkey (repeatable).")],
    leaf_hash: Annotated[
        str | None, typer.Option(help="RFC 6962 leaf hash of the entry (hex or base64).")
    ] = None,
    leaf_file: Annotated[
        Path | None, typer.Option(help="The raw entry; hashed as SHA-256(0x00 || bytes).")
    ] = None,
    origin: Annotated[
        str | None, typer.Option(help="Expected checkpoint origin (default: the vkey's name).")
    ] = None,
    witness_vkey: _WitnessVkeys = None,
    witness_threshold: _WitnessThreshold = None,
) -> None:
    """Verify a third-party tlog-proof offline (tlog-proof §Verifying). Exit 0/1."""
    with exit_on_rsrp_error():
        leaf = _leaf_hash(leaf_hash, leaf_file)
        if not vkey:
            raise ConfigError("give the log's key with --vkey")
        # As transparency-dev's tlog-verify: the origin defaults to the log key's name.
        want = origin if origin is not None else verifier_from_vkey(vkey[0]).name
        signed, witnesses = verify_tlog_proof(
            read_capped(file, "tlog-proof", MAX_RECEIPT),
            leaf,
            vkey,
            witness_policy(witness_vkey or [], witness_threshold),
            origin=want,
        )
        cp = signed.checkpoint
        typer.echo(f"OK: leaf {leaf.hex()} is in {cp.origin} at tree size {cp.size}")
        keys = ", ".join(f"{s.name}+{s.key_id:08x}" for s in signed.note.verified)
        typer.echo(f"log signatures: {keys}")
        typer.echo(f"witnesses: {', '.join(sorted(witnesses)) or 'none required'}")
