"""Typed FastAPI dependencies: the app's Service and the caller's checked Identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from rsrp.api._auth import Identity, Role
from rsrp.api._http import bearer_challenge
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
    # async: a certificate caller is checked on the event loop, no thread hop
    # (in-memory checks; the registry lookup behind certificate roles is cached). A
    # bearer token goes to a thread: its key set may have to be fetched from the IdP.
    extensions, authorization = (
        request.scope.get("extensions"),
        request.headers.get("authorization"),
    )
    if authorization is None:
        identity = service.auth.authenticate(extensions, None)
    else:
        identity = await run_in_threadpool(service.auth.authenticate, extensions, authorization)
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
            detail = f"this endpoint requires one of the roles: {names}"
            # RFC 6750 §3.1: a valid token without the needed privileges.
            headers = (
                {"WWW-Authenticate": bearer_challenge("insufficient_scope", detail)}
                if identity.method == "oidc"
                else None
            )
            raise HTTPException(403, detail, headers=headers)
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
