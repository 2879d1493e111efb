"""Everything one app instance holds, built once by ``create_app`` (no globals)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from rsrp.api._approvals import Approvals
from rsrp.api._auth import Authenticator, RateLimiter
from rsrp.api._batcher import Batcher
from rsrp.api._housekeeping import Housekeeping
from rsrp.api._keys import (
    SERVICE_KEYS,
    Rekeyable,
    Resignable,
    ServiceKeys,
    active_key,
    log_origin,
)
from rsrp.api._metrics import Metrics
from rsrp.api._oidc import OidcConfig, OidcVerifier
from rsrp.api._pipeline import Pipeline
from rsrp.api._ratelimit import SharedRateLimiter, WindowCounts
from rsrp.api._settings import Settings
from rsrp.api._stages import Stages
from rsrp.api._store import ServiceStore
from rsrp.context import ContextBuilder, Database, EventLog, Registry, load_directory
from rsrp.crypto import run_selftests
from rsrp.errors import ConfigError, RsrpError

__all__ = ["Service", "build_service"]


@dataclass(frozen=True, slots=True)
class Service:
    settings: Settings
    db: Database
    registry: Registry
    store: ServiceStore
    stages: Stages
    pipeline: Pipeline
    approvals: Approvals
    #: The key store's admin view and rotation; None when the stages are test doubles.
    keys: ServiceKeys | None
    housekeeping: Housekeeping
    batcher: Batcher
    auth: Authenticator
    limiter: RateLimiter | SharedRateLimiter
    metrics: Metrics
    #: Names of the crypto known-answer self-tests that failed at start-up (none in production).
    selftest_failures: tuple[str, ...] = ()

    def close(self) -> None:
        self.housekeeping.close()
        self.batcher.close()
        self.approvals.close()
        self.stages.ledger.close()
        if isinstance(self.limiter, SharedRateLimiter):
            self.limiter.close()
        self.db.close()


def _service_keys(settings: Settings, stages: Stages) -> ServiceKeys | None:
    store = stages.keystore
    if store is None:
        return None
    jur = stages.policy.jurisdiction
    infos = store.list()
    in_use = {
        s: k for s in SERVICE_KEYS if (k := active_key(store, s[0], s[1], jur, infos)) is not None
    }
    return ServiceKeys(
        store,
        jur,
        log_origin(settings.ledger.origin, jur),
        ledger=stages.ledger if isinstance(stages.ledger, Rekeyable) else None,
        proof=stages.proof if isinstance(stages.proof, Resignable) else None,
        in_use=in_use,
    )


def _limiter(settings: Settings, db: Database) -> RateLimiter | SharedRateLimiter:
    lim = settings.limits
    local = RateLimiter(lim.rate_per_second, lim.burst)
    if not lim.shared:
        return local
    return SharedRateLimiter(
        local, WindowCounts(db), window_s=lim.shared_window_s, sync_ms=lim.shared_sync_ms
    )


def build_service(settings: Settings, stages: Stages, db: Database) -> Service:
    registry = Registry(db)
    if settings.context.directory is not None:
        registry.import_data(load_directory(settings.context.directory))
    events = EventLog(db)
    store = ServiceStore(db, events)
    metrics = Metrics()
    pipeline = Pipeline(
        stages,
        ContextBuilder(registry, events),
        store,
        metrics,
        approval_timeout=dt.timedelta(seconds=settings.approvals.timeout_s),
    )
    oidc = None
    if (o := settings.auth.oidc) is not None:
        oidc = OidcVerifier(
            OidcConfig(
                issuer=o.issuer,
                audience=o.audience,
                jwks=o.jwks,
                algorithms=o.algorithms,
                principal_claim=o.principal_claim,
                role_map=dict(o.role_map),
                min_refresh_s=o.jwks_min_refresh_s,
                max_age_s=o.jwks_max_age_s,
                jwks_ca=o.jwks_ca,
                leeway_s=o.leeway_s,
                typ=o.typ,
                client_roles=o.client_roles,
            )
        )
    # Power-on known-answer tests: production refuses to start on any failure;
    # development starts but /readyz reports them.
    failures = tuple(r.name for r in run_selftests() if not r.ok)
    if failures and settings.mode == "production":
        raise ConfigError(f"crypto self-tests failed, refusing to start: {', '.join(failures)}")
    principals = {p: [str(r) for r in rs] for p, rs in settings.auth.principals.items()}
    approvals = Approvals(pipeline)
    try:  # conclusions a crash left in flight (docs/service.md, Approvals)
        approvals.recover()
    except RsrpError as e:  # the sweep retries
        logging.getLogger("rsrp.api").warning("approval recovery failed: %s", e)
    keys = _service_keys(settings, stages)
    chores: list[Callable[[], object]] = [approvals.recover, approvals.expire_due]
    chores += [keys.follow] if keys is not None else []
    return Service(
        settings=settings,
        db=db,
        registry=registry,
        store=store,
        stages=stages,
        pipeline=pipeline,
        approvals=approvals,
        keys=keys,
        housekeeping=Housekeeping(chores, settings.approvals.sweep_interval_s),
        batcher=Batcher(pipeline),
        auth=Authenticator(registry, principals, oidc),
        limiter=_limiter(settings, db),
        metrics=metrics,
        selftest_failures=failures,
    )
