"""Reading only a decision's message (``message``, derived from the generated
``explain``) gives exactly the message ``explain`` renders, on every case of both
example bundles and on generated variations of them."""

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
from rsrp.policy._message import message_function
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


@pytest.mark.parametrize(
    "source",
    [
        "def decide(inp, now):\n    return None\n",  # no explain
        "def explain(m):\n    x = []\n    y = 1\n    return ('a' if x else 'b'), tuple(x)\n",
        "def explain(m):\n    x = []\n    if m & 1: x.append(_RX('a', (), 'b'))\n    return x\n",
        "def explain(m):\n    x = []\n    if m & 1: x.append(f('a', (), 'b'))\n"
        "    return ('a' if x else 'b'), tuple(x)\n",
    ],
    ids=["no-explain", "other-statement", "other-return", "other-call"],
)
def test_message_function_refuses_any_other_shape(source: str) -> None:
    assert message_function(source, "<test>") is None


def test_without_the_message_function_a_read_renders_everything() -> None:
    engine = ENGINES["bank-registry"]
    case = _BANK[0]
    d = engine.decide(case["input"], case["now"])
    pending = d.__class__.__mro__[1].__dict__["explanation"].__get__(d)
    explain = pending[0]
    saved = explain.message_only
    del explain.message_only
    try:
        message = d.message
        assert type(d) is Decision  # fell back to rendering explanations too
    finally:
        explain.message_only = saved
    assert message == engine.decide(case["input"], case["now"]).message
