"""Typed FastAPI dependencies: the app's Service and the caller's checked Identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from rsrp.api._auth import Identity, Role
from rsrp.api._service import Service

__all__ = [
    "Admin",
    "AgentCaller",
    "AnyCaller",
    "AuditorOrAdmin",
    "Caller",
    "ServiceDep",
    "Supervisor",
    "SupervisorOrAuditor",
    "requires",
]


async def get_service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


async def _authenticated(request: Request, service: ServiceDep) -> Identity:
    # async: runs on the event loop, no thread hop (in-memory checks; the registry
    # lookup behind certificate roles is cached).
    identity = service.auth.authenticate(
        request.scope.get("extensions"), request.headers.get("authorization")
    )
    service.limiter.take(identity.principal)
    return identity


Caller = Annotated[Identity, Depends(_authenticated)]


def requires(*roles: Role) -> Callable[[Request], Awaitable[Identity]]:
    """A dependency admitting callers holding at least one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)

    # One flat dependency (not Caller → ServiceDep nested): FastAPI resolves nested
    # dependencies per request at a cost comparable to the rest of a small request.
    async def check(request: Request) -> Identity:
        service = await get_service(request)
        identity = await _authenticated(request, service)
        if not identity.roles & allowed:
            service.metrics.rejected.labels("forbidden").inc()
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(403, f"this endpoint requires one of the roles: {names}")
        return identity

    return check


AgentCaller = Annotated[Identity, Depends(requires(Role.AGENT))]
Supervisor = Annotated[Identity, Depends(requires(Role.SUPERVISOR))]
SupervisorOrAuditor = Annotated[Identity, Depends(requires(Role.SUPERVISOR, Role.AUDITOR))]
AuditorOrAdmin = Annotated[Identity, Depends(requires(Role.AUDITOR, Role.ADMIN))]
Admin = Annotated[Identity, Depends(requires(Role.ADMIN))]
AnyCaller = Annotated[
    Identity, Depends(requires(Role.AGENT, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN))
]
