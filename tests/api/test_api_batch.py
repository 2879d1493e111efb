"""The batch pipeline: the same decisions, counters and ledger as one request at a time."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import service_settings
from tests.api.test_api_mtls import BODY

from rsrp.api import DecisionRequest, create_app, decide_many
from rsrp.proof import decode_envelope

FIELDS = dict(BODY["request"])  # type: ignore[call-overload]


def test_api_batch_counters_and_ledger(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path))
    service = app.state.service
    reqs = [DecisionRequest("agent-001", None, f"acct-{i}", FIELDS, 5) for i in range(55)]
    reqs += [
        DecisionRequest("ghost", None, None, FIELDS),
        DecisionRequest("agent-003", None, None, FIELDS),
    ]
    try:
        results = decide_many(service.pipeline, reqs)
        codes = [r.decision.code for r in results]
        assert codes[:50] == ["ACCESS_GRANTED"] * 50
        assert codes[50:55] == ["VOLUME_EXCEEDED"] * 5  # the 51st request saw 50 before it
        assert codes[55:] == ["UNKNOWN_AGENT", "MISSION_INACTIVE"]
        assert [r.ledger_index for r in results] == list(range(57))
        ledger = service.stages.ledger
        for r in (results[0], results[50], results[55]):
            env = decode_envelope(ledger.entry(r.ledger_index))
            assert env.request_id == r.request_id  # type: ignore[union-attr]
            assert env.state_hash == r.state_hash
        # The next single request continues the same counters.
        one = service.pipeline.decide(DecisionRequest("agent-001", None, None, FIELDS))
        assert (one.decision.code, one.ledger_index) == ("VOLUME_EXCEEDED", 57)
    finally:
        service.close()
