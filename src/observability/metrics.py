"""Prometheus metrics of one spanledger process, in a registry of its own.

A registry per container, not the client library's global one: tests run several servers in
one process, and each must count only its own requests. What the read model knows (lags,
jobs, quota) is read when scraped (observability.read_model_metrics); what only this process
sees (requests, job durations, saves a transaction) is counted as it happens.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

# Methods outside this set are counted as "other": a label value a client cannot multiply.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Training takes minutes (up to SPANLEDGER_TRAINING_MAX_SECONDS, 30 by default); auto-labeling
# from seconds to hours with the number of documents.
_JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)


class Metrics:
    def __init__(self, read_model: Collector | None = None):
        self.registry = CollectorRegistry()
        for standard in (ProcessCollector, PlatformCollector, GCCollector):
            standard(registry=self.registry)
        self.requests = Counter(
            "spanledger_http_requests", "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"], registry=self.registry)
        self.request_seconds = Histogram(
            "spanledger_http_request_duration_seconds",
            "Seconds from a request's arrival to the last byte of its answer, by method, route template and status.",
            ["method", "route", "status"], registry=self.registry)
        self.job_seconds = Histogram(
            "spanledger_job_duration_seconds",
            "Seconds a worker of this process spent on the attempt that ended a job, by kind and how it ended.",
            ["kind", "status"], buckets=_JOB_BUCKETS, registry=self.registry)
        self.saves_per_transaction = Histogram(
            "spanledger_saves_per_transaction",
            "Transactions this process wrote to the log, by how many saves shared each (group commit).",
            buckets=(1, 2, 4, 8, 16, 32, 64), registry=self.registry)
        if read_model is not None:
            self.registry.register(read_model)

    def request_done(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method if method in _METHODS else "other", route, str(status))
        self.requests.labels(*labels).inc()
        self.request_seconds.labels(*labels).observe(seconds)

    def job_ended(self, kind: str, status: str, seconds: float) -> None:
        self.job_seconds.labels(kind, status).observe(seconds)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics in the format the scraper asks for (Prometheus text, or OpenMetrics)."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type
