"""``rsrp policy``: check, decide, test, sign and verify bundles (docs/policy-language.md)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from rsrp.canonical import canonical_hash
from rsrp.cli._errors import err_console, exit_on_rsrp_error
from rsrp.errors import ConfigError, PolicyError
from rsrp.keys import Keyring, Purpose, open_signer, open_store
from rsrp.keys._atomic import atomic_write
from rsrp.keys._store import StoreSigner
from rsrp.policy import (
    BundleSignature,
    Decision,
    Engine,
    PolicySyntaxError,
    check,
    parse,
    sign_bundle,
    verify_bundle,
)
from rsrp.policy._cases import decision_json, load_cases, parse_inputs, request_time, run_case
from rsrp.policy._values import parse_rfc3339

__all__ = ["app", "print_decisions"]

app = typer.Typer(help="Check, decide, test, sign and verify policy bundles.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
_STYLE = {"ALLOW": "green", "WARN": "yellow", "APPROVAL_REQUIRED": "magenta", "BLOCK": "red"}

FileArg = Annotated[Path, typer.Argument(help="Policy bundle file.", show_default=False)]


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"cannot read {path}: {e}") from e


@app.command("check")
def check_cmd(file: FileArg) -> None:
    """Parse and statically check a bundle; exit 1 on any error (warnings exit 0)."""
    with exit_on_rsrp_error():
        text = _read(str(file))
        try:
            bundle = parse(text, str(file))
        except PolicySyntaxError as e:
            console.print(str(e), markup=False)
            raise typer.Exit(1) from e
        found = check(bundle)
    errors = sum(d.severity == "error" for d in found)
    for d in found:
        style = "bold red" if d.severity == "error" else "yellow"
        console.print(d.render(text), style=style, markup=False)
    warnings = len(found) - errors
    summary = f"{file}: {len(bundle.rules)} rules, {errors} error(s), {warnings} warning(s)"
    console.print(summary, markup=False)
    if errors:
        raise typer.Exit(1)


def print_decisions(decisions: list[Decision], title: str) -> None:
    """A Rich table of decisions, then each decision's explanation."""
    table = Table(title=title, show_lines=False)
    for column in ("#", "decision", "code", "matched", "message"):
        table.add_column(column, overflow="fold")
    for i, d in enumerate(decisions, 1):
        name = d.outcome.name
        matched = ", ".join(m.rule_id for m in d.matched) or "-"
        table.add_row(str(i), f"[{_STYLE[name]}]{name}[/]", d.code, matched, d.message)
    console.print(table)
    for i, d in enumerate(decisions, 1):
        console.print(f"[bold]#{i}[/] decided by {d.decided_by or 'the bundle default'}")
        for x in d.explanation:
            values = ", ".join(f"{path}={text}" for path, text in x.values)
            console.print(f"  {x.rule_id}: {values}", markup=False)
        console.print(f"  input_hash {d.input_hash.hex()}", markup=False)


@app.command("decide")
def decide_cmd(
    file: FileArg,
    input_path: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            help="JSON file of inputs, or - for stdin: one object, an array, or JSON lines.",
        ),
    ],
    now: Annotated[
        str | None,
        typer.Option(
            help="Evaluation time NOW (RFC 3339). Default: each input's request.time if it "
            "has a valid one, else the current time. The engine never reads the clock."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per input (JSON lines).")
    ] = False,
    sign: Annotated[
        bool,
        typer.Option(
            "--sign",
            help="Also sign each decision into a V2 envelope OUT/<request id>.rsrp. The "
            "request id is the input's top-level request_id (not decided on unless the "
            "schema declares it) or request.id, else a random UUID. "
            "Offline there is no context snapshot: state_hash is canonical_hash({}). "
            "Existing files are never overwritten.",
        ),
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(
            help="Key store URI (file:/dir or pkcs11:...), with key-id=/object= when "
            "--key-id is not given. Secrets come from RSRP_KEYSTORE_PASSPHRASE or "
            "RSRP_PKCS11_PIN."
        ),
    ] = None,
    key_id: Annotated[str | None, typer.Option(help="Signing key id in the store.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Directory for the envelopes (with --sign).")
    ] = None,
    mode: Annotated[
        str,
        typer.Option(help="per-decision (composite signature) or batch (ledger-covered)."),
    ] = "per-decision",
) -> None:
    """Decide each input against the bundle and print the decisions with explanations."""
    with exit_on_rsrp_error():
        if sign and (key is None or out is None):
            raise ConfigError("--sign needs --key URI and --out DIR")
        if mode not in ("per-decision", "batch"):
            raise ConfigError(f"--mode must be per-decision or batch, not {mode!r}")
        engine = Engine.load(file)
        declared = {m.name for m in engine.bundle.schema}
        inputs: list[object] = []
        ids: list[str | None] = []
        for x in parse_inputs(_read(input_path)):
            data, request_id = split_request_id(x, declared) if sign else (x, None)
            inputs.append(data)
            ids.append(request_id)
        fixed: dt.datetime | None = None
        if now is not None:
            try:
                fixed = parse_rfc3339(now)
            except (ValueError, OverflowError) as e:
                raise PolicyError(f"--now: {e}") from e
        clock = dt.datetime.now(dt.UTC)
        decisions = [engine.decide(x, now=fixed or request_time(x) or clock) for x in inputs]
        if sign and key is not None and out is not None:
            written = _sign(
                decisions, ids, key, key_id, out, "batch" if mode == "batch" else "per-decision"
            )
            for path in written:
                err_console.print(f"wrote {path}", markup=False, highlight=False)
    if as_json:
        for d in decisions:
            typer.echo(json.dumps(decision_json(d), ensure_ascii=False, sort_keys=True))
    else:
        print_decisions(decisions, f"{engine.bundle.id} {engine.bundle.version}")


def split_request_id(data: object, declared: set[str]) -> tuple[object, str | None]:
    """The input to decide and the caller's id for it: a top-level ``request_id`` (removed
    before deciding unless the schema declares it), else ``request.id``, when a string."""
    if not isinstance(data, dict):
        return data, None
    found = data.get("request_id")
    if "request_id" in data and "request_id" not in declared:
        data = {k: v for k, v in data.items() if k != "request_id"}
    request = data.get("request")
    if not isinstance(found, str) and isinstance(request, dict):
        found = request.get("id")
    return data, found if isinstance(found, str) else None


def _sign(
    decisions: list[Decision],
    ids: list[str | None],
    key: str,
    key_id: str | None,
    out: Path,
    mode: Literal["per-decision", "batch"],
) -> list[Path]:
    # Imported here: only --sign pays for loading the proof stage.
    from rsrp.proof import write_envelopes

    signer = _open_signer(key, key_id)
    no_context = canonical_hash({})  # offline: no context snapshot was taken
    items = [
        (d, request_id or uuid.uuid4().hex, no_context)
        for d, request_id in zip(decisions, ids, strict=True)
    ]
    return write_envelopes(items, signer, out, mode=mode)


@app.command("test")
def test_cmd(
    file: FileArg,
    cases: Annotated[Path, typer.Argument(help="Cases file (JSON, see BRIEF/README).")],
) -> None:
    """Run a bundle's test cases; report each, exit 1 on any failure."""
    with exit_on_rsrp_error():
        engine = Engine.load(file)
        loaded = load_cases(_read(str(cases)))
        results = [run_case(engine, c) for c in loaded]
    failed = 0
    for r in results:
        d = r.decision
        got = f"{d.outcome.name} {d.code} [{', '.join(m.rule_id for m in d.matched)}]"
        if r.failures:
            failed += 1
            console.print(f"[red]FAIL[/] {r.case.name}: {'; '.join(r.failures)}", markup=True)
            if d.error:
                console.print(f"     error: {d.error}", markup=False)
        else:
            console.print(f"[green]PASS[/] {r.case.name}: {got}")
    console.print(f"{len(results) - failed} passed, {failed} failed, {len(results)} cases")
    if failed:
        raise typer.Exit(1)


def _open_signer(key: str, key_id: str | None) -> StoreSigner:
    return open_store(key).signer(key_id) if key_id is not None else open_signer(key)


def _signer_for_policy(key: str, key_id: str | None) -> StoreSigner:
    signer = _open_signer(key, key_id)
    info = signer.store.info(signer.key_id)
    if info.purpose != Purpose.POLICY_SIGNING:
        raise ConfigError(
            f"key {info.key_id} is a {info.purpose.value} key; sign bundles with a "
            "policy-signing key (rsrp keys generate --purpose policy-signing)"
        )
    return signer


def _default_signature(file: Path) -> Path:
    return file.with_name(file.name + ".sig")


@app.command("sign")
def sign_cmd(
    file: FileArg,
    key: Annotated[
        str,
        typer.Option(
            help="Key store URI of a policy-signing key (file:/dir?key-id=K or pkcs11:...;"
            "object=K), or the store with --key-id. Secrets come from "
            "RSRP_KEYSTORE_PASSPHRASE or RSRP_PKCS11_PIN."
        ),
    ],
    key_id: Annotated[str | None, typer.Option(help="Signing key id in the store.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Signature file. Default: BUNDLE.sig next to it.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing signature file.")] = False,
) -> None:
    """Check and compile a bundle, then sign its identity and policy_hash (detached)."""
    with exit_on_rsrp_error():
        engine = Engine.load(file)
        target = out or _default_signature(file)
        if target.exists() and not force:
            raise ConfigError(f"{target} exists; pass --force to replace it")
        signature = sign_bundle(engine, _signer_for_policy(key, key_id))
        atomic_write(target, signature.to_json().encode())
    b = engine.bundle
    console.print(
        f"signed {b.id} {b.version} ({b.jurisdiction}) policy_hash "
        f"{engine.policy_hash.hex()} with {signature.key_id} -> {target}",
        markup=False,
    )


@app.command("verify")
def verify_cmd(
    file: FileArg,
    keyring: Annotated[
        Path, typer.Option(help="Directory of exported public keys (rsrp keys export).")
    ],
    signature: Annotated[
        Path | None, typer.Option(help="Signature file. Default: BUNDLE.sig next to it.")
    ] = None,
) -> None:
    """Verify a bundle's detached signature; exit 0 only if it verifies."""
    with exit_on_rsrp_error():
        engine = Engine.load(file)
        path = signature or _default_signature(file)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read bundle signature {path}: {e.strerror or e}") from e
        parsed = BundleSignature.from_bytes(data)
        verify_bundle(engine, parsed, Keyring.load(keyring))
    b = engine.bundle
    console.print(
        f"OK {b.id} {b.version} ({b.jurisdiction}) signed by {parsed.key_id} "
        f"({parsed.algorithm}) at {parsed.signed_at.isoformat()}",
        markup=False,
    )
