"""A generated 1,000-rule bundle compiles and decides correctly (figures: see the report
printed by ``python tests/policy/test_policy_large.py``; tests never assert timings)."""

from __future__ import annotations

import sys
import time

from policy_bundles import NOW, SMALL, good_input

from rsrp.policy import Engine, Outcome

OUTCOMES = ["BLOCK", "APPROVAL_REQUIRED", "WARN", "ALLOW"]


def generated_bundle(n: int) -> str:
    """SMALL's header and schema with ``n`` rules; rule i matches iff requests_1h >= i."""
    head = SMALL.split("RULE ", 1)[0]
    rules = []
    for i in range(n):
        shape = i % 4
        if shape == 0:
            when = f"counters.requests_1h >= {i}"
        elif shape == 1:
            levels = "['AGENT', 'SUPERVISOR', 'AUDITOR']"
            when = f"counters.requests_1h BETWEEN {i} AND {10 * n} AND agent.level IN {levels}"
        elif shape == 2:
            when = f"NOT (counters.requests_1h < {i}) AND (mission IS NULL OR LENGTH(agent.id) > 0)"
        else:
            just = "request.justification"
            when = f"counters.requests_1h > {i - 1} AND ({just} IS NULL OR {just} MATCHES '^[a-z]')"
        rules.append(
            f"RULE G{i:04d} VERSION 1.0.0 SEVERITY LOW WHEN {when} "
            f'THEN {OUTCOMES[i % 4]} CODE G{i} MESSAGE "rule {i}: {{counters.requests_1h}}"'
        )
    return head + "\n".join(rules) + "\n"


def test_thousand_rules_compile_and_decide() -> None:
    engine = Engine.from_text(generated_bundle(1000))
    data = good_input()
    data["counters"] = {"requests_1h": 10}
    d = engine.decide(data, now=NOW)
    assert d.error is None
    assert len(d.matched) == 11  # rules 0..10
    # Deny-overrides: the BLOCK rules among 0..10 are 0, 4, 8, ordered by id.
    assert d.outcome is Outcome.BLOCK
    assert [m.rule_id for m in d.matched[:3]] == ["G0000", "G0004", "G0008"]
    assert d.message == "rule 0: 10"


def _seconds_to_load(text: str) -> float:
    start = time.perf_counter()
    Engine.from_text(text)
    return time.perf_counter() - start


if __name__ == "__main__":  # pragma: no cover - manual measurement
    text = generated_bundle(1000)
    best = min(_seconds_to_load(text) for _ in range(5))
    sys.stdout.write(f"1,000-rule bundle: parse+check+compile {best * 1000:.1f} ms (best of 5)\n")
