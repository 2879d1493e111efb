"""``rsrp selftest``: run the crypto known-answer tests and print each result and time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rsrp.crypto import run_selftests

__all__ = ["selftest"]


def selftest(
    vectors: Annotated[
        Path | None,
        typer.Option(
            help="Run against this KAT JSON instead of the packaged one "
            "(to check that a corrupted vector is caught).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run every known-answer self-test; exit 1 if any fails."""
    kats = None if vectors is None else json.loads(vectors.read_text("utf-8"))
    results = run_selftests(kats)
    table = Table(title="rsrp crypto self-tests")
    table.add_column("Test")
    table.add_column("Result")
    table.add_column("Time (ms)", justify="right")
    table.add_column("Vector / reason", overflow="fold")
    for r in results:
        verdict = "[green]PASS[/]" if r.ok else "[bold red]FAIL[/]"
        table.add_row(r.name, verdict, f"{r.seconds * 1000:.2f}", r.detail)
    console = Console(width=140)
    console.print(table)
    failed = [r.name for r in results if not r.ok]
    total_ms = sum(r.seconds for r in results) * 1000
    if failed:
        console.print(
            f"[bold red]{len(failed)} of {len(results)} self-tests FAILED:[/] {', '.join(failed)}"
        )
        raise typer.Exit(1)
    console.print(f"all {len(results)} self-tests passed in {total_ms:.1f} ms")
