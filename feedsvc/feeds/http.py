"""Serving rendered feeds: a render cache keyed by scope version, validators, compression.

A polling reader's request is answered from here without the database (the scope version
comes from ``feeds.scopes``) and, when its copy is current, before any body or full
response is built: the validators and headers of each encoding are made once per render.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import brotli
from flask import Request, Response
from werkzeug.datastructures import Accept
from werkzeug.http import http_date, parse_accept_header, parse_date, parse_etags

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

ENCODINGS = ("br", "gzip")
Headers = list[tuple[str, str]]
Answer = tuple[str, Headers, bytes]
OK, NOT_MODIFIED = "200 OK", "304 NOT MODIFIED"  # werkzeug's spelling of the status lines


@dataclass
class Rendered:
    """One rendered document and its compressed forms, made once and served many times."""

    body: bytes
    media_type: str
    last_modified: datetime
    etag: str = ""
    link: str = ""  # the HTTP Link header: WebSub discovery (``websub_link``), or none
    compressed: dict[str, bytes] = field(default_factory=dict)
    http_last_modified: str = field(default="", init=False, repr=False, compare=False)
    http_last_modified_at: datetime = field(init=False, repr=False, compare=False)
    _headers: dict[tuple[str | None, int], tuple[Headers, Headers]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.etag = hashlib.sha256(self.body).hexdigest()[:32]
        self.http_last_modified = http_date(self.last_modified)
        # what the header says: whole seconds, UTC
        self.http_last_modified_at = self.last_modified.astimezone(UTC).replace(microsecond=0)

    def encoded(self, encoding: str) -> bytes:
        """The body compressed for ``encoding``, made once per render and reused by every reader."""
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
        """The headers of a 200 (Content-Length last) and of a 304 in ``encoding``, built
        once per render.

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
            if self.link:  # on a 304 too: a subscriber may discover the hub from either
                common.append(("Link", self.link))
            full = [
                ("Content-Type", f"{self.media_type}; charset=utf-8"),
                ("X-Content-Type-Options", "nosniff"),  # a feed is never sniffed as HTML
            ]
            if encoding:
                full.append(("Content-Encoding", encoding))
            length = len(self.encoded(encoding) if encoding else self.body)
            full += [common[0], ("Last-Modified", self.http_last_modified), *common[1:]]
            self._headers[key] = ([*full, ("Content-Length", str(length))], common)
        return self._headers[key]


def websub_link(hubs: tuple[str, ...], self_url: str) -> str:
    """The Link header WebSub discovery reads (W3C WebSub 4): each hub, then the topic's
    canonical URL; empty when no hub is configured."""
    if not hubs:
        return ""
    return ", ".join([*(f'<{hub}>; rel="hub"' for hub in hubs), f'<{self_url}>; rel="self"'])


class SharedRenders(Protocol):
    """A render cache shared by every process (Redis), consulted on a local miss."""

    def get_or_render(
        self, key: Hashable, render: Callable[[], Rendered], document: Hashable = None
    ) -> Rendered:
        """The cached render for ``key``, or ``render()`` made by one process while others wait."""
        ...

    def recent(self, document: Hashable, within: float) -> tuple[Rendered, float] | None:
        """Any process's newest render of ``document`` and its age, if younger than
        ``within`` seconds."""


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

    def __init__(
        self, max_entries: int = 512, shared: SharedRenders | None = None, grace: float = 0.0
    ) -> None:
        self.max_entries = max_entries
        self.shared = shared
        self.grace = grace
        self._items: OrderedDict[Hashable, Rendered] = OrderedDict()
        # document → its newest render and when it was made, for the grace window
        self._latest: dict[Hashable, tuple[Rendered, float]] = {}
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()

    def get_or_render(
        self, key: Hashable, render: Callable[[], Rendered], document: Hashable = None
    ) -> Rendered:
        """The render under ``key``. With a grace window and ``document`` (what the key is a
        version of: the canonical URL), a render of an older version made less than
        ``grace`` seconds ago is served instead of a new one, and while the new one is
        being made the other requests get the older one instead of waiting for it: under
        continuous writes a feed costs one render per window, like a proxy serving stale
        while it revalidates (RFC 5861)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            # A caller that needs the exact bytes (document None: publishing) never waits
            # on a flight whose leader may answer with a render from the grace window.
            flight_key = key if document is not None or not self.grace else (key, "exact")
            flight = self._flights.get(flight_key)
            leader = flight is None
            if (previous := self._in_grace(document, waiting=not leader)) is not None:
                return previous
            if flight is None:
                flight = self._flights[flight_key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.result is None:
                raise flight.error or RuntimeError("render failed")
            return flight.result
        age: float | None = None  # of another process's render still in its window
        try:
            # outside the lock: other keys go on meanwhile
            if self.shared is None:
                flight.result = render()
            elif (
                self.grace
                and document is not None
                and (recent := self.shared.recent(document, self.grace))
            ):
                flight.result, age = recent  # the window is every process's
            else:
                flight.result = self.shared.get_or_render(key, render, document)
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                if flight.result is not None:
                    if age is None:
                        self._items[key] = flight.result
                    if document is not None:
                        made_at = time.monotonic() - (age or 0.0)
                        self._latest[document] = (flight.result, made_at)
                        while len(self._latest) > self.max_entries:
                            del self._latest[next(iter(self._latest))]
                    while len(self._items) > self.max_entries:
                        self._items.popitem(last=False)
                del self._flights[flight_key]
            flight.done.set()
        return flight.result

    def read_before(self, document: Hashable) -> bool:
        """Whether ``document`` was rendered here (or, with Redis, anywhere) since its
        renders were last let go: warming ahead of readers is for what readers read."""
        with self._lock:
            if document in self._latest:
                return True
        return self.shared is not None and self.shared.recent(document, float("inf")) is not None

    def peek(self, key: Hashable, document: Hashable = None) -> Rendered | None:
        """The cached document, or one the grace window still serves, or None: never
        renders, never waits."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
            return self._in_grace(document)

    def _in_grace(self, document: Hashable, waiting: bool = False) -> Rendered | None:
        """The last render of ``document`` while its window lasts (or, ``waiting`` for a
        render in progress, whatever its age). Called under the lock."""
        if not self.grace or document is None or document not in self._latest:
            return None
        previous, made_at = self._latest[document]
        return previous if waiting or time.monotonic() - made_at < self.grace else None

    def clear(self) -> None:
        """Forgets every render and grace entry, so the next request renders afresh (tests)."""
        with self._lock:
            self._items.clear()
            self._latest.clear()


@lru_cache(maxsize=256)
def _best_encoding(accept_encoding: str) -> str | None:
    """Readers send the same few Accept-Encoding values: parse each once."""
    best = parse_accept_header(accept_encoding, Accept).best_match([*ENCODINGS, "identity"])
    return best if best in ENCODINGS else None


def negotiate_encoding(request: Request) -> str | None:
    """The compression to answer with (br, gzip or None) from the request's Accept-Encoding."""
    return _best_encoding(request.environ.get("HTTP_ACCEPT_ENCODING", ""))


# A reader sends back the validators it was given: few distinct values, each parsed once.
_etags = lru_cache(maxsize=4096)(parse_etags)
_date = lru_cache(maxsize=4096)(parse_date)


def not_modified(environ: WSGIEnvironment, validator: str, last_modified: datetime) -> bool:
    """werkzeug's ``is_resource_modified`` for a GET without If-Match or Range, negated:
    If-None-Match (weak comparison) decides when present, else If-Modified-Since."""
    unmodified = False
    if since := environ.get("HTTP_IF_MODIFIED_SINCE"):
        date = _date(since)
        unmodified = date is not None and last_modified <= date
    if (match := environ.get("HTTP_IF_NONE_MATCH")) and (etags := _etags(match)):
        unmodified = etags.contains_weak(validator)
    return unmodified


def answer(rendered: Rendered, environ: WSGIEnvironment, max_age: int) -> Answer:
    """Status, headers and body for a GET or HEAD without If-Match: a 304 when the
    client's copy is current, decided from the cached validators, else the best encoding
    it accepts. The one decision both ways of serving a feed take (``feed_response``
    and the WSGI hit path in ``web.feeds``)."""
    encoding = _best_encoding(environ.get("HTTP_ACCEPT_ENCODING", ""))
    full, unchanged = rendered.headers(encoding, max_age)
    if not_modified(environ, rendered.validator(encoding), rendered.http_last_modified_at):
        return NOT_MODIFIED, unchanged, b""
    return OK, full, rendered.encoded(encoding) if encoding else rendered.body


def feed_response(rendered: Rendered, request: Request, max_age: int) -> Response:
    """``answer`` as a Flask response; with If-Match (rare) werkzeug's full rules."""
    environ = request.environ
    if "HTTP_IF_MATCH" not in environ:
        status, headers, body = answer(rendered, environ, max_age)
        if status is NOT_MODIFIED:
            return Response(status=304, headers=headers)
        return Response(body, headers=headers)
    encoding = _best_encoding(environ.get("HTTP_ACCEPT_ENCODING", ""))
    full, _ = rendered.headers(encoding, max_age)
    body = rendered.encoded(encoding) if encoding else rendered.body
    response = Response(body, headers=full)
    response.make_conditional(request)  # in place
    return response
