"""Feed URLs: /{lang}/[section/]feed.{atom,rss,json} and the OPML lists."""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from ..config import SOURCE_LANGUAGE, Language, Settings
from ..feeds.data import FeedBuilder, FeedRequest, PageOutOfRange
from ..feeds.http import RenderCache, Rendered, answer, feed_response, websub_link
from ..feeds.model import MEDIA_TYPES
from ..feeds.render import RENDERERS, render_opml
from ..feeds.scopes import EXTENSION_KEY as SCOPES
from ..feeds.scopes import ScopeSnapshot, current_scopes
from ..jobs import EXACT, INTERNAL_REQUEST, NOT_READ, WARM
from ..metrics import EXTENSION_KEY as METRICS
from ..metrics import Metrics
from ..urls import DEFAULT_LIMIT, REVIEWED_ONLY, feed_url
from .problems import problem
from .scope import Scope, current_settings, current_store, resolve

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ScopeState = tuple[int, datetime]  # a scope's version and last change

bp = Blueprint("feeds", __name__)
CACHE_KEY = "feedsvc.feed_cache"
FORMAT = "<any(atom, rss, json):fmt>"
MAX_PAGE = 100_000
# The query parameters a feed or OPML URL knows (the feed URL contract); any other is
# ignored: never part of the render cache key or the self link, never a render of its own.
FEED_PARAMETERS = frozenset({"page", "limit", "only"})
OPML_PARAMETERS = frozenset({"leaves"})
KNOWN_PARAMETERS = FEED_PARAMETERS | OPML_PARAMETERS


def known_query(query_string: str) -> bool:
    """Whether a query string names a parameter some feed URL knows (the rest is noise)."""
    if not query_string:
        return False
    if len(query_string) > 2048:
        return True  # Flask looks at it (and ignores what it does not know)
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, max_num_fields=100)
    except ValueError:
        return True
    return any(name in KNOWN_PARAMETERS for name, _ in pairs)


def stale_ok(environ: WSGIEnvironment) -> bool:
    """Whether a render the grace window still serves will do: not for publishing."""
    return environ.get(INTERNAL_REQUEST) != EXACT


def _document(identity: Hashable) -> Hashable:
    """What the grace window keys a feed by, or None when the caller needs exact bytes."""
    return identity if stale_ok(request.environ) else None


def _unread(identity: Hashable) -> bool:
    """A warming request (the scope sweep's) for a feed no reader has asked for: rendering
    it ahead would be work for nobody."""
    return request.environ.get(INTERNAL_REQUEST) == WARM and not cache().read_before(identity)


PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}


@bp.after_request
def answer_preflight(response: Response) -> Response:
    """A partner page's fetch() with If-None-Match is "non-simple": the browser asks first
    (OPTIONS), and only a preflight answer with these headers lets the GET through."""
    if request.method == "OPTIONS":
        response.headers.update(PREFLIGHT)
    return response


def cache() -> RenderCache:
    """The app's render cache, typed (Flask's extensions dict holds Any)."""
    found: RenderCache = current_app.extensions[CACHE_KEY]
    return found


def _bounded(name: str, default: int, high: int) -> int | None:
    if not request.query_string:  # what almost every reader asks for
        return default
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= high:
        return None
    return int(raw)


def feed_key(self_url: str, scope: ScopeState) -> Hashable:
    """The render cache key: the canonical URL and its scope's state. The change time
    rides along with the version so that a database made anew (versions counting from 1
    again) never meets the renders of the old one in the shared cache."""
    version, changed_at = scope
    return (self_url, version, changed_at.timestamp())


def opml_document(languages: Sequence[Language], leaves_only: bool) -> tuple[Hashable, ...]:
    """What identifies an OPML list across versions, so stale renders can fill the grace window."""
    return ("opml", tuple(language.tag for language in languages), leaves_only)


def opml_key(languages: Sequence[Language], leaves_only: bool, scope: ScopeState) -> Hashable:
    """The OPML render cache key: its document at a site version, so any change misses."""
    version, changed_at = scope
    return (*opml_document(languages, leaves_only), version, changed_at.timestamp())


def _scope_state(section_path: str | None) -> ScopeState:
    """The scope's version from this process's snapshot; from the database only for a
    section the snapshot has not seen yet (created a moment ago by another process)."""
    scopes = current_scopes()
    if section_path is None or section_path in scopes.sections:
        return scopes.scope(section_path or "")
    return current_store().feeds.scope(section_path)


def _serve(scope: Scope, fmt: str) -> Response:
    """A hit (and a 304) touches neither the database nor the renderer."""
    page = _bounded("page", 1, MAX_PAGE)
    limit = _bounded("limit", DEFAULT_LIMIT, 100)
    if page is None or limit is None:
        name, high = ("page", MAX_PAGE) if page is None else ("limit", 100)
        return problem(400, f"?{name} must be an integer from 1 to {high}.")
    only = request.args.get("only") if request.query_string else None
    if only not in (None, REVIEWED_ONLY):
        return problem(400, f"?only must be '{REVIEWED_ONLY}' (human-reviewed entries only).")
    settings = current_settings()
    if only is not None and scope.language.tag == SOURCE_LANGUAGE:
        # Originals are written by people: the reviewed-only feed is the feed itself.
        lang, path = scope.language.tag, scope.section_path
        plain = feed_url(settings.base_url, lang, path, fmt, page, limit)
        return Response(status=301, headers={"Location": plain})
    reviewed_only = only is not None
    state = _scope_state(scope.section_path)
    changed_at = state[1]
    # The parameters that matter (FEED_PARAMETERS) make the key and the self link: any
    # other query parameter, or a default spelled out, is the same feed, never a new render.
    self_url = feed_url(
        settings.base_url, scope.language.tag, scope.section_path, fmt, page, limit, reviewed_only
    )
    if _unread(self_url):
        return Response(status=NOT_READ)

    def render() -> Rendered:
        feed_request = FeedRequest(
            scope.language, scope.section_path, fmt, page, limit, self_url, reviewed_only
        )
        feed = FeedBuilder(current_store(), settings).feed(feed_request)
        current_app.extensions[METRICS].feed_renders.labels(fmt).inc()
        link = websub_link(feed.hubs, feed.self_url)
        return Rendered(RENDERERS[fmt](feed), MEDIA_TYPES[fmt], changed_at, link=link)

    try:
        rendered = cache().get_or_render(feed_key(self_url, state), render, _document(self_url))
    except PageOutOfRange as exc:
        return problem(404, f"This feed has no such page ({exc}).")
    return feed_response(rendered, request, settings.feed_max_age)


@bp.get(f"/<lang:lang_tag>/feed.{FORMAT}")
def site_feed(lang_tag: str, fmt: str) -> Response:
    """The whole site's feed in one language and format, the feed most readers follow."""
    return _serve(resolve(lang_tag), fmt)


@bp.get(f"/<lang:lang_tag>/<section:section_path>/feed.{FORMAT}")
def section_feed(lang_tag: str, section_path: str, fmt: str) -> Response:
    """One section's feed (subsections included), for readers who follow a single topic."""
    return _serve(resolve(lang_tag, section_path), fmt)


def _opml(languages: list[Language]) -> Response:
    state = current_scopes().scope("")
    changed_at = state[1]
    leaves_only = request.args.get("leaves") == "1"
    settings = current_settings()
    if _unread(opml_document(languages, leaves_only)):
        return Response(status=NOT_READ)

    def render() -> Rendered:
        opml = FeedBuilder(current_store(), settings).opml(languages, leaves_only)
        return Rendered(render_opml(opml), MEDIA_TYPES["opml"], changed_at)

    key = opml_key(languages, leaves_only, state)
    document = _document(opml_document(languages, leaves_only))
    rendered = cache().get_or_render(key, render, document)
    return feed_response(rendered, request, settings.feed_max_age)


@bp.get("/feeds.opml")
def all_opml() -> Response:
    """Every language's feeds in one OPML list, for readers who want them all."""
    return _opml(list(current_settings().languages))


@bp.get("/<lang:lang_tag>/feeds.opml")
def language_opml(lang_tag: str) -> Response:
    """One language's feeds as an OPML list, to subscribe to all its sections at once."""
    return _opml([resolve(lang_tag).language])


FEED_PATH = re.compile(r"/([a-z0-9-]+)/(?:([a-z0-9/-]+)/)?feed\.(atom|rss|json)")
OPML_PATH = re.compile(r"/(?:([a-z0-9-]+)/)?feeds\.opml")


class CachedFeeds:
    """WSGI middleware: a feed or OPML list already rendered for its scope's current
    version is answered here, before Flask builds a request context, routes among every
    rule and runs the hooks of every request (the idea of Django's cache middleware).

    Only what is certainly a hit: GET or HEAD, no query parameter a feed knows (others are
    ignored: ``?utm_source=…`` is the same feed), no If-Match, the canonical
    path of a configured language and of a section the scope snapshot knows, and a render
    cache entry under the key the views use. The answer is ``feeds.http.answer``, as in the
    views, and it is counted in the same metrics under the same route pattern. Anything
    else, a miss included, goes on to Flask."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app
        settings: Settings = app.extensions["feedsvc.settings"]
        self.base_url, self.max_age = settings.base_url, settings.feed_max_age
        self.languages = {language.url_tag: language for language in settings.languages}
        self.every_language = tuple(settings.languages)
        self.scopes: ScopeSnapshot = app.extensions[SCOPES]
        self.cache: RenderCache = app.extensions[CACHE_KEY]
        self.metrics: Metrics = app.extensions[METRICS]
        self.rules = {
            view.__name__: next(app.url_map.iter_rules(f"{bp.name}.{view.__name__}")).rule
            for view in (site_feed, section_feed, all_opml, language_opml)
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD")
        if (
            (method == "GET" or method == "HEAD")
            and not known_query(environ.get("QUERY_STRING", ""))
            and "HTTP_IF_MATCH" not in environ
            and (hit := self.safe_hit(environ.get("PATH_INFO", ""), stale_ok(environ))) is not None
        ):
            endpoint, rendered = hit
            status, headers, body = answer(rendered, environ, self.max_age)
            start_response(status, list(headers))  # a copy: some servers add to it
            self.metrics.record(endpoint, method, status[:3], time.perf_counter() - started)
            return [body] if body and method == "GET" else []
        return self.wsgi_app(environ, start_response)

    def safe_hit(self, path: str, stale_ok: bool) -> tuple[str, Rendered] | None:
        """``hit``, or None when the scopes cannot be read (a process that starts while the
        database is away): Flask then answers, with a 503 if it needs the database too."""
        try:
            return self.hit(path, stale_ok)
        except SQLAlchemyError:
            return None

    def hit(self, path: str, stale_ok: bool = True) -> tuple[str, Rendered] | None:
        """The route pattern and cached document for ``path``, if both are certain; with
        ``stale_ok`` also one the grace window still serves."""
        if (found := FEED_PATH.fullmatch(path)) is not None:
            lang_tag, section_path, fmt = found.groups()
            if (language := self.languages.get(lang_tag)) is None:
                return None
            scopes = self.scopes.current()
            if section_path is not None and section_path not in scopes.sections:
                return None  # unknown or moved: Flask answers 404 or 301
            url = feed_url(self.base_url, language.tag, section_path, fmt)
            key = feed_key(url, scopes.scope(section_path or ""))
            rendered = self.cache.peek(key, url if stale_ok else None)
            view = "site_feed" if section_path is None else "section_feed"
        elif (found := OPML_PATH.fullmatch(path)) is not None:
            if found[1] is None:
                languages, view = self.every_language, "all_opml"
            elif (language := self.languages.get(found[1])) is not None:
                languages, view = (language,), "language_opml"
            else:
                return None
            scope = self.scopes.current().scope("")
            document = opml_document(languages, False) if stale_ok else None
            rendered = self.cache.peek(opml_key(languages, False, scope), document)
        else:
            return None
        return None if rendered is None else (self.rules[view], rendered)


def serve_hits_first(app: Flask) -> None:
    """Put ``CachedFeeds`` in front of the app (after the blueprint is registered)."""
    app.wsgi_app = CachedFeeds(app, app.wsgi_app)  # type: ignore[method-assign]
