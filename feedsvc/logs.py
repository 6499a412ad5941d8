"""Logging: one configuration for the app, ``feedsvc serve`` and ``feedsvc worker``, and
the context every line carries (request id, job, article, language), so an operator can
follow one article from the request that changed it to the feed that shows it.

``FEEDSVC_LOG_FORMAT`` is ``text`` (one line per record, the context as ``key=value`` at
the end) or ``json`` (one object per line with fixed keys, see ``JSON_KEYS``);
``FEEDSVC_LOG_LEVEL`` the lowest level written. Both are read by ``config.log_options``.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CONTEXT_FIELDS = ("request_id", "job_id", "article_id", "lang")
JSON_KEYS = ("time", "level", "logger", "message", *CONTEXT_FIELDS, "process", "exception")
TEXT_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON = "feedsvc.request_id"
# A client's or proxy's id is kept when it is visible ASCII of sane length: it then joins
# their logs to ours. Anything else (spaces, controls, a novel) could forge or break a
# log line, so it is replaced by an id of ours.
SANE_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")

_context: ContextVar[Mapping[str, object]] = ContextVar(
    "feedsvc_log_context", default=MappingProxyType({})
)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Every record logged inside the block (in this thread or task) carries ``fields``."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def request_id() -> str | None:
    """The id of the request being handled, for problem documents; None outside one."""
    value = _context.get().get("request_id")
    return value if isinstance(value, str) else None


class _RequestIdSource:
    """Unique ids at the cost of a counter: a random prefix per process (made again in a
    forked worker) and a sequence number. uuid4 would cost a system call per request, a
    large share of a cached feed's answer; ids need to be unique, not unguessable."""

    def __init__(self) -> None:
        self.restart()
        os.register_at_fork(after_in_child=self.restart)

    def restart(self) -> None:
        """A new prefix and counter, so two processes never hand out the same id."""
        self.prefix = os.urandom(12).hex()  # with the 8-digit counter: 32 hex digits
        self.numbers = itertools.count(1)

    def next(self) -> str:
        """The next id of this process."""
        return f"{self.prefix}{next(self.numbers):08x}"


@functools.cache
def _request_ids() -> _RequestIdSource:
    """The process's id source, made on first use rather than at import."""
    return _RequestIdSource()


def accepted_request_id(value: str | None) -> str:
    """The incoming ``X-Request-ID`` when it is sane, else a new id of ours."""
    if value is not None and SANE_REQUEST_ID.fullmatch(value):
        return value
    return _request_ids().next()


class ContextFilter(logging.Filter):
    """Copies the bound context onto each record, so formatters and handlers elsewhere
    (gunicorn's, a test's) see ``record.request_id`` etc.; an explicit ``extra=`` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Fills each record's context fields from the bound context, keeping explicit values."""
        context = _context.get()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        return True


class TextFormatter(logging.Formatter):
    """gunicorn's line layout with the logger name, then the context as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        """The usual line with the context appended as ``key=value``, when there is any."""
        line = super().formatMessage(record)
        context = " ".join(
            f"{name}={value}"
            for name in CONTEXT_FIELDS
            if (value := getattr(record, name, None)) is not None
        )
        return f"{line} {context}" if context else line


class JsonFormatter(logging.Formatter):
    """One JSON object per record with the keys of ``JSON_KEYS``, always all of them, so
    a log pipeline needs no schema guessing (null when a value is unknown)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line, the exception and stack folded into one field."""
        exception = None
        if record.exc_info:
            exception = self.formatException(record.exc_info)
        if record.stack_info:
            exception = "\n".join(filter(None, [exception, self.formatStack(record.stack_info)]))
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{name: getattr(record, name, None) for name in CONTEXT_FIELDS},
            "process": record.process,
            "exception": exception,
        }
        return json.dumps(document, ensure_ascii=False, default=str)


class Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """feedsvc's handler: a stream (stderr) with the context filter and the chosen format;
    its class marks it, so configuring again replaces it instead of adding a second."""

    def __init__(self, log_format: str = "text", stream: IO[str] | None = None) -> None:
        if log_format not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}: {log_format!r}")
        super().__init__(stream if stream is not None else sys.stderr)
        self.addFilter(ContextFilter())
        self.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())


def configure(
    log_format: str = "text", level: str = "INFO", stream: IO[str] | None = None
) -> Handler:
    """Send every record at ``level`` or above to ``stream`` (stderr) in ``log_format``;
    replaces the handler of an earlier call, leaves anyone else's alone."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, Handler)]:
        root.removeHandler(handler)
    handler = Handler(log_format, stream)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def configured_by_host() -> bool:
    """Whether logging was set up before the app (gunicorn's --log-config, pytest, an
    embedding program): then the app adds no handler of its own."""
    return bool(logging.getLogger().handlers)


def setup(log_format: str, level: str) -> None:
    """The app's configuration, unless the host configured logging already."""
    if not configured_by_host():
        configure(log_format, level)


def tag_requests(app: Flask) -> None:
    """Give every request an id (``RequestIds`` in front of everything else)."""
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]


class RequestIds:
    """WSGI middleware, outermost: each request gets an id (a sane ``X-Request-ID`` or a
    new one) bound to its log lines and echoed in the ``X-Request-ID`` response header,
    whether Flask or the cached-feed path (``web.feeds.CachedFeeds``) answers."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        value = accepted_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[REQUEST_ID_ENVIRON] = value

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, (REQUEST_ID_HEADER, value)], exc_info)

        token = _context.set({**_context.get(), "request_id": value})  # bound(), inlined
        try:
            return self.wsgi_app(environ, start)
        finally:
            _context.reset(token)
