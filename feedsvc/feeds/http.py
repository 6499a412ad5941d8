"""Serving rendered feeds: a render cache keyed by scope version, validators, compression.

A polling reader's request is answered from here without the database (the scope version
comes from ``feeds.scopes``) and, when its copy is current, before any body or full
response is built: the validators and headers of each encoding are made once per render.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Protocol

import brotli
from flask import Request, Response
from werkzeug.datastructures import Accept
from werkzeug.http import http_date, is_resource_modified, parse_accept_header

ENCODINGS = ("br", "gzip")
Headers = list[tuple[str, str]]


@dataclass
class Rendered:
    """One rendered document and its compressed forms, made once and served many times."""

    body: bytes
    media_type: str
    last_modified: datetime
    etag: str = ""
    compressed: dict[str, bytes] = field(default_factory=dict)
    http_last_modified: str = field(default="", init=False, repr=False, compare=False)
    _headers: dict[tuple[str | None, int], tuple[Headers, Headers]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.etag = hashlib.sha256(self.body).hexdigest()[:32]
        self.http_last_modified = http_date(self.last_modified)

    def encoded(self, encoding: str) -> bytes:
        if encoding not in self.compressed:
            if encoding == "gzip":
                self.compressed[encoding] = gzip.compress(self.body, compresslevel=6, mtime=0)
            else:
                self.compressed[encoding] = brotli.compress(self.body, quality=6)
        return self.compressed[encoding]

    def validator(self, encoding: str | None) -> str:
        """A strong validator names the exact bytes, so each encoding has its own."""
        return f"{self.etag}-{encoding}" if encoding else self.etag

    def headers(self, encoding: str | None, max_age: int) -> tuple[Headers, Headers]:
        """The headers of a 200 and of a 304 in ``encoding``, built once per render.

        A 304 carries what a cache must update (RFC 9110 15.4.5): the validator,
        Cache-Control, Vary, and CORS so a partner page's fetch() can read it; no
        Date (the server adds its own)."""
        key = (encoding, max_age)
        if key not in self._headers:
            common = [
                ("ETag", f'"{self.validator(encoding)}"'),
                ("Cache-Control", f"public, max-age={max_age}"),
                ("Vary", "Accept-Encoding"),
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Expose-Headers", "ETag, Last-Modified, Link"),
            ]
            full = [("Content-Type", f"{self.media_type}; charset=utf-8")]
            if encoding:
                full.append(("Content-Encoding", encoding))
            full += [common[0], ("Last-Modified", self.http_last_modified), *common[1:]]
            self._headers[key] = (full, common)
        return self._headers[key]


class SharedRenders(Protocol):
    """A render cache shared by every process (Redis), consulted on a local miss."""

    def get_or_render(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered: ...


@dataclass
class _Flight:
    """A render in progress, which requests for the same key wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    result: Rendered | None = None
    error: BaseException | None = None


class RenderCache:
    """A small thread-safe LRU. Keys carry the scope version, so stale entries are never
    looked up again after a change; they just age out. Single flight: while one request
    renders a key, the others for it wait for that render instead of making their own.
    With ``shared`` (Redis), the one request of this process asks the other processes'
    cache, and their lock, before it renders."""

    def __init__(self, max_entries: int = 512, shared: SharedRenders | None = None) -> None:
        self.max_entries = max_entries
        self.shared = shared
        self._items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.result is None:
                raise flight.error or RuntimeError("render failed")
            return flight.result
        try:
            # outside the lock: other keys go on meanwhile
            if self.shared is not None:
                flight.result = self.shared.get_or_render(key, render)
            else:
                flight.result = render()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                if flight.result is not None:
                    self._items[key] = flight.result
                    while len(self._items) > self.max_entries:
                        self._items.popitem(last=False)
                del self._flights[key]
            flight.done.set()
        return flight.result

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@lru_cache(maxsize=256)
def _best_encoding(accept_encoding: str) -> str | None:
    """Readers send the same few Accept-Encoding values: parse each once."""
    best = parse_accept_header(accept_encoding, Accept).best_match([*ENCODINGS, "identity"])
    return best if best in ENCODINGS else None


def negotiate_encoding(request: Request) -> str | None:
    return _best_encoding(request.environ.get("HTTP_ACCEPT_ENCODING", ""))


def feed_response(rendered: Rendered, request: Request, max_age: int) -> Response:
    """200 with the best encoding the client accepts, or 304 when its copy is current:
    decided from the cached validators before any response body is touched."""
    encoding = negotiate_encoding(request)
    full, not_modified = rendered.headers(encoding, max_age)
    environ = request.environ
    if (
        "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
    ) and "HTTP_IF_MATCH" not in environ:
        validator = rendered.validator(encoding)
        if not is_resource_modified(environ, validator, last_modified=rendered.http_last_modified):
            return Response(status=304, headers=not_modified)
    body = rendered.encoded(encoding) if encoding else rendered.body
    response = Response(body, headers=full)
    if "HTTP_IF_MATCH" in environ:  # rare: werkzeug's full rules (412 and all)
        response.make_conditional(request)
    return response
