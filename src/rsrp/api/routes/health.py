"""Liveness, readiness (self-tests, key store, database, checkpoint age) and metrics."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client.exposition import choose_encoder

from rsrp.api._models import ReadyOut
from rsrp.api.deps import AuditorOrAdmin, ServiceDep
from rsrp.errors import RsrpError

__all__ = ["router"]

router = APIRouter(tags=["health"])

#: A checkpoint older than this (with entries waiting) makes the service not ready.
_MAX_CHECKPOINT_AGE_S = 300.0


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def readyz(service: ServiceDep) -> JSONResponse:
    checks: dict[str, str] = {}
    failed = service.selftest_failures
    checks["selftests"] = f"failed: {', '.join(failed)}" if failed else "ok"
    try:
        service.db.ping()
        checks["database"] = "ok"
    except RsrpError as e:
        checks["database"] = f"failed: {type(e).__name__}"
    try:
        service.stages.proof.selftest()
        checks["keys"] = "ok"
    except Exception as e:  # any failure of the key plane means not ready
        checks["keys"] = f"failed: {type(e).__name__}"
    try:
        size = service.stages.ledger.size()
        cp = service.stages.ledger.latest_checkpoint()
        if cp is None:
            checks["checkpoint"] = "none yet" if size == 0 else f"missing for {size} entries"
            if size > 0:
                checks["checkpoint"] = "failed: " + checks["checkpoint"]
        else:
            age = (dt.datetime.now(dt.UTC) - cp.signed_at).total_seconds()
            stale = cp.size < size and age > _MAX_CHECKPOINT_AGE_S
            checks["checkpoint"] = f"{'failed: stale' if stale else 'ok'} (age {age:.0f}s)"
    except Exception as e:  # a broken ledger means not ready
        checks["checkpoint"] = f"failed: {type(e).__name__}"
    ready = not any(v.startswith("failed") for v in checks.values())
    body = ReadyOut(ready=ready, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


_METRICS_TYPES = {
    "text/plain": {"schema": {"type": "string"}},
    "application/openmetrics-text": {"schema": {"type": "string"}},
}


@router.get(
    "/metrics",
    summary="Prometheus metrics (roles auditor, admin)",
    response_class=Response,
    responses={200: {"content": _METRICS_TYPES, "description": "Prometheus or OpenMetrics text"}},
)
def metrics(request: Request, _: AuditorOrAdmin, service: ServiceDep) -> Response:
    """Prometheus text format 0.0.4 by default; OpenMetrics 1.0.0 when ``Accept`` asks
    for ``application/openmetrics-text`` (as Prometheus's scraper does)."""
    m = service.metrics
    try:
        m.ledger_size.set(service.stages.ledger.size())
        cp = service.stages.ledger.latest_checkpoint()
        age = -1.0 if cp is None else (dt.datetime.now(dt.UTC) - cp.signed_at).total_seconds()
        m.checkpoint_age.set(age)
    except Exception:  # noqa: S110 - metrics must render even when the ledger is down
        pass
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(m.registry), media_type=content_type)
