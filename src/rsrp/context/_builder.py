"""Resolve the caller's agent and mission, count, and build the policy input.

The policy input is ``{agent, mission, counters}`` from the server plus the
request's own fields under ``request``; ``request.time`` is the server clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from rsrp.context._errors import ContextDataError, UnknownMissionError
from rsrp.context._events import EventLog, Reservation
from rsrp.context._model import Agent, ContextSnapshot, Mission, MissionStatus, rfc3339
from rsrp.context._registry import Registry

__all__ = ["SERVER_REQUEST_FIELDS", "AgentDisabledError", "ContextBuilder", "build_input"]

#: Request fields only the server sets; a body naming one is refused.
SERVER_REQUEST_FIELDS = frozenset({"time"})


class AgentDisabledError(ContextDataError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"agent {agent_id!r} is disabled")


def choose_mission(
    missions: list[Mission], mission_id: str | None, at: dt.datetime
) -> Mission | None:
    """The named mission (it must be the agent's), else the agent's best current one.

    Preference without a name: an ACTIVE mission covering ``at``, then any mission
    covering ``at``, then the one that started last (so the policy sees why it is
    inactive), else none.
    """
    if mission_id is not None:
        for m in missions:
            if m.id == mission_id:
                return m
        raise UnknownMissionError(mission_id)
    if len(missions) == 1:  # the usual case: whatever its state, it is the one
        return missions[0]
    covering = [m for m in missions if m.covers(at)]
    active = [m for m in covering if m.status is MissionStatus.ACTIVE]
    for group in (active, covering, missions):
        if group:
            return max(group, key=lambda m: (m.start, m.id))
    return None


def build_input(snapshot: ContextSnapshot, request: Mapping[str, object]) -> dict[str, object]:
    """The policy input: server records plus ``request`` with the server's ``time``."""
    if not SERVER_REQUEST_FIELDS.isdisjoint(request):
        clash = SERVER_REQUEST_FIELDS & set(request)
        raise ContextDataError(f"request field(s) {', '.join(sorted(clash))} are set by the server")
    records = snapshot.policy_records()
    records["request"] = {**request, "time": rfc3339(snapshot.at)}
    return records


class ContextBuilder:
    """Resolves identity and mission and reserves the counters for one decision."""

    def __init__(self, registry: Registry, events: EventLog) -> None:
        self.registry = registry
        self.events = events

    def resolve(
        self, agent_id: str, mission_id: str | None, at: dt.datetime
    ) -> tuple[Agent, Mission | None]:
        agent = self.registry.agent(agent_id)
        if not agent.enabled:
            raise AgentDisabledError(agent_id)
        return agent, choose_mission(self.registry.missions_of(agent_id), mission_id, at)

    def snapshot(
        self, agent: Agent, mission: Mission | None, at: dt.datetime, account: str | None
    ) -> tuple[ContextSnapshot, Reservation]:
        """Reserve this request in the counters and freeze the context it is decided with."""
        reservation = self.events.reserve(agent.id, at, account)
        snap = ContextSnapshot(
            agent=agent,
            organisation=self.registry.organisation(agent.org),
            mission=mission,
            counters=reservation.counters,
            at=at,
        )
        return snap, reservation
