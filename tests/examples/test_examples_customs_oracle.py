"""The customs bundle against a plain-Python restatement of its README table.

A test-only reference (STYLE point 3): each rule of examples/customs/README.md
written directly in Python, and hypothesis inputs on which the compiled bundle
must match exactly the same rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rsrp.policy import Engine

BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "customs" / "policy.rsrp"
STATES = ["FR", "DE", "BE", "NL", "LU", "IT", "US", "CN"]
DOC_TYPES = [
    "EXPORT_DECLARATION",
    "IMPORT_DECLARATION",
    "TRANSIT_MANIFEST",
    "RISK_PROFILE",
    "TRADER_REGISTRATION",
    "SEIZURE_REPORT",
]
PURPOSES = ["CLEARANCE", "RISK_ANALYSIS", "FRAUD_INVESTIGATION", "STATISTICS", "TAX_ASSESSMENT"]
DECLARATION = {"CLEARANCE", "RISK_ANALYSIS", "FRAUD_INVESTIGATION", "STATISTICS"}
#: document type -> (purpose rule, purposes allowed)
PURPOSE_RULES = {
    "EXPORT_DECLARATION": ("CX_008", DECLARATION),
    "IMPORT_DECLARATION": ("CX_008", DECLARATION),
    "TRANSIT_MANIFEST": ("CX_009", {"CLEARANCE", "RISK_ANALYSIS", "STATISTICS"}),
    "RISK_PROFILE": ("CX_010", {"RISK_ANALYSIS", "FRAUD_INVESTIGATION"}),
    "TRADER_REGISTRATION": ("CX_011", {"CLEARANCE", "FRAUD_INVESTIGATION"}),
    "SEIZURE_REPORT": ("CX_012", {"FRAUD_INVESTIGATION"}),
}
BRUSSELS = ZoneInfo("Europe/Brussels")


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def reference(data: dict[str, Any], now: dt.datetime) -> set[str]:
    """The rules of the README table that match `data` at `now`."""
    who, rec, agr, req = data["requester"], data["record"], data["agreement"], data["request"]
    grant = who["role"] in {"OFFICER", "ANALYST", "RISK_ENGINE"}
    cross_border = who["state"] != rec["owner_state"]
    hit = set()
    if agr is None and cross_border:
        hit.add("CX_001")
    if agr is not None:
        if agr["requesting_state"] != who["state"] or agr["owning_state"] != rec["owner_state"]:
            hit.add("CX_002")
        if not _ts(agr["valid_from"]) <= now <= _ts(agr["valid_until"]):
            hit.add("CX_003")
        if rec["document_type"] not in agr["document_types"]:
            hit.add("CX_004")
        if rec["classification"] > agr["max_classification"]:
            hit.add("CX_007")
    if who["node_jurisdiction"] not in rec["residency"]:
        hit.add("CX_005")
    if rec["classification"] > who["clearance"]:
        hit.add("CX_006")
    rule, allowed = PURPOSE_RULES[rec["document_type"]]
    if req["purpose"] not in allowed:
        hit.add(rule)
    ref = req["case_ref"]
    if req["purpose"] == "FRAUD_INVESTIGATION" and (
        ref is None or re.fullmatch(r"[A-Z]{2}-[0-9]{4}-[0-9]{6}", ref) is None
    ):
        hit.add("CX_013")
    if rec["embargo_until"] is not None and _ts(rec["embargo_until"]) > now:
        hit.add("CX_014")
    owner_says = agr is not None and agr["owner_approval"]
    if grant and (owner_says or (cross_border and rec["classification"] >= 2)):
        hit.add("CX_015")
    if grant and req["record_count"] > 1000:
        hit.add("CX_016")
    local = _ts(req["time"]).astimezone(BRUSSELS)
    if grant and (local.isoweekday() >= 6 or not 7 <= local.hour < 20):
        hit.add("CX_017")
    if who["role"] == "RISK_ENGINE" and rec["personal_data"]:
        hit.add("CX_018")
    if grant:
        hit.add("CX_GRANT")
    return hit


instants = st.builds(
    lambda moment, minutes: moment.replace(
        tzinfo=dt.timezone(dt.timedelta(minutes=minutes))
    ).isoformat(),
    st.datetimes(min_value=dt.datetime(2025, 6, 1), max_value=dt.datetime(2028, 12, 31)),
    st.sampled_from([0, 60, 120, -240, 330]),
)
states = st.sampled_from(STATES)
levels = st.integers(0, 3)


@st.composite
def customs_inputs(draw: st.DrawFn) -> dict[str, Any]:
    agreement = draw(
        st.none()
        | st.fixed_dictionaries(
            {
                "id": st.just("AGR-1"),
                "requesting_state": states,
                "owning_state": states,
                "document_types": st.lists(st.sampled_from(DOC_TYPES), unique=True),
                "max_classification": levels,
                "valid_from": instants,
                "valid_until": instants,
                "owner_approval": st.booleans(),
            }
        )
    )
    case_ref = st.none() | st.from_regex(r"[A-Z]{2}-[0-9]{4}-[0-9]{6}", fullmatch=True)
    return {
        "requester": {
            "node_id": "node-1",
            "state": draw(states),
            "node_jurisdiction": draw(states),
            "role": draw(st.sampled_from(["OFFICER", "ANALYST", "RISK_ENGINE", "AUDITOR"])),
            "clearance": draw(levels),
        },
        "record": {
            "id": "REC-1",
            "owner_state": draw(states),
            "document_type": draw(st.sampled_from(DOC_TYPES)),
            "classification": draw(levels),
            "residency": draw(st.lists(states, unique=True, max_size=5)),
            "personal_data": draw(st.booleans()),
            "embargo_until": draw(st.none() | instants),
        },
        "agreement": agreement,
        "request": {
            "time": draw(instants),
            "purpose": draw(st.sampled_from(PURPOSES)),
            "case_ref": draw(case_ref | st.text(max_size=16)),
            "record_count": draw(st.integers(0, 2000) | st.sampled_from([1000, 1001])),
        },
    }


@functools.cache
def _engine() -> Engine:
    return Engine.load(BUNDLE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=customs_inputs(), now=instants)
def test_customs_bundle_matches_reference(data: dict[str, Any], now: str) -> None:
    at = _ts(now)
    decision = _engine().decide(data, now=at)
    assert decision.error is None, decision.error
    assert {m.rule_id for m in decision.matched} == reference(data, at)
