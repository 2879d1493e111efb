"""Reading only a decision's message (the generated ``message``, outside the hashed
source) gives exactly the message the hashed ``explain`` renders, on every case of
both example bundles and on generated variations of them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.policy import Engine
from rsrp.policy._fastnew import LazyDecision
from rsrp.policy.decision import Decision

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUNDLES = ("bank-registry", "customs")
ENGINES = {name: Engine.load(EXAMPLES / name / "policy.rsrp") for name in BUNDLES}
CASES = [
    (name, case)
    for name in BUNDLES
    for case in json.loads((EXAMPLES / name / "cases.json").read_text())["cases"]
]


def _both_ways(engine: Engine, data: object, now: str) -> None:
    first = engine.decide(data, now)
    if type(first) is not LazyDecision:  # failed closed: a plain Decision, rendered eagerly
        assert first.error is not None
        return
    message = first.message
    assert type(first) is LazyDecision  # only the message was rendered
    assert first.message is message  # and kept
    second = engine.decide(data, now)
    explanation = second.explanation  # renders both, the reference way
    assert type(second) is Decision
    assert message == second.message
    assert message == (explanation[0].message if explanation else engine.bundle.default_message)
    assert first == second  # comparing renders the rest of the first one
    assert type(first) is Decision


@pytest.mark.parametrize(("bundle", "case"), CASES, ids=[f"{b}-{c['name']}" for b, c in CASES])
def test_message_alone_equals_the_explained_message(bundle: str, case: dict[str, Any]) -> None:
    _both_ways(ENGINES[bundle], case["input"], case["now"])


_BANK = [c for b, c in CASES if b == "bank-registry"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(_BANK),
    st.fixed_dictionaries(
        {
            "requests_1h": st.integers(0, 120),
            "requests_24h": st.integers(0, 400),
            "last_result_count": st.integers(0, 60),
            "distinct_accounts_1h": st.integers(0, 40),
        }
    ),
    st.sampled_from(["2026-03-10T03:30:00Z", "2026-03-10T09:30:00Z", "2026-03-10T21:59:59Z"]),
    st.sampled_from(["AGENT", "SUPERVISOR", "AUDITOR"]),
)
def test_message_alone_on_generated_bank_inputs(
    case: dict[str, Any], counters: dict[str, int], at: str, level: str
) -> None:
    data = copy.deepcopy(case["input"])
    data["counters"] = counters
    data["request"]["time"] = at
    data["agent"]["level"] = level
    _both_ways(ENGINES["bank-registry"], data, at)
