"""``rsrp proof``: inspect and verify decision envelopes offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rsrp.cli._errors import exit_on_rsrp_error
from rsrp.errors import ConfigError, ProofError
from rsrp.keys import Keyring as KeysKeyring
from rsrp.proof import (
    EnvelopeV1,
    Expectation,
    Keyring,
    StaticKeyring,
    decode_envelope,
    verify_envelope,
)
from rsrp.proof._inspect import envelope_to_json, expectation_from_policy, read_envelope_bytes

__all__ = ["app"]

app = typer.Typer(help="Decision envelopes (R-SRP V1, rsrp V2): inspect and verify offline.")

FileArg = Annotated[Path, typer.Argument(help="Envelope file: raw binary, hex or base64.")]


def _read(path: Path) -> bytes:
    try:
        return read_envelope_bytes(path.read_bytes())
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e}") from e


def _hex32(value: str | None, name: str) -> bytes | None:
    if value is None:
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"--{name} must be 64 hex digits")
    return raw


@app.command("inspect")
def inspect(file: FileArg) -> None:
    """Print every field of an envelope as JSON (no verification)."""
    with exit_on_rsrp_error():
        data = _read(file)
        typer.echo(json.dumps(envelope_to_json(decode_envelope(data), data), indent=2))


@app.command("verify")
def verify(
    file: FileArg,
    public_key: Annotated[
        Path | None, typer.Option(help="PEM public key of the signer (V1 needs --key-id).")
    ] = None,
    keyring: Annotated[
        Path | None,
        typer.Option(help="Directory of `rsrp keys export` files (*.json) or <key id>.pem keys."),
    ] = None,
    key_id: Annotated[
        str | None, typer.Option(help="Signer key id (V1 carries only its hash).")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy bundle to recompute hashes.")] = None,
    input_: Annotated[
        Path | None, typer.Option("--input", help="Request JSON to recompute input_hash.")
    ] = None,
    policy_hash: Annotated[str | None, typer.Option(help="Expected policy_hash (hex).")] = None,
    input_hash: Annotated[str | None, typer.Option(help="Expected input_hash (hex).")] = None,
    state_hash: Annotated[str | None, typer.Option(help="Expected state_hash (hex).")] = None,
) -> None:
    """Verify an envelope: exit 0 if valid, 1 with the reason otherwise."""
    with exit_on_rsrp_error():
        _verify(
            file, public_key, keyring, key_id, policy, input_, policy_hash, input_hash, state_hash
        )


def _verify(
    file: Path,
    public_key: Path | None,
    keyring: Path | None,
    key_id: str | None,
    policy: Path | None,
    input_: Path | None,
    policy_hash: str | None,
    input_hash: str | None,
    state_hash: str | None,
) -> None:
    if (public_key is None) == (keyring is None):
        raise ConfigError("give exactly one of --public-key PEM or --keyring DIR")
    if input_ is not None and policy is None:
        raise ConfigError("--input needs --policy (the schema types the request before hashing)")
    expect = expectation_from_policy(policy, input_) if policy is not None else Expectation()
    expect = Expectation(
        policy_hash=_hex32(policy_hash, "policy-hash") or expect.policy_hash,
        bytecode_hash=expect.bytecode_hash,
        input_hash=_hex32(input_hash, "input-hash") or expect.input_hash,
        state_hash=_hex32(state_hash, "state-hash"),
        key_id=key_id,
    )
    try:
        data = _read(file)
        ring = _keyring(data, public_key, keyring, key_id)
        verified = verify_envelope(data, ring, expect)
    except ProofError as e:
        typer.echo(f"invalid: {type(e).__name__}: {e}", err=True)
        raise typer.Exit(1) from e
    env = verified.envelope
    typer.echo(
        f"valid: {env.decision.name} signed by {verified.key_id} "
        f"({verified.algorithm}, format V{verified.format_version})"
    )


def _keyring(data: bytes, pem: Path | None, directory: Path | None, key_id: str | None) -> Keyring:
    if directory is not None:
        if any(directory.glob("*.json")):
            return KeysKeyring.load(directory)  # rsrp keys export (with validity windows)
        return StaticKeyring.from_dir(directory)
    if pem is None:
        raise ConfigError("give exactly one of --public-key PEM or --keyring DIR")
    env = decode_envelope(data)
    kid = key_id if isinstance(env, EnvelopeV1) else env.key_id
    if kid is None:
        raise ConfigError("V1 envelopes carry only a key id hash: pass --key-id")
    try:
        return StaticKeyring.from_pem(pem.read_bytes(), kid)
    except OSError as e:
        raise ConfigError(f"cannot read {pem}: {e}") from e
