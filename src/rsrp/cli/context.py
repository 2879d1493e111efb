"""``rsrp context``: check, import and list agents, organisations and missions (admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from rsrp.cli._errors import exit_on_rsrp_error
from rsrp.context import (
    Database,
    Registry,
    agent_to_value,
    load_directory,
    mission_to_value,
    organisation_to_value,
)

__all__ = ["app"]

app = typer.Typer(help="Agents, organisations and missions (the service's context data).")
console = Console(highlight=False, width=140)

DbOption = Annotated[
    str,
    typer.Option("--db", help="Database URL (sqlite:PATH or postgresql://...), as the ledger's."),
]


@app.command("check")
def check(
    directory: Annotated[Path, typer.Argument(help="Directory of *.toml / *.json files.")],
) -> None:
    """Parse and cross-check a context directory; exit 1 with the first problem."""
    with exit_on_rsrp_error():
        data = load_directory(directory)
        typer.echo(
            f"ok: {len(data.organisations)} organisations, {len(data.agents)} agents, "
            f"{len(data.missions)} missions ({', '.join(data.sources)})"
        )


@app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="Directory of *.toml / *.json files.")],
    db: DbOption,
) -> None:
    """Upsert a context directory into the database in one transaction."""
    with exit_on_rsrp_error():
        data = load_directory(directory)
        database = Database(db)
        try:
            Registry(database).import_data(data)
        finally:
            database.close()
        typer.echo(f"imported {len(data.agents)} agents and {len(data.missions)} missions")


@app.command("list")
def list_(
    db: DbOption,
    kind: Annotated[
        Literal["agents", "missions", "organisations"], typer.Option(help="What to list.")
    ] = "agents",
) -> None:
    """List what the database holds."""
    with exit_on_rsrp_error():
        database = Database(db)
        try:
            reg = Registry(database)
            rows = {
                "agents": lambda: [agent_to_value(a) for a in reg.agents()],
                "missions": lambda: [mission_to_value(m) for m in reg.missions()],
                "organisations": lambda: [organisation_to_value(o) for o in reg.organisations()],
            }[kind]()
        finally:
            database.close()
        table = Table(title=kind)
        for col in rows[0] if rows else ["(none)"]:
            table.add_column(str(col))
        for row in rows:
            table.add_row(*(str(v) for v in row.values()))
        console.print(table)
