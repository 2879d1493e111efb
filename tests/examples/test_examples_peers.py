"""The Cedar and Rego translations used by bench/policy_engine.py decide the
bank-registry cases as the rsrp bundle's authors expect.

The benchmark's agreement count is only meaningful if the peers' policies are
faithful; this pins them to the same hand-written cases as the bundle.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import cedarpy
import pytest
import regorus
from bench import policy_engine as bench

from rsrp.policy import Engine

CASES = [
    c
    for c in json.loads((bench.BUNDLE.parent / "cases.json").read_text(encoding="utf-8"))["cases"]
    # Peers do not validate input against a schema; fail-closed cases are rsrp's own.
    if c["expect"]["code"] != "EVALUATION_ERROR"
]
RULES = bench.rule_table(bench.BUNDLE.read_text(encoding="utf-8"))


def _want(case: dict[str, Any]) -> tuple[str, str]:
    return (case["expect"]["decision"], case["expect"]["code"])


@pytest.fixture(scope="module")
def cedar() -> tuple[Any, Any]:
    return (
        cedarpy.PolicySet.from_str(bench.CEDAR.read_text(encoding="utf-8")),
        cedarpy.Entities.from_json_str("[]"),
    )


@pytest.fixture(scope="module")
def rego() -> Any:
    program = regorus.Program.compile_from_modules(
        "{}", [("bank_registry.rego", bench.REGO.read_text(encoding="utf-8"))], ["data.crue.result"]
    )
    vm = regorus.Rvm()
    vm.load_program(program)
    return vm


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_cedar_translation_matches_case(case: dict[str, Any], cedar: tuple[Any, Any]) -> None:
    result = cedarpy.is_authorized(bench.cedar_request(case["input"]), *cedar)
    assert bench.cedar_verdict(result, RULES) == _want(case), result.diagnostics.errors


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rego_translation_matches_case(case: dict[str, Any], rego: Any) -> None:
    rego.set_input_json(json.dumps(case["input"]))
    result = json.loads(rego.execute_entry_point("data.crue.result"))
    assert bench.rego_verdict(result, RULES) == _want(case)
    assert sorted(result["matched"]) == sorted(case["expect"]["matched"])


def test_bench_mix_is_fixed_and_covers_every_rule() -> None:
    """Same seed, same inputs; every rule of the bundle matches somewhere in the mix."""
    first, again = bench.make_inputs(2000), bench.make_inputs(2000)
    assert first == again
    program = regorus.Program.compile_from_modules(
        "{}", [("r.rego", bench.REGO.read_text(encoding="utf-8"))], ["data.crue.result"]
    )
    vm = regorus.Rvm()
    vm.load_program(program)
    fired: set[str] = set()
    for data in first:
        vm.set_input_json(json.dumps(data))
        fired.update(json.loads(vm.execute_entry_point("data.crue.result"))["matched"])
    assert fired == set(RULES)


def test_bundle_agrees_with_rego_on_seeded_mix(rego: Any) -> None:
    """The rsrp bundle and its Rego translation agree on 2,000 generated inputs."""
    engine = Engine.load(bench.BUNDLE)
    disagreements = []
    for i, data in enumerate(bench.make_inputs(2000, seed=7)):
        decision = engine.decide(data, now=dt.datetime.fromisoformat(data["request"]["time"]))
        rego.set_input_json(json.dumps(data))
        result = json.loads(rego.execute_entry_point("data.crue.result"))
        ours = (decision.outcome.name, decision.code, sorted(m.rule_id for m in decision.matched))
        theirs = (*bench.rego_verdict(result, RULES), sorted(result["matched"]))
        if ours != theirs:
            disagreements.append((i, ours, theirs))
    assert disagreements == []
