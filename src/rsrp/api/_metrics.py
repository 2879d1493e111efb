"""Prometheus metrics on a per-app registry (never the process-global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "rsrp_decisions",
            "Decisions logged, by outcome and reason code",
            ["outcome", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rsrp_decision_latency_seconds",
            "Time from request to acknowledged (logged) decision",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.group_size = Histogram(
            "rsrp_decision_group_size",
            "Decisions per group decided together (one ledger commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.stage_latency = Histogram(
            "rsrp_stage_latency_seconds",
            "Time spent per pipeline stage",
            ["stage"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.incidents = Counter(
            "rsrp_incidents", "Incidents recorded, by stage", ["stage"], registry=self.registry
        )
        self.ledger_size = Gauge(
            "rsrp_ledger_size", "Entries in the transparency log", registry=self.registry
        )
        self.checkpoint_age = Gauge(
            "rsrp_checkpoint_age_seconds",
            "Age of the latest signed checkpoint (-1: none yet)",
            registry=self.registry,
        )
        self.rejected = Counter(
            "rsrp_requests_rejected",
            "Requests refused before the pipeline, by reason",
            ["reason"],
            registry=self.registry,
        )
