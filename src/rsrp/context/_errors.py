"""Errors of the context stage (all :class:`rsrp.errors.ContextError`)."""

from __future__ import annotations

from rsrp.errors import ContextError

__all__ = ["ContextDataError", "ContextStoreError", "UnknownAgentError", "UnknownMissionError"]


class ContextDataError(ContextError):
    """Agent, organisation or mission data is malformed."""


class ContextStoreError(ContextError):
    """The context database could not be read or written."""


class UnknownAgentError(ContextError):
    """No agent with this id is registered."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent {agent_id!r}")
        self.agent_id = agent_id


class UnknownMissionError(ContextError):
    """The mission does not exist or belongs to another agent."""

    def __init__(self, mission_id: str) -> None:
        super().__init__(f"mission {mission_id!r} is not one of the caller's missions")
        self.mission_id = mission_id
