"""``create_app(settings)``: the FastAPI application (no import-time singletons)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import rsrp
from rsrp.api._fastpath import DecisionFastPath
from rsrp.api._http import (
    PROBLEM_RESPONSES,
    BodyLimitMiddleware,
    install_error_handlers,
    install_problem_schema,
)
from rsrp.api._service import build_service
from rsrp.api._settings import Settings
from rsrp.api._stages import Stages
from rsrp.api.routes import admin, approvals, decisions, health, incidents, keys, ledger
from rsrp.context import Database

__all__ = ["create_app"]


def create_app(settings: Settings, stages: Stages | None = None) -> FastAPI:
    """Build the service. ``stages`` defaults to the real policy/proof/ledger wiring."""
    db = Database(settings.database.url)
    if stages is None:
        from rsrp.api._wiring import build_stages

        stages = build_stages(settings, db)
    service = build_service(settings, stages, db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="rsrp decision service",
        version=rsrp.__version__,
        description="Provable zero-trust access decisions: every answer is in the ledger.",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    install_problem_schema(app)
    app.state.service = service
    install_error_handlers(app)
    for module in (decisions, approvals, ledger, incidents, admin, keys, health):
        app.include_router(module.router)
    app.add_middleware(DecisionFastPath, owner=app)  # inside the body-size limit
    app.add_middleware(BodyLimitMiddleware, limit=settings.limits.max_body_bytes)
    return app
