"""HTTP layer: blueprints that decode, call a service, and respond."""

from __future__ import annotations

from flask import Flask, request

from .. import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def declare_read_only_requests(app: Flask) -> None:
    """A request with a safe method writes nothing: tell the database layer before any
    hook or view opens the request's session (it must not read the request itself)."""

    @app.before_request
    def read_only_session() -> None:
        if request.method in SAFE_METHODS:
            db.reads_only()
