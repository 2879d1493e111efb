"""Organisations, agents and missions, managed by the admin role (never registry data)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rsrp.api._models import ID_PATTERN
from rsrp.api.deps import Admin, ServiceDep
from rsrp.context import (
    agent_from_value,
    agent_to_value,
    mission_from_value,
    mission_to_value,
    organisation_from_value,
    organisation_to_value,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["admin"])

Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Dept = Annotated[int, Field(ge=0, le=999)]
PathId = Annotated[str, Path(pattern=ID_PATTERN)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganisationIn(_In):
    name: Name
    jurisdiction: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class OrganisationOut(OrganisationIn):
    id: str


class AgentIn(_In):
    org: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    level: Literal["AGENT", "SUPERVISOR", "AUDITOR"]
    perimeter: Literal["NATIONAL", "REGIONAL"]
    departments: list[Dept] = Field(max_length=128)
    enabled: bool = True


class AgentOut(AgentIn):
    id: str


class MissionIn(_In):
    agent: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    status: Literal["ACTIVE", "SUSPENDED", "CLOSED"]
    start: dt.datetime
    end: dt.datetime
    hours_start: Annotated[int, Field(ge=0, le=23)]
    hours_end: Annotated[int, Field(ge=0, le=24)]
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    departments: list[Dept] = Field(default_factory=list, max_length=128)


class MissionOut(MissionIn):
    id: str


def _value(model: BaseModel, key: str) -> dict[str, object]:
    data = model.model_dump(mode="json")
    data["id"] = key
    return data


@router.get("/organisations", response_model=list[OrganisationOut])
def list_organisations(_: Admin, service: ServiceDep) -> list[OrganisationOut]:
    return [
        OrganisationOut.model_validate(organisation_to_value(o))
        for o in service.registry.organisations()
    ]


@router.put("/organisations/{org_id}", response_model=OrganisationOut)
def put_organisation(
    org_id: PathId, body: OrganisationIn, _: Admin, service: ServiceDep
) -> OrganisationOut:
    org = organisation_from_value(_value(body, org_id))
    service.registry.put_organisation(org)
    return OrganisationOut.model_validate(organisation_to_value(org))


@router.get("/agents", response_model=list[AgentOut])
def list_agents(_: Admin, service: ServiceDep) -> list[AgentOut]:
    return [AgentOut.model_validate(agent_to_value(a)) for a in service.registry.agents()]


@router.put("/agents/{agent_id}", response_model=AgentOut)
def put_agent(agent_id: PathId, body: AgentIn, _: Admin, service: ServiceDep) -> AgentOut:
    agent = agent_from_value(_value(body, agent_id))
    if service.registry.organisation(agent.org) is None:
        raise HTTPException(422, f"unknown organisation {agent.org!r}")
    service.registry.put_agent(agent)
    return AgentOut.model_validate(agent_to_value(agent))


@router.get("/missions", response_model=list[MissionOut])
def list_missions(_: Admin, service: ServiceDep) -> list[MissionOut]:
    return [MissionOut.model_validate(mission_to_value(m)) for m in service.registry.missions()]


@router.put("/missions/{mission_id}", response_model=MissionOut)
def put_mission(mission_id: PathId, body: MissionIn, _: Admin, service: ServiceDep) -> MissionOut:
    mission = mission_from_value(_value(body, mission_id))
    service.registry.put_mission(mission)
    return MissionOut.model_validate(mission_to_value(mission))
