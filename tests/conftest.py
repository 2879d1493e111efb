"""Shared fixtures: real servers and tokens started by the project's own code."""

pytest_plugins: list[str] = [
    "tests.fixtures.postgres",
    "tests.fixtures.softhsm",
    "tests.fixtures.tsa",
]
