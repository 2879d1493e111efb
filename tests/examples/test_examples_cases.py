"""The reference bundles in examples/ decide every one of their authors' cases.

Each case of examples/*/cases.json (the `rsrp policy test` format of BRIEF.md)
becomes one test, named after the case, run through the public engine API.
The CLI's `policy check`, `policy test` and `run` must accept the bundles too.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.policy import Engine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUNDLES = ("bank-registry", "customs")
#: Minimum number of cases the issue asks of each bundle.
MIN_CASES = {"bank-registry": 40, "customs": 25}


def _cases(bundle: str) -> list[dict[str, Any]]:
    with (EXAMPLES / bundle / "cases.json").open(encoding="utf-8") as f:
        cases: list[dict[str, Any]] = json.load(f)["cases"]
    return cases


@functools.cache
def _engine(bundle: str) -> Engine:
    return Engine.load(EXAMPLES / bundle / "policy.rsrp")


ALL_CASES = [pytest.param(b, c, id=f"{b}:{c['name']}") for b in BUNDLES for c in _cases(b)]


@pytest.mark.parametrize(("bundle", "case"), ALL_CASES)
def test_case_decides_as_expected(bundle: str, case: dict[str, Any]) -> None:
    now = dt.datetime.fromisoformat(case["now"])
    decision = _engine(bundle).decide(case["input"], now=now)
    expect = case["expect"]
    got = {
        "decision": decision.outcome.name,
        "code": decision.code,
        "matched": [m.rule_id for m in decision.matched],
    }
    want = {"decision": expect["decision"], "code": expect.get("code", decision.code)}
    want["matched"] = expect.get("matched", got["matched"])
    assert got == want, decision.error or decision.message
    if expect.get("code") == "EVALUATION_ERROR":
        assert decision.error, "a fail-closed decision must carry the error text"
    else:
        assert decision.error is None, decision.error


@pytest.mark.parametrize("bundle", BUNDLES)
def test_cases_cover_every_rule(bundle: str) -> None:
    """Every rule matches in some case, every code decides some case, names are unique."""
    cases = _cases(bundle)
    assert len(cases) >= MIN_CASES[bundle]
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names)
    text = (EXAMPLES / bundle / "policy.rsrp").read_text(encoding="utf-8")
    rules = set(re.findall(r"^RULE\s+(\S+)", text, flags=re.MULTILINE))
    codes = set(re.findall(r"\bTHEN\s+[A-Z_]+\s+CODE\s+([A-Z0-9_]+)", text))
    codes |= {"NO_RULE_MATCHED", "EVALUATION_ERROR"}
    matched = {r for c in cases for r in c["expect"].get("matched", [])}
    deciding = {c["expect"]["code"] for c in cases}
    assert rules - matched == set(), "rules that no case matches"
    assert codes - deciding == set(), "codes that decide no case"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_sample_requests_are_valid_inputs(bundle: str) -> None:
    """`rsrp run` prints these: none may fail schema validation."""
    with (EXAMPLES / bundle / "requests.json").open(encoding="utf-8") as f:
        requests: list[dict[str, Any]] = json.load(f)
    assert len(requests) >= 10
    outcomes = set()
    for request in requests:
        now = dt.datetime.fromisoformat(request["request"]["time"])
        decision = _engine(bundle).decide(request, now=now)
        assert decision.error is None, decision.error
        outcomes.add(decision.outcome.name)
    assert outcomes == {"ALLOW", "BLOCK", "WARN", "APPROVAL_REQUIRED"}


@pytest.mark.parametrize("bundle", BUNDLES)
def test_policy_check_cli_accepts_bundle(bundle: str) -> None:
    path = EXAMPLES / bundle / "policy.rsrp"
    result = CliRunner().invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 0, result.output
    # No diagnostic at all: neither errors nor warnings (file:line:col: kind: ...).
    assert re.search(r":\d+:\d+: (error|warning)", result.output) is None, result.output


@pytest.mark.parametrize("bundle", BUNDLES)
def test_policy_test_cli_passes_all_cases(bundle: str) -> None:
    path = EXAMPLES / bundle
    args = ["policy", "test", str(path / "policy.rsrp"), str(path / "cases.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"{len(_cases(bundle))} passed, 0 failed" in result.output, result.output


def test_run_cli_prints_the_bank_registry_requests() -> None:
    """Each sample request is a case input; `run` reports the case's deciding rule."""
    path = EXAMPLES / "bank-registry"
    args = ["run", str(path / "policy.rsrp"), str(path / "requests.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    by_input = {json.dumps(c["input"], sort_keys=True): c for c in _cases("bank-registry")}
    requests = json.loads((path / "requests.json").read_text(encoding="utf-8"))
    for number, request in enumerate(requests, start=1):
        matched = by_input[json.dumps(request, sort_keys=True)]["expect"]["matched"]
        decider = matched[0] if matched else "the bundle default"
        assert f"#{number} decided by {decider}\n" in result.output, result.output
