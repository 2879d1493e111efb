"""Deciding a batch of requests in one go: the same stages, amortised.

Counters for the whole batch are reserved in one transaction (each request
still sees every one before it), envelopes are sealed together (in a pool for
per-decision signing), appended with one ledger commit and recorded with one
more. A batch is acknowledged as a whole, after the ledger commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence

from rsrp.api._pipeline import (
    _EMPTY_STATE,
    DecisionRequest,
    DecisionResult,
    Pipeline,
    StageUnavailableError,
)
from rsrp.api._store import DecisionRow
from rsrp.context import Agent, ContextSnapshot, Mission, Organisation
from rsrp.errors import RsrpError
from rsrp.policy.decision import Decision, Outcome

__all__ = ["decide_many"]


def decide_many(p: Pipeline, reqs: Sequence[DecisionRequest]) -> list[DecisionResult]:
    now = p.clock()
    ids = [str(uuid.uuid4()) for _ in reqs]
    decisions: list[Decision | None] = [None] * len(reqs)
    states = [_EMPTY_STATE] * len(reqs)
    missions: list[str | None] = [None] * len(reqs)
    # identity: resolved once per (principal, mission) in the batch
    resolved: dict[tuple[str, str | None], tuple[Agent, Mission | None] | RsrpError] = {}
    todo: list[tuple[int, Agent, Mission | None]] = []
    for i, req in enumerate(reqs):
        key = (req.principal, req.mission_id)
        if key not in resolved:
            try:
                resolved[key] = p.context.resolve(req.principal, req.mission_id, now)
            except RsrpError as e:
                resolved[key] = e
        got = resolved[key]
        if isinstance(got, RsrpError):
            decisions[i] = p.failed(req, ids[i], "identity", got, now)
        else:
            todo.append((i, *got))
    # context: one transaction reserves every counter
    reservations: dict[int, int] = {}
    try:
        res = p.context.events.reserve_many([(a.id, now, reqs[i].account) for i, a, _ in todo])
    except RsrpError as e:
        for i, _, _ in todo:
            decisions[i] = p.failed(reqs[i], ids[i], "context", e, now)
        todo, res = [], []
    orgs: dict[str, Organisation | None] = {}
    for (i, agent, mission), r in zip(todo, res, strict=True):
        if agent.org not in orgs:
            orgs[agent.org] = p.context.registry.organisation(agent.org)
        snap = ContextSnapshot(agent, orgs[agent.org], mission, r.counters, now)
        reservations[i] = r.event_id
        states[i] = snap.state_hash()
        missions[i] = mission.id if mission is not None else None
        decisions[i] = p.evaluate(reqs[i], ids[i], snap, now)
    final = [d for d in decisions if d is not None]
    stage = "envelope"
    try:
        envelopes = p.stages.proof.seal_many(list(zip(final, ids, states, strict=True)))
        stage = "ledger"
        indices = p.stages.ledger.append_many(envelopes)
    except Exception as e:
        p.incident(ids[0], reqs[0].principal, stage, "STAGE_UNAVAILABLE", type(e).__name__)
        raise StageUnavailableError(stage, ids[0]) from e
    rows: list[tuple[DecisionRow, dt.datetime | None, tuple[int, int, int] | None]] = []
    results = []
    tally: Counter[tuple[str, str]] = Counter()
    for i, (d, env, index) in enumerate(zip(final, envelopes, indices, strict=True)):
        expires = now + p.approval_timeout if d.outcome is Outcome.APPROVAL_REQUIRED else None
        row = DecisionRow(
            ids[i], index, reqs[i].principal, missions[i], int(d.outcome), d.code, d.message,
            now, "request", None,
        )  # fmt: skip
        event = None
        if i in reservations:
            granted = d.outcome in (Outcome.ALLOW, Outcome.WARN)
            event = (reservations[i], int(d.outcome), reqs[i].result_count_hint if granted else 0)
        rows.append((row, expires, event))
        results.append(DecisionResult(ids[i], d, index, env, states[i], missions[i], expires))
        tally[d.outcome.name, d.code] += 1
    for (outcome, code), n in tally.items():  # one labelled-child lookup per kind, not per decision
        p.metrics.decisions.labels(outcome, code).inc(n)
    try:
        p.store.record_many(rows)
    except RsrpError as e:
        p.incident(ids[0], reqs[0].principal, "record", "RECORD_FAILED", str(e))
    return results
