"""Prometheus metrics of one app instance (its own registry, so several apps in one process do not collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Latency buckets in seconds: fine-grained around the 2 ms target of one scored household.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


#: HTTP methods that keep their own ``method`` label; every other one is counted as ``OTHER``.
USUAL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ServiceMetrics:
    """Request latency, scores per band, review backlog, overdue items and the served model version."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_latency = Histogram(
            "vroegsignaal_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.scores = Counter("vroegsignaal_scores", "Households scored, by risk band.", ["band"], registry=self.registry)
        self.backlog = Gauge(
            "vroegsignaal_review_backlog", "Open review items (not held back).", ["municipality"], registry=self.registry
        )
        self.overdue = Gauge(
            "vroegsignaal_review_overdue", "Open review items past their deadline.", ["municipality"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "vroegsignaal_model_info", "The served model version (value 1).", ["version", "status"],
            registry=self.registry,
        )
        self.queue_up = Gauge(
            "vroegsignaal_queue_metrics_up",
            "1 when the backlog, overdue and the model's status were read from the database at this scrape; 0 when "
            "the database did not answer in time: backlog and overdue are then left out, not shown stale, and the "
            "model's status is the last one read.",
            registry=self.registry,
        )

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        # Any client can send an unusual method (PROPFIND, ...); each would add a series per route and status.
        label = method if method in USUAL_METHODS else "OTHER"
        self.request_latency.labels(label, route, str(status)).observe(seconds)

    def count_scores(self, bands: tuple[str, ...]) -> None:
        for band in bands:
            self.scores.labels(band).inc()

    def set_model(self, version: str | None, status: str | None) -> None:
        self.model_info.clear()
        if version is not None:
            self.model_info.labels(version, status or "unknown").set(1)

    def set_queue(self, counts: dict[str, tuple[int, int]] | None) -> None:
        """Backlog and overdue per municipality (stale municipalities drop out); ``None`` when they could not be
        read: they are left out and ``vroegsignaal_queue_metrics_up`` is 0."""
        self.backlog.clear()
        self.overdue.clear()
        self.queue_up.set(0 if counts is None else 1)
        for municipality, (backlog, overdue) in (counts or {}).items():
            self.backlog.labels(municipality).set(backlog)
            self.overdue.labels(municipality).set(overdue)

    def render(self) -> bytes:
        return generate_latest(self.registry)
