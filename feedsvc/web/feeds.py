"""Feed URLs: /{lang}/[section/]feed.{atom,rss,json} and the OPML lists."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, Response, current_app, request

from ..config import Language
from ..feeds.data import FeedBuilder, FeedRequest, PageOutOfRange
from ..feeds.http import RenderCache, Rendered, feed_response
from ..feeds.model import MEDIA_TYPES
from ..feeds.render import RENDERERS, render_opml
from ..feeds.scopes import current_scopes
from ..metrics import EXTENSION_KEY as METRICS
from ..urls import DEFAULT_LIMIT, feed_url
from .problems import problem
from .scope import Scope, current_settings, current_store, resolve

bp = Blueprint("feeds", __name__)
CACHE_KEY = "feedsvc.feed_cache"
FORMAT = "<any(atom, rss, json):fmt>"
MAX_PAGE = 100_000


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
    return current_app.extensions[CACHE_KEY]  # type: ignore[no-any-return]


def _bounded(name: str, default: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,6}", raw) or not 1 <= int(raw) <= high:
        return None
    return int(raw)


def _version(section_path: str | None) -> tuple[int, datetime]:
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
    settings = current_settings()
    version, changed_at = _version(scope.section_path)
    # The parameters that matter make the key (and the self link): any other query
    # parameter, or a default spelled out, is the same feed and never a new render.
    self_url = feed_url(settings.base_url, scope.language.tag, scope.section_path, fmt, page, limit)

    def render() -> Rendered:
        feed_request = FeedRequest(scope.language, scope.section_path, fmt, page, limit, self_url)
        feed = FeedBuilder(current_store(), settings).feed(feed_request)
        current_app.extensions[METRICS].feed_renders.labels(fmt).inc()
        return Rendered(RENDERERS[fmt](feed), MEDIA_TYPES[fmt], changed_at)

    try:
        rendered = cache().get_or_render((self_url, version), render)
    except PageOutOfRange as exc:
        return problem(404, f"This feed has no such page ({exc}).")
    return feed_response(rendered, request, settings.feed_max_age)


@bp.get(f"/<lang:lang_tag>/feed.{FORMAT}")
def site_feed(lang_tag: str, fmt: str) -> Response:
    return _serve(resolve(lang_tag), fmt)


@bp.get(f"/<lang:lang_tag>/<section:section_path>/feed.{FORMAT}")
def section_feed(lang_tag: str, section_path: str, fmt: str) -> Response:
    return _serve(resolve(lang_tag, section_path), fmt)


def _opml(languages: list[Language]) -> Response:
    version, changed_at = current_scopes().scope("")
    leaves_only = request.args.get("leaves") == "1"
    settings = current_settings()

    def render() -> Rendered:
        opml = FeedBuilder(current_store(), settings).opml(languages, leaves_only)
        return Rendered(render_opml(opml), MEDIA_TYPES["opml"], changed_at)

    key = ("opml", tuple(language.tag for language in languages), leaves_only, version)
    return feed_response(cache().get_or_render(key, render), request, settings.feed_max_age)


@bp.get("/feeds.opml")
def all_opml() -> Response:
    return _opml(list(current_settings().languages))


@bp.get("/<lang:lang_tag>/feeds.opml")
def language_opml(lang_tag: str) -> Response:
    return _opml([resolve(lang_tag).language])
