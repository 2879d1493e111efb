"""Shared fixtures: real servers and tokens started by the project's own code.

Every module in tests/fixtures/ is a pytest plugin (PostgreSQL, SoftHSM2, the
local RFC 3161 authority, the development PKI); they are discovered here so
that adding one needs no edit to this file.
"""

from pathlib import Path

pytest_plugins: list[str] = sorted(
    f"tests.fixtures.{p.stem}"
    for p in (Path(__file__).parent / "fixtures").glob("*.py")
    if not p.name.startswith("_")
)
