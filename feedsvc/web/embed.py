"""Widgets for partner sites: the iframe widget (/{lang}/[section/]embed), the script
widget's file (/widget.js) and the copy-paste snippets a section page offers.

The iframe widget is the site's own listing (the same statuses as the feeds and pages,
``?only=reviewed`` as the feeds) without the site around it: a page other sites may frame
(``frame-ancestors`` from FEEDSVC_EMBED_FRAME_ANCESTORS), that sets no cookie and that
caches like a feed. Links leave the frame (``target``), never navigate inside it. Its
height goes to the embedding page by ``postMessage`` (static/embed.js); widget.js on the
embedding page sizes the iframe.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from flask import Blueprint, current_app, g, render_template, request, send_from_directory
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.wrappers import Response

from .. import urls
from ..config import Language, Settings
from ..domain import Article, Variant, VariantStatus
from ..feeds.data import feed_title, lead, shown_statuses
from .overhead import framable
from .scope import Scope, current_settings, current_store, resolve

bp = Blueprint("embed", __name__)
P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
THEMES = ("light", "dark", "auto")
TARGETS = ("_top", "_blank")  # a link in the frame opens the article outside it, never inside
DEFAULT_TARGET = "_top"  # the reader's tab goes to the article, as any link; Back returns
FRAME_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
WIDGET_FILE = "widget.js"
WIDGET_MAX_AGE = 3600  # partners' pages pick up a new widget.js within the hour
SNIPPET_LIMIT = 5
SNIPPET_HEIGHT = 480  # the iframe's height until widget.js sizes it to its content


class BadOption(ValueError):
    """A query option the widget cannot honour: a 400 with this (localized) reason."""


@dataclass(frozen=True)
class EmbedOptions:
    """A widget's query options, validated once so the cache key and the page agree."""

    limit: int = DEFAULT_LIMIT
    images: bool = False
    summary: bool = False
    theme: str = "light"
    target: str = DEFAULT_TARGET
    only_reviewed: bool = False
    frame_id: str | None = None


def _flag(args: Mapping[str, str], name: str) -> bool:
    value = args.get(name, "0")
    if value not in ("0", "1"):
        raise BadOption(_("“%(name)s” must be 0 or 1.", name=name))
    return value == "1"


def parse_options(args: Mapping[str, str]) -> EmbedOptions:
    """The widget's options from its query; unknown parameters are ignored (as on feeds).
    Raises BadOption, in the page's language, for a value out of range."""
    raw_limit = args.get("limit", str(DEFAULT_LIMIT))
    if not re.fullmatch(r"[0-9]{1,3}", raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise BadOption(
            _("“limit” must be a whole number from %(low)d to %(high)d.", low=1, high=MAX_LIMIT)
        )
    theme = args.get("theme", "light")
    if theme not in THEMES:
        raise BadOption(_("“theme” must be light, dark or auto."))
    target = args.get("target", DEFAULT_TARGET)
    if target not in TARGETS:
        raise BadOption(_("“target” must be _top or _blank."))
    only = args.get("only")
    if only not in (None, urls.REVIEWED_ONLY):
        raise BadOption(_("“only” can only be “reviewed”."))
    frame_id = args.get("id")
    if frame_id is not None and not FRAME_ID.fullmatch(frame_id):
        raise BadOption(_("“id” must be 1 to 64 letters, digits, hyphens or underscores."))
    return EmbedOptions(
        limit=int(raw_limit),
        images=_flag(args, "images"),
        summary=_flag(args, "summary"),
        theme=theme,
        target=target,
        only_reviewed=only is not None,
        frame_id=frame_id,
    )


@dataclass(frozen=True)
class EmbedItem:
    """One line of the widget: plain text and absolute http(s) URLs only."""

    title: str
    url: str
    published_at: datetime
    summary: str | None
    image: str | None
    provenance: str | None  # the label of a text people have not reviewed


def _http_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _provenance(language: Language, variant: Variant | None) -> str | None:
    if variant is None or variant.status is VariantStatus.REVIEWED:
        return None
    if language.derived_from:
        return _("Converted from reviewed text")
    return _("Machine translation")


def _item(
    settings: Settings, language: Language, article: Article, variant: Variant | None
) -> EmbedItem:
    text = variant or article
    return EmbedItem(
        title=text.title,
        url=urls.article_url(settings.base_url, language.tag, article.id, article.slug),
        published_at=article.published_at,
        summary=text.summary or lead(text.body_html),
        image=_http_url(article.image_url),
        provenance=_provenance(language, variant),
    )


def frame_policy_from_settings(view: Callable[P, R]) -> Callable[P, R]:
    """``framable`` with the configured ancestors (FEEDSVC_EMBED_FRAME_ANCESTORS), read
    when the request comes, as the settings are the app's."""

    @wraps(view)
    def framed(*args: P.args, **kwargs: P.kwargs) -> R:
        return framable(current_settings().embed_frame_ancestors)(view)(*args, **kwargs)

    return framed


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status, mimetype="text/plain")


def _embed(scope: Scope) -> Response:
    settings = current_settings()
    language = scope.language
    g.page_language = language.tag  # labels and dates in the URL's language
    try:
        options = parse_options(request.args)
    except BadOption as exc:
        return _plain(400, str(exc))
    store = current_store()
    statuses = shown_statuses(language, options.only_reviewed)
    page = store.feeds.page(scope.section_path, language.tag, statuses, 1, options.limit)
    sections = {s.path: s for s in store.sections.all()} if scope.section_path else {}
    body = render_template(
        "embed.html",
        lang=language.tag,
        title=feed_title(settings.site_name, sections, scope.section_path, language.tag),
        items=[_item(settings, language, article, variant) for article, variant in page.items],
        options=options,
        more_url=urls.section_page_url(settings.base_url, language.tag, scope.section_path),
    )
    response = Response(body, mimetype="text/html")
    response.cache_control.public = True
    response.cache_control.max_age = settings.feed_max_age
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    return response.make_conditional(request)


@bp.get("/<lang:lang_tag>/embed")
@frame_policy_from_settings
def site_embed(lang_tag: str) -> Response:
    """The whole site's widget, for partners who show every section's latest articles."""
    return _embed(resolve(lang_tag))


@bp.get("/<lang:lang_tag>/<section:section_path>/embed")
@frame_policy_from_settings
def section_embed(lang_tag: str, section_path: str) -> Response:
    """One section's widget, for partners who show only that section."""
    return _embed(resolve(lang_tag, section_path))


@bp.get("/widget.js")
def widget_script() -> Response:
    """The script widget at a short URL partners paste: any page may load it (CORS, for
    a ``crossorigin`` script tag or a fetch) and caches it for an hour."""
    folder = Path(current_app.static_folder or "static")
    response = send_from_directory(
        folder, WIDGET_FILE, mimetype="text/javascript", max_age=WIDGET_MAX_AGE, conditional=True
    )
    response.mimetype = "text/javascript"
    del response.headers["Content-Disposition"]  # a script, not a download
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    return response


def embed_url(base: str, lang_tag: str, section_path: str | None, **query: str) -> str:
    """A widget's URL, as the embed docs and snippets must spell it."""
    suffix = "&".join(f"{name}={value}" for name, value in query.items())
    return (
        urls.section_page_url(base, lang_tag, section_path)
        + "embed"
        + (f"?{suffix}" if suffix else "")
    )


def embed_snippets(
    settings: Settings, lang_tag: str, section_path: str | None, title: str | None = None
) -> dict[str, str]:
    """What a partner pastes to show a section (or, without one, a language's site)
    on their page: ``iframe`` (the frame and widget.js, which sizes it) and ``script``
    (widget.js and its element). Absolute URLs from FEEDSVC_BASE_URL; ``title`` names
    the frame for screen readers (the section page's title; the site's name by default)."""
    base = settings.base_url
    widget = f'<script src="{escape(base)}/widget.js" async></script>'
    frame_url = embed_url(base, lang_tag, section_path, limit=str(SNIPPET_LIMIT))
    frame = (
        f'<iframe src="{escape(frame_url)}" title="{escape(title or settings.site_name)}" '
        f'width="100%" height="{SNIPPET_HEIGHT}" loading="lazy" style="border:0"></iframe>'
    )
    feed = urls.feed_url(base, lang_tag, section_path, "json")
    element = (
        f'<feedsvc-feed src="{escape(feed)}" limit="{SNIPPET_LIMIT}" '
        f'timezone="{escape(settings.timezone)}"></feedsvc-feed>'
    )
    return {"iframe": f"{frame}\n{widget}", "script": f"{widget}\n{element}"}
