"""Test helper: run SQL straight against a ledger database, as an operator with access could."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg


def run_sql(url: str, *stmts: tuple[str, tuple[Any, ...]]) -> None:
    """Run ``(sql, args)`` statements (``?`` placeholders) in one transaction, then commit."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            for sql, args in stmts:
                conn.execute(sql, args)
    else:
        with psycopg.connect(url) as pg:
            for sql, args in stmts:
                pg.execute(sql.replace("?", "%s"), args)
