"""Prometheus metrics: requests by route and status, offer answers, sessions per phase, engine lag."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from execbroker.model.phases import SessionPhase

REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "execbroker_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "execbroker_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OFFERSETS = Counter("execbroker_offersets_total", "Offer sets by result", ["result"], registry=REGISTRY)
SESSIONS = Gauge("execbroker_sessions", "Sessions per phase", ["phase"], registry=REGISTRY)
ENGINE_LAG = Gauge(
    "execbroker_engine_lag_seconds", "Now minus the due time of the oldest step claimed", registry=REGISTRY
)


def refresh_gauges(counts: dict[str, int], lag: float) -> None:
    for phase in SessionPhase:
        SESSIONS.labels(phase.value).set(counts.get(phase.value, 0))
    ENGINE_LAG.set(lag)
