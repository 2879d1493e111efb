"""The Cedar and Rego translations used by bench/policy_engine.py decide the
bank-registry cases as the rsrp bundle's authors expect.

The benchmark's agreement count is only meaningful if the peers' policies are
faithful; this pins them to the same hand-written cases as the bundle.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import cedarpy
import pytest
import regorus
from bench import policy_engine as bench
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rsrp.policy import Engine

CASES = [
    c
    for c in json.loads((bench.BUNDLE.parent / "cases.json").read_text(encoding="utf-8"))["cases"]
    # Peers do not validate input against a schema; fail-closed cases are rsrp's own.
    if c["expect"]["code"] != "EVALUATION_ERROR"
]
RULES = bench.rule_table(bench.BUNDLE.read_text(encoding="utf-8"))


@functools.cache
def _bank_engine() -> Engine:
    return Engine.load(bench.BUNDLE)


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
    engine = _bank_engine()
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


ZONES = ["Europe/Paris", "Indian/Reunion", "Pacific/Noumea", "America/Cayenne", "UTC"]
QUERIES = [
    "SEARCH_BY_NAME",
    "SEARCH_BY_NIR",
    "SEARCH_BY_IBAN",
    "ACCOUNT_DETAILS",
    "ACCOUNT_HISTORY",
    "BULK_EXTRACT",
]
FORMATS = ["NONE", "CSV", "XML", "JSON_BULK", "EXCEL", "PDF_BULK"]


#: RFC 3339 instants in 2026 at any whole-minute offset, to the millisecond
#: (Cedar's datetime stops at milliseconds).
instants = st.builds(
    lambda moment, millis, minutes: moment.replace(
        microsecond=millis * 1000, tzinfo=dt.timezone(dt.timedelta(minutes=minutes))
    ).isoformat(),
    st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 31)),
    st.integers(0, 999),
    st.integers(-12 * 60, 14 * 60),
)


@st.composite
def bank_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Any valid bank-registry input, values biased to the rules' boundaries."""
    near = st.integers(0, 300) | st.sampled_from([9, 10, 19, 20, 29, 30, 49, 50, 199, 200])
    departments = draw(st.lists(st.integers(1, 99), max_size=4, unique=True))
    mission = draw(
        st.none()
        | st.fixed_dictionaries(
            {
                "id": st.just("MIS-1"),
                "status": st.sampled_from(["ACTIVE", "ACTIVE", "SUSPENDED", "CLOSED"]),
                "start": instants,
                "end": instants,
                "hours_start": st.integers(0, 24),
                "hours_end": st.integers(0, 24),
                "timezone": st.sampled_from(ZONES),
            }
        )
    )
    return {
        "agent": {
            "id": "AG-1",
            "org": "DGFIP",
            "level": draw(st.sampled_from(["AGENT", "SUPERVISOR", "AUDITOR"])),
            "perimeter": draw(st.sampled_from(["NATIONAL", "REGIONAL"])),
            "departments": departments,
        },
        "mission": mission,
        "request": {
            "time": draw(instants),
            "query_type": draw(st.sampled_from(QUERIES)),
            "justification": draw(
                st.none() | st.text(min_size=9, max_size=10) | st.text(max_size=14)
            ),
            "export_format": draw(st.sampled_from(FORMATS)),
            "limit": draw(st.integers(0, 200)),
            "account_department": draw(
                st.none() | st.integers(1, 99) | st.sampled_from(departments or [1])
            ),
            "legal_basis": None,
            "expected_duration_ms": draw(st.integers(9990, 10010) | st.integers(0, 10**6)),
        },
        "counters": {
            "requests_1h": draw(near),
            "requests_24h": draw(near),
            "last_result_count": draw(near),
            "distinct_accounts_1h": draw(near),
        },
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=bank_inputs(), lag=st.integers(0, 10**6))
def test_bundle_agrees_with_peers_on_any_input(
    data: dict[str, Any], lag: int, rego: Any, cedar: tuple[Any, Any]
) -> None:
    """rsrp, Rego and Cedar match the same rules on arbitrary valid inputs.

    NOW does not enter the bank-registry rules, so any evaluation time will do.
    Cedar only reports the rules that decided (forbids on deny, permits on
    allow), so it is compared on (decision, code).
    """
    now = dt.datetime.fromisoformat(data["request"]["time"]) + dt.timedelta(seconds=lag)
    decision = _bank_engine().decide(data, now=now)
    assert decision.error is None, decision.error
    rego.set_input_json(json.dumps(data))
    result = json.loads(rego.execute_entry_point("data.crue.result"))
    ours = (decision.outcome.name, decision.code, sorted(m.rule_id for m in decision.matched))
    assert ours == (*bench.rego_verdict(result, RULES), sorted(result["matched"]))
    answer = cedarpy.is_authorized(bench.cedar_request(data), *cedar)
    assert bench.cedar_verdict(answer, RULES) == ours[:2], answer.diagnostics.errors
