"""seal_batch (the service's batch-mode fast path) against sign_decision: same bytes,
same refusals (STYLE.md point 3: the plain constructor is the oracle)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from proof_composite_oracle import OracleSigner

from rsrp.policy.decision import Decision, MatchedRule, Outcome, Severity
from rsrp.proof import LIMITS, MalformedEnvelopeError, SigningFailedError, seal_batch, sign_decision

PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
SIGNER = OracleSigner(b"\x42" * 32, "fr-batch-test", "FR")
hashes = st.binary(min_size=32, max_size=32).filter(lambda h: h != bytes(32))


def text(field: str) -> st.SearchStrategy[str]:
    return st.text(PRINTABLE, min_size=1, max_size=LIMITS[field])


rules = st.builds(
    MatchedRule,
    text("rule_id"),
    text("rule_version"),
    st.sampled_from(Outcome),
    text("reason_code"),
    st.sampled_from(Severity),
)


@st.composite
def decisions(draw: st.DrawFn) -> Decision:
    return Decision(
        outcome=draw(st.sampled_from(Outcome)),
        code=draw(text("reason_code")),
        message="m",
        matched=tuple(draw(st.lists(rules, max_size=4))),
        explanation=(),
        decided_by=None,
        bundle_id=draw(st.sampled_from(["bank-registry", "customs"])),
        bundle_version=draw(text("bundle_version")),
        jurisdiction="FR",
        policy_hash=draw(hashes),
        bytecode_hash=draw(hashes),
        input_hash=draw(hashes),
        evaluated_at=draw(
            st.datetimes(
                min_value=dt.datetime(1970, 1, 2),
                max_value=dt.datetime(9999, 12, 30),
                timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5))]),
            )
        ),
    )


items = st.lists(st.tuples(decisions(), text("request_id"), hashes), max_size=6)


@settings(max_examples=100, deadline=None)
@given(items)
def test_seal_batch_equals_sign_decision(batch: list[tuple[Decision, str, bytes]]) -> None:
    # Repeat the batch so the shared-field caches are exercised on their second sight.
    batch = batch + batch[::-1]
    want = [
        sign_decision(d, SIGNER, request_id=r, state_hash=s, mode="batch").to_bytes()
        for d, r, s in batch
    ]
    assert seal_batch(batch, SIGNER) == want


@settings(max_examples=30, deadline=None)
@given(decisions(), st.sampled_from(["state", "input", "request_id", "code", "rule", "time"]))
def test_seal_batch_refuses_what_sign_decision_refuses(d: Decision, bad: str) -> None:
    state = b"\x01" * 32
    request_id = "r-1"
    if bad == "state":
        state = bytes(32)
    elif bad == "input":
        d = dataclasses.replace(d, input_hash=b"\x01" * 31)
    elif bad == "request_id":
        request_id = "has space"
    elif bad == "code":
        d = dataclasses.replace(d, code="x" * (LIMITS["reason_code"] + 1))
    elif bad == "rule":
        d = dataclasses.replace(d, matched=(MatchedRule("", "1", d.outcome, "C", Severity.LOW),))
    else:
        d = dataclasses.replace(d, evaluated_at=d.evaluated_at.replace(tzinfo=None))
    good = (dataclasses.replace(d, input_hash=b"\x02" * 32), "r-0", b"\x02" * 32)
    with pytest.raises(MalformedEnvelopeError):
        sign_decision(d, SIGNER, request_id=request_id, state_hash=state, mode="batch")
    # a bad item refuses the whole batch, wherever it stands
    with pytest.raises(MalformedEnvelopeError):
        seal_batch([good, (d, request_id, state)], SIGNER)


def test_seal_batch_refuses_another_jurisdiction() -> None:
    d = dataclasses.replace(_plain(), jurisdiction="DE")
    with pytest.raises(SigningFailedError, match="belongs to 'FR'"):
        seal_batch([(d, "r-1", b"\x01" * 32)], SIGNER)
    with pytest.raises(SigningFailedError, match="belongs to 'FR'"):
        sign_decision(d, SIGNER, request_id="r-1", state_hash=b"\x01" * 32, mode="batch")


def test_seal_batch_refuses_a_bad_key_id_and_runtime_version() -> None:
    batch = [(_plain(), "r-1", b"\x01" * 32)]
    with pytest.raises(MalformedEnvelopeError):
        seal_batch(batch, OracleSigner(b"\x42" * 32, "bad key id", "FR"))
    with pytest.raises(MalformedEnvelopeError):
        seal_batch(batch, SIGNER, runtime_version=(256, 0, 0))


def _plain() -> Decision:
    return Decision(
        Outcome.ALLOW, "OK", "m", (), (), None, "b", "1", "FR", b"\x01" * 32, b"\x02" * 32,
        b"\x03" * 32, dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
