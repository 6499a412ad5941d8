"""RFC 9457 problem details: every API error leaves through ``problem()``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, abort, json, request
from werkzeug.exceptions import HTTPException

from ..domain import (
    Conflict,
    DomainError,
    FieldError,
    Gone,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from ..logs import request_id

PROBLEM_TYPE_BASE = "https://feedsvc.example/problems/"
_STATUS_OF: dict[type[DomainError], int] = {
    NotFound: 404,
    Gone: 410,
    Conflict: 409,
    PreconditionFailed: 412,
    Invalid: 422,
}
# A record that does not exist, or no longer does: what pages answer with 404 or 410.
MISSING = (NotFound, Gone)


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error, the same for the API and the pages."""
    return next(code for kind, code in _STATUS_OF.items() if isinstance(exc, kind))


@contextmanager
def aborting_if_missing() -> Iterator[None]:
    """A page's record lookups: NotFound and Gone become the 404 or 410 error page."""
    try:
        yield
    except MISSING as exc:
        abort(status_of(exc))


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid fields",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    410: "gone",
    412: "precondition-failed",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-fields",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
}


class ApiError(Exception):
    """An HTTP-level error raised inside the API (bad header, bad query parameter)."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem(
    status: int,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem response, so every API error has one machine-readable shape."""
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + _SLUGS.get(status, str(status)),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if (current_request_id := request_id()) is not None:
        body["request_id"] = current_request_id  # as in X-Request-ID and the log lines
    if errors:
        body["errors"] = [
            {"parameter": e.parameter, "detail": e.detail}
            if e.parameter
            else {"pointer": e.pointer, "detail": e.detail}
            for e in errors
        ]
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def register(app: Flask, prefix: str) -> None:
    """Map domain and HTTP errors to problem+json for every path under ``prefix``."""

    def in_api() -> bool:
        return request.path.startswith(prefix)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Response:
        status = status_of(exc)
        errors = exc.errors if isinstance(exc, Invalid) else None
        if errors and all(error.parameter for error in errors):
            status = 400  # a bad query string is a bad request, not a bad document
        detail = "Some fields are invalid; see errors." if errors else str(exc)
        return problem(status, detail, errors)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return problem(exc.status, exc.detail, exc.errors, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        if not in_api():
            return exc
        headers = {}
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return problem(exc.code or 500, exc.description, headers=headers)
