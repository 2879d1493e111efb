"""The ``rsrp`` command: parses arguments, calls the library, maps errors to exit codes."""

from __future__ import annotations

import typer

from rsrp.cli import context as context_cmd
from rsrp.cli import demo as demo_cmd
from rsrp.cli import keys as keys_cmd
from rsrp.cli import ledger as ledger_cmd
from rsrp.cli import note as note_cmd
from rsrp.cli import policy as policy_cmd
from rsrp.cli import proof as proof_cmd
from rsrp.cli import receipt as receipt_cmd
from rsrp.cli import run as run_cmd
from rsrp.cli import selftest as selftest_cmd
from rsrp.cli import serve as serve_cmd
from rsrp.cli import witness as witness_cmd
from rsrp.cli._errors import exit_on_rsrp_error

__all__ = ["app", "main"]

app = typer.Typer(
    name="rsrp",
    help="rsrp: provable zero-trust access decisions for sensitive registries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("run", help="Run the main job on embedded defaults (see README).")(run_cmd.run)
app.command("selftest", help="Run the crypto known-answer self-tests.")(selftest_cmd.selftest)
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(policy_cmd.app, name="policy")
app.add_typer(proof_cmd.app, name="proof")
app.add_typer(note_cmd.app, name="note")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(witness_cmd.app, name="witness")
app.add_typer(receipt_cmd.app, name="receipt")
app.command("serve")(serve_cmd.serve)
app.command("demo")(demo_cmd.demo)
app.add_typer(context_cmd.app, name="context")

# Each stage's commands live in their own module and are mounted here.
# (policy, keys, proof, ledger, note, witness, receipt, selftest, serve are added
# by their modules as they land.)


def main() -> None:
    with exit_on_rsrp_error():
        app()
