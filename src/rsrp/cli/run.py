"""``rsrp run``: the main job on embedded defaults."""

from __future__ import annotations

import typer


def run() -> None:
    """Until the service exists: decide the bank-registry example requests and print a table."""
    typer.echo("rsrp: the policy engine is not built yet")
    raise typer.Exit(1)
