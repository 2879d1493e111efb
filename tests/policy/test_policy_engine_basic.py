"""The engine end to end on the documented example bundle."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from policy_bundles import NOW, SMALL, good_input

from rsrp.canonical import canonical_hash
from rsrp.policy import EVALUATION_ERROR, Engine, Outcome


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_text(SMALL, "small.policy")


def test_allow_with_explanation(engine: Engine) -> None:
    d = engine.decide(good_input(), now=NOW)
    assert d.outcome is Outcome.ALLOW
    assert d.code == "ACCESS_GRANTED"
    assert d.message == "Access granted to A-1"
    assert [m.rule_id for m in d.matched] == ["GRANT"]
    assert d.decided_by == "GRANT"
    assert d.explanation[0].values == (("agent.level", '"AGENT"'),)
    assert d.evaluated_at == NOW
    assert d.error is None


def test_block_overrides_and_orders_matches(engine: Engine) -> None:
    data = good_input()
    data["counters"] = {"requests_1h": 60}
    data["mission"] = None
    data["request"]["limit"] = 80  # type: ignore[index]
    d = engine.decide(data, now=NOW)
    assert d.outcome is Outcome.BLOCK
    # CRITICAL before HIGH, then WARN, then ALLOW.
    assert [m.rule_id for m in d.matched] == ["MISSION", "CRUE_001", "SLOW", "GRANT"]
    assert d.code == "MISSION_INACTIVE"
    assert d.message == "No active mission for A-1"
    assert d.explanation[1].message == "Agent A-1 made 60 requests in the last hour (limit 50)"


def test_warn_is_allow_with_warnings(engine: Engine) -> None:
    data = good_input()
    data["request"]["limit"] = 80  # type: ignore[index]
    d = engine.decide(data, now=NOW)
    assert (d.outcome, d.code) == (Outcome.WARN, "LARGE_LIMIT")
    assert d.message == "Limit 80 is large"


def test_default_when_nothing_matches(engine: Engine) -> None:
    data = good_input()
    data["agent"]["level"] = "AUDITOR"  # type: ignore[index]
    d = engine.decide(data, now=NOW)
    assert (d.outcome, d.code, d.matched, d.decided_by) == (
        Outcome.BLOCK,
        "NO_RULE_MATCHED",
        (),
        None,
    )
    assert d.message == "No rule grants this access"


def test_input_hash_is_canonical_hash_of_validated_input(engine: Engine) -> None:
    data = good_input()
    d = engine.decide(data, now=NOW)
    validated = engine.validate(data)
    assert validated["mission"]["start"] == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # type: ignore[index]
    assert validated["agent"]["departments"] == frozenset({75, 92})  # type: ignore[index]
    assert d.input_hash == canonical_hash(validated)  # type: ignore[arg-type]
    data["mission"] = None
    assert engine.decide(data, now=NOW).input_hash == canonical_hash(engine.validate(data))  # type: ignore[arg-type]


def test_invalid_input_fails_closed_and_logs(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    data = good_input()
    data["agent"]["level"] = "ROOT"  # type: ignore[index]
    data["counters"]["requests_1h"] = True  # type: ignore[index]
    data["extra"] = 1
    with caplog.at_level(logging.WARNING, logger="rsrp.policy"):
        d = engine.decide(data, now=NOW)
    assert (d.outcome, d.code) == (Outcome.BLOCK, EVALUATION_ERROR)
    assert d.error is not None
    for fragment in ("agent.level", "counters.requests_1h", "extra: unknown field", "boolean"):
        assert fragment in d.error
    assert d.explanation[0].rule_id == EVALUATION_ERROR
    assert "failed closed" in caplog.text


def test_naive_now_fails_closed(engine: Engine) -> None:
    d = engine.decide(good_input(), now=dt.datetime(2026, 3, 1, 9, 30))
    assert d.code == EVALUATION_ERROR
    assert d.evaluated_at == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert d.error is not None and "time-zone aware" in d.error


def test_decide_many(engine: Engine) -> None:
    other = good_input()
    other["counters"] = {"requests_1h": 99}
    out = engine.decide_many([good_input(), other], now=NOW)
    assert [d.code for d in out] == ["ACCESS_GRANTED", "VOLUME_EXCEEDED"]
    out = engine.decide_many([good_input()], now=[NOW])
    assert out[0].code == "ACCESS_GRANTED"


def test_fast_constructors_equal_the_dataclass_constructors() -> None:
    from rsrp.policy._fastnew import make_decision, make_explanation
    from rsrp.policy.decision import Decision, RuleExplanation

    x = make_explanation("R", (("a", "1"),), "m")
    assert x == RuleExplanation("R", (("a", "1"),), "m")
    args = (Outcome.ALLOW, "C", "m", (), (x,), "R", "b", "1.0.0", "FR", b"p", b"c", b"i", NOW)
    made = make_decision(*args)
    assert made == Decision(*args)
    assert made.error is None
    with pytest.raises(AttributeError):
        made.code = "X"  # type: ignore[misc]


def test_load_errors(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    from rsrp.errors import PolicyError
    from rsrp.policy import PolicySyntaxError

    base = Path(str(tmp_path))
    with pytest.raises(PolicyError, match="cannot read policy bundle"):
        Engine.load(base / "missing.rsrp")
    (base / "latin1.rsrp").write_bytes(b"# caf\xe9\n")
    with pytest.raises(PolicySyntaxError, match="not UTF-8"):
        Engine.load(base / "latin1.rsrp")
    (base / "big.rsrp").write_bytes(b"#" * ((1 << 20) + 1))
    with pytest.raises(PolicySyntaxError, match="larger than"):
        Engine.load(base / "big.rsrp")
    (base / "ok.rsrp").write_text(SMALL, "utf-8")
    assert Engine.load(base / "ok.rsrp").bundle.filename.endswith("ok.rsrp")


def test_many_unknown_fields_give_a_bounded_message(engine: Engine) -> None:
    data = good_input()
    data.update({f"k{i}": i for i in range(10_000)})
    d = engine.decide(data, now=NOW)
    assert d.code == EVALUATION_ERROR and d.error is not None
    assert "10000 problem(s)" in d.error and "and 9950 more" in d.error
    assert len(d.error) < 5_000


def test_now_as_rfc3339_text(engine: Engine) -> None:
    d = engine.decide(good_input(), now="2026-03-01T10:30:00+01:00")
    assert d.code == "ACCESS_GRANTED" and d.evaluated_at == NOW
    assert engine.decide(good_input(), now="yesterday").code == EVALUATION_ERROR


def test_lazy_decision_renders_on_first_read_and_becomes_a_decision(engine: Engine) -> None:
    import dataclasses
    import pickle

    from rsrp.policy._fastnew import LazyDecision
    from rsrp.policy.decision import Decision

    def fresh() -> Decision:
        return engine.decide(good_input(), now=NOW)

    eager = fresh()
    assert type(eager) is LazyDecision
    assert eager.explanation[0].rule_id == eager.decided_by
    assert type(eager) is Decision  # rendered once, now a plain Decision
    assert eager.message == eager.explanation[0].message
    rebuilt = Decision(**{f.name: getattr(eager, f.name) for f in dataclasses.fields(Decision)})
    assert fresh() == rebuilt and rebuilt == fresh()
    assert hash(fresh()) == hash(rebuilt)
    assert pickle.loads(pickle.dumps(fresh())) == rebuilt  # noqa: S301 - our own bytes
    assert type(pickle.loads(pickle.dumps(fresh()))) is Decision  # noqa: S301
    assert dataclasses.replace(fresh(), code="X").message == rebuilt.message
    assert repr(fresh()) == repr(rebuilt)
    lazy = fresh()
    with pytest.raises(AttributeError):
        lazy.message = "changed"  # type: ignore[misc]
    assert lazy.message == rebuilt.message


@pytest.mark.parametrize(
    ("record", "change"),
    [
        ("agent", {"extra": 1}),  # an undeclared key beside every declared one
        ("agent", {"extra": 1, "level": None}),  # same key count: one missing, one extra
        ("counters", {"requests_1h": 3, "other": 4}),
    ],
)
def test_undeclared_keys_fail_closed(
    engine: Engine, record: str, change: dict[str, object]
) -> None:
    data = good_input()
    target = data[record]
    assert isinstance(target, dict)
    for key, value in change.items():
        if value is None:
            del target[key]
        else:
            target[key] = value
    d = engine.decide(data, now=NOW)
    assert d.code == "EVALUATION_ERROR"
    assert d.error is not None and f"{record}." in d.error
