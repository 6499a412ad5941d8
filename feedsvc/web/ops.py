"""Operator endpoints: liveness/readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ..db import database
from ..jobs import jobs
from ..metrics import EXTENSION_KEY as METRICS

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers: 200 when the database and the job queue answer, 503 otherwise."""
    try:
        database().ping()
    except SQLAlchemyError as exc:
        log.error("health check failed error=%s", exc.__class__.__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    queue = jobs().dispatcher.queue_state()
    if queue != "ok":
        # Writes still work (jobs wait in the database): degraded, not down.
        log.warning("health check: job queue %s", queue)
        return jsonify(status="degraded", database="ok", queue=queue), 200
    return jsonify(status="ok", database="ok", queue="ok"), 200


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics, for monitoring scrapes."""
    return current_app.extensions[METRICS].exposition()  # type: ignore[no-any-return]
