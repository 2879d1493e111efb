"""``rsrp run``: the main job on embedded defaults.

``rsrp run`` serves the decision API (``rsrp.cli.serve.run_main_job``: ./var with
SQLite, software keys and a development PKI, https://127.0.0.1:8443 with mTLS).
``rsrp run --offline`` only decides the bank-registry example requests and
prints a table of decisions with their explanations, with no server and no key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rsrp.cli._errors import exit_on_rsrp_error
from rsrp.cli.policy import print_decisions
from rsrp.errors import ConfigError
from rsrp.policy import Engine
from rsrp.policy._cases import parse_inputs, request_time

__all__ = ["run"]

_EXAMPLE = Path("examples") / "bank-registry"


def _default(name: str) -> Path:
    """``examples/bank-registry/<name>`` in the current directory or a parent of it."""
    for base in (Path.cwd(), *Path.cwd().parents):
        candidate = base / _EXAMPLE / name
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"{_EXAMPLE / name} not found from {Path.cwd()}: run from the rsrp repository "
        "or pass the policy and requests files"
    )


def run(
    policy: Annotated[
        Path | None, typer.Argument(help="Policy bundle (default examples/bank-registry).")
    ] = None,
    requests: Annotated[
        Path | None, typer.Argument(help="Requests: JSON array or JSON lines.")
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Only decide the example requests and print the table; serve nothing.",
        ),
    ] = False,
) -> None:
    """Serve the decision API on embedded defaults, or (--offline) print example decisions."""
    if not offline and policy is None and requests is None:
        # Imported here so that --offline never pays for the service stack.
        from rsrp.cli.serve import run_main_job

        run_main_job()
        return
    with exit_on_rsrp_error():
        policy_path = policy or _default("policy.rsrp")
        requests_path = requests or _default("requests.json")
        engine = Engine.load(policy_path)
        try:
            text = requests_path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read {requests_path}: {e}") from e
        inputs = parse_inputs(text)
        decisions = []
        for x in inputs:
            when = request_time(x)
            if when is None:
                raise ConfigError(f"every example request needs request.time ({requests_path})")
            decisions.append(engine.decide(x, now=when))
    print_decisions(decisions, f"{engine.bundle.id} {engine.bundle.version}: {requests_path}")
