"""``rsrp run``: the main job on embedded defaults.

Until the service exists: decide the bank-registry example requests and print
a table of decisions with their explanations.
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
) -> None:
    """Decide the bank-registry example requests and print the decisions."""
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
