"""Faults of the parts the service stands on, answered as what they are: the database out
of reach is a 503 with ``Retry-After`` (problem+json in the API, a page elsewhere), never
a 500; nothing needs a restart once it is back (the pool replaces dead connections)."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.wrappers import Response

from .problems import problem

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def unreachable(exc: BaseException) -> bool:
    """Whether a database error means the database could not be reached or is busy (an
    operational fault), not a bad statement."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def register(app: Flask, api_prefix: str) -> None:
    """Turns an unreachable database into a 503 with Retry-After rather than a 500."""

    @app.errorhandler(DBAPIError)
    def database_fault(exc: DBAPIError) -> Response | tuple[str, int, dict[str, str]]:
        if not unreachable(exc):
            raise exc
        log.error("database unavailable path=%s error=%s", request.path, exc.__class__.__name__)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith(api_prefix) or request.accept_mimetypes.best in (
            "application/json",
            "application/problem+json",
        ):
            return problem(503, "The database is unavailable; try again shortly.", headers=headers)
        page = render_template(
            "unavailable.html",
            message=_("The service is briefly unavailable. Please try again in a moment."),
        )
        return page, 503, headers
