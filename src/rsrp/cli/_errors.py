"""Map :class:`rsrp.errors.RsrpError` families to exit codes and one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from rsrp.errors import RsrpError

__all__ = ["err_console", "exit_on_rsrp_error"]

err_console = Console(stderr=True, highlight=False)


@contextmanager
def exit_on_rsrp_error() -> Iterator[None]:
    """Print an ``RsrpError`` as ``error: <message>`` and exit with its family's code."""
    try:
        yield
    except RsrpError as e:
        err_console.print(f"[bold red]error:[/] {e}", markup=True, soft_wrap=True)
        raise typer.Exit(e.exit_code) from e
