"""Serving rendered feeds: a render cache keyed by scope version, validators, compression."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

import brotli
from flask import Request, Response

ENCODINGS = ("br", "gzip")


@dataclass
class Rendered:
    """One rendered document and its compressed forms, made once and served many times."""

    body: bytes
    media_type: str
    last_modified: datetime
    etag: str = ""
    compressed: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.etag = hashlib.sha256(self.body).hexdigest()[:32]

    def encoded(self, encoding: str) -> bytes:
        if encoding not in self.compressed:
            if encoding == "gzip":
                self.compressed[encoding] = gzip.compress(self.body, compresslevel=6, mtime=0)
            else:
                self.compressed[encoding] = brotli.compress(self.body, quality=6)
        return self.compressed[encoding]


@dataclass
class _Flight:
    """A render in progress, which requests for the same key wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    result: Rendered | None = None
    error: BaseException | None = None


class RenderCache:
    """A small thread-safe LRU. Keys carry the scope version, so stale entries are never
    looked up again after a change; they just age out. Single flight: while one request
    renders a key, the others for it wait for that render instead of making their own."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
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
            flight.result = render()  # outside the lock: other keys go on meanwhile
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


def negotiate_encoding(request: Request) -> str | None:
    best = request.accept_encodings.best_match([*ENCODINGS, "identity"])
    return best if best in ENCODINGS else None


def feed_response(rendered: Rendered, request: Request, max_age: int) -> Response:
    """200 with the best encoding the client accepts, or 304 when its copy is current."""
    encoding = negotiate_encoding(request)
    body = rendered.encoded(encoding) if encoding else rendered.body
    response = Response(body, content_type=f"{rendered.media_type}; charset=utf-8")
    if encoding:
        response.headers["Content-Encoding"] = encoding
    # A strong validator names the exact bytes, so each encoding has its own.
    response.set_etag(f"{rendered.etag}-{encoding}" if encoding else rendered.etag)
    response.last_modified = rendered.last_modified
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link"
    return response.make_conditional(request)
