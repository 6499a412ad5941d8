"""Prometheus metrics: requests by endpoint and status, and a latency histogram."""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

EXTENSION_KEY = "feedsvc.metrics"
# Label values come from a fixed set, so requests cannot invent Prometheus series: any
# other method is counted as "other", any path no route matches as "unmatched".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"
UNMATCHED = "unmatched"


class Metrics:
    """The app's Prometheus metrics, in a registry of its own so apps in one process don't clash."""

    def __init__(self) -> None:
        # One registry per app, so several apps in one process (tests) don't collide.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "feedsvc_http_requests",
            "HTTP requests answered",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "feedsvc_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        self.feed_renders = Counter(
            "feedsvc_feed_renders",
            "Feeds rendered (not served from the render cache)",
            ["format"],
            registry=self.registry,
        )
        self._counters: dict[tuple[str, str, str], Any] = {}
        self._timers: dict[str, Any] = {}

    def record(self, endpoint: str, method: str, status: str, seconds: float | None) -> None:
        """Count one answered request. The label children are kept, so this costs one
        dict lookup per metric (``labels()`` validates and locks on every call)."""
        if method not in METHODS:
            method = OTHER
        if not (len(status) == 3 and status.isascii() and status.isdigit()):
            status = OTHER
        key = (endpoint, method, status)
        if (counter := self._counters.get(key)) is None:
            counter = self._counters[key] = self.requests.labels(*key)
        counter.inc()
        if seconds is None:
            return
        if (timer := self._timers.get(endpoint)) is None:
            timer = self._timers[endpoint] = self.latency.labels(endpoint)
        timer.observe(seconds)

    def exposition(self) -> Response:
        """This process's counts, or under ``feedsvc serve`` (several gunicorn workers,
        PROMETHEUS_MULTIPROC_DIR set) the sum over every worker."""
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> Metrics:
    """Gives the app its metrics and times every request for them."""
    metrics = Metrics()
    app.extensions[EXTENSION_KEY] = metrics

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        started = g.pop("request_started", None)
        # The route pattern, not the raw path, so label values stay few.
        endpoint = request.url_rule.rule if request.url_rule else UNMATCHED
        elapsed = time.perf_counter() - started if started is not None else None
        metrics.record(endpoint, request.method, str(response.status_code), elapsed)
        return response

    return metrics
