"""Sitemaps (sitemaps.org 0.9) and robots.txt: what search engines should crawl.

``/sitemap.xml`` is an index of, per language, ``/sitemaps/{lang}-sections.xml`` (the home
and section pages that list something in that language), the numbered
``/sitemaps/{lang}-{n}.xml`` of its article pages, and the Google News sitemap
``/sitemaps/{lang}-news.xml`` (articles of the last 48 hours). A page is listed only where
it answers 200: in a target language only the articles with a variant that language's
policy shows. Each ``<url>`` names every language version of its page with
``xhtml:link rel="alternate" hreflang`` (itself included, ``x-default`` the English
original), computed from the same rows for every version, so the alternates are
reciprocal.

Numbered files are ranges of article ids (file n: ids (n-1)·k+1 … n·k), not pages of a
list: deleting an article changes one file, not every file after it. Renders are cached
like feeds (``feeds.http``: scope version in the key, ETag, 304, gzip/br) in a cache of
their own, so a crawler's few large files never push hot feeds out of the feed cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import NotFound

from .. import urls
from ..config import SOURCE_LANGUAGE, Language, Settings
from ..feeds.data import publishable
from ..feeds.http import RenderCache, Rendered, feed_response
from ..feeds.scopes import current_scopes
from ..store.feeds import SOURCE
from ..store.sitemaps import NewsRow, Sitemaps
from .feeds import stale_ok
from .scope import Redirect, current_settings, current_store

log = logging.getLogger(__name__)

bp = Blueprint("sitemaps", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MEDIA_TYPE = "application/xml"

# sitemaps.org: at most 50,000 URLs and 50 MB (52,428,800 bytes) uncompressed per file.
# Fewer URLs per file by default: a file is one render held in memory, and Google reads
# smaller files sooner. Tests lower it to see several files.
URLS_PER_FILE = 10_000
MAX_URLS = 50_000
MAX_BYTES = 52_428_800
MAX_ID = 2**31 - 1  # the largest article id (an INTEGER column in PostgreSQL)
CHUNK = 2_000  # article rows per query while a file is written (keyset on the id)
NEWS_WINDOW = timedelta(hours=48)  # Google News: articles of the last two days
NEWS_MAX = 1_000  # Google News: at most 1,000 <news:news> per sitemap
# The news sitemap and the index also change as time passes (articles leave the window):
# their cache key carries the time slot as well as the scope version.
NEWS_SLOT_SECONDS = 300
CACHE_KEY = "feedsvc.sitemap_cache"
CACHE_ENTRIES = 32  # a file of 10,000 article URLs in three languages is about 6 MB

# Not for crawling: the review screens, the API, the WebSub hub, the iframe widgets (a
# partner page's fragment, no page of its own), the operations endpoints. RFC 9309 reads
# ``*`` and ``$``: ``/*/embed$`` matches /zh-hans/embed and /zh-hans/news/embed but not
# an article whose slug starts with "embed".
DISALLOWED = (
    "/api/",
    "/review/",
    "/websub",
    "/*/embed$",
    "/*/embed?",
    "/healthz",
    "/metrics",
)


@bp.record_once
def _make_cache(state: BlueprintSetupState) -> None:
    settings: Settings = state.app.extensions["feedsvc.settings"]
    state.app.extensions[CACHE_KEY] = RenderCache(
        max_entries=CACHE_ENTRIES, grace=settings.feed_grace_seconds
    )


def cache() -> RenderCache:
    """The app's render cache, typed (Flask's extensions dict holds Any)."""
    found: RenderCache = current_app.extensions[CACHE_KEY]
    return found


def urls_per_file(settings: Settings) -> int:
    """URLs per numbered file: ``URLS_PER_FILE``, fewer if the worst case (every slug 200
    characters, a page in every language) could pass 50 MB."""
    tags = [lang.tag for lang in settings.languages]
    url = len(settings.base_url) + len("/articles//") + 10 + 200 + max(map(len, tags)) + 1
    link = len('<xhtml:link rel="alternate" hreflang="" href=""/>') + len("x-default") + url
    entry = len("<url><loc></loc><lastmod>2026-01-01T00:00:00+00:00</lastmod></url>\n") + url
    worst = entry + (len(tags) + 1) * link
    return max(1, min(URLS_PER_FILE, MAX_URLS, (MAX_BYTES - 1024) // worst))


def google_news_language(tag: str) -> str:
    """Google News wants ISO 639 codes, and zh-cn / zh-tw for Simplified / Traditional."""
    parts = tag.lower().split("-")
    if parts[0] != "zh":
        return parts[0]
    traditional = "hant" in parts[1:] or any(p in ("tw", "hk", "mo") for p in parts[1:])
    return "zh-tw" if traditional else "zh-cn"


def _keys(language: Language) -> tuple[str, ...]:
    """The feed entry statuses of the pages ``language`` shows."""
    if language.tag == SOURCE_LANGUAGE:
        return (SOURCE,)
    return tuple(status.value for status in publishable(language))


def _shown(settings: Settings) -> dict[str, frozenset[str]]:
    return {language.tag: frozenset(_keys(language)) for language in settings.languages}


def _w3c(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


class Writer:
    """A sitemap document as text: escaped by hand, since a 10,000-URL file is written
    for every change and a tree would cost several times the time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.base_url
        self.zone = ZoneInfo(settings.timezone)

    def url(self, loc: str, lastmod: datetime, alternates: Sequence[tuple[str, str]]) -> str:
        """One ``<url>``; ``alternates`` is (hreflang, href) of every version, itself
        included. x-default is the source language's page (the original every version
        has), named only when there is a choice to make."""
        parts = [f"<url><loc>{escape(loc)}</loc><lastmod>{_w3c(lastmod, self.zone)}</lastmod>"]
        default = None
        for tag, href in alternates:
            parts.append(
                f'<xhtml:link rel="alternate" hreflang={quoteattr(tag)} href={quoteattr(href)}/>'
            )
            if tag == SOURCE_LANGUAGE:
                default = href
        if default is not None and len(alternates) > 1:
            parts.append(
                f'<xhtml:link rel="alternate" hreflang="x-default" href={quoteattr(default)}/>'
            )
        parts.append("</url>\n")
        return "".join(parts)

    @staticmethod
    def urlset(entries: Iterable[str], news: bool = False) -> bytes:
        """A sitemap file of ``entries``, with the news namespace when it lists news."""
        namespaces = f'xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}"'
        if news:
            namespaces += f' xmlns:news="{NEWS_NS}"'
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {namespaces}>\n'
        return (head + "".join(entries) + "</urlset>\n").encode()

    def index(self, files: Iterable[tuple[str, datetime]]) -> bytes:
        """The sitemap index listing every sitemap file and its last change."""
        body = "".join(
            f"<sitemap><loc>{escape(loc)}</loc><lastmod>{_w3c(lastmod, self.zone)}</lastmod>"
            "</sitemap>\n"
            for loc, lastmod in files
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
            f"{body}</sitemapindex>\n"
        ).encode()


class SitemapBuilder:
    """Reads and writes one sitemap document; one instance per render."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.base_url
        self.store = Sitemaps(current_store())
        self.writer = Writer(settings)
        self.shown = _shown(settings)
        self.per_file = urls_per_file(settings)

    def _file_url(self, lang: Language, name: str) -> str:
        return f"{self.base}/sitemaps/{lang.url_tag}-{name}.xml"

    def index(self, now: datetime) -> bytes:
        """Every language's files with their newest change; a language's news sitemap
        only while it has articles (a sitemap with no ``<url>`` is not valid)."""
        scopes = current_scopes()
        files: list[tuple[str, datetime]] = []
        for language in self.settings.languages:
            source = language.tag == SOURCE_LANGUAGE
            files.append((self._file_url(language, "sections"), scopes.scope("")[1]))
            keys = _keys(language)
            for summary in self.store.files(language.tag, keys, source, self.per_file):
                files.append((self._file_url(language, str(summary.number)), summary.lastmod))
            news = self._news_rows(language, now)
            if news:
                files.append((self._file_url(language, "news"), max(r.lastmod for r in news)))
        return self.writer.index(files)

    def sections(self, language: Language) -> bytes:
        """The language's home page and every section page that lists something in it,
        each with the versions in the other languages that list something too."""
        scopes = current_scopes()
        listed: dict[str, set[str]] = {}
        for scope, lang, status in self.store.scope_entries():
            if scope in scopes.sections and status in self.shown.get(lang, ()):
                listed.setdefault(scope, set()).add(lang)
        tags = self.settings.language_tags
        pages = [(None, set(tags))] + [
            (path, listed[path]) for path in sorted(listed) if language.tag in listed[path]
        ]
        entries = []
        for path, languages in pages:
            alternates = [
                (tag, urls.section_page_url(self.base, tag, path))
                for tag in tags
                if tag in languages
            ]
            loc = urls.section_page_url(self.base, language.tag, path)
            entries.append(self.writer.url(loc, scopes.scope(path or "")[1], alternates))
        return self.writer.urlset(entries)

    def articles(self, language: Language, number: int) -> bytes | None:
        """File ``number`` of the language's article pages, or None if it has none."""
        lang, source, keys = language.tag, language.tag == SOURCE_LANGUAGE, _keys(language)
        after, last = (number - 1) * self.per_file, min(number * self.per_file, MAX_ID)
        tags = self.settings.language_tags
        entries = []
        while True:
            # keyset: each chunk starts after the last id of the one before
            chunk = self.store.pages(lang, keys, source, after, last, CHUNK)
            if not chunk:
                break
            published = self.store.languages(chunk[0].article_id, chunk[-1].article_id)
            for page in chunk:
                shown = {
                    tag
                    for tag, status in published.get(page.article_id, ())
                    if status in self.shown.get(tag, ())
                }
                alternates = [
                    (tag, urls.article_url(self.base, tag, page.article_id, page.slug))
                    for tag in tags
                    if tag in shown
                ]
                loc = urls.article_url(self.base, lang, page.article_id, page.slug)
                entries.append(self.writer.url(loc, page.lastmod, alternates))
            after = chunk[-1].article_id
            if len(chunk) < CHUNK:
                break
        if not entries:
            return None
        return self.writer.urlset(entries)

    def _news_rows(self, language: Language, now: datetime) -> list[NewsRow]:
        source = language.tag == SOURCE_LANGUAGE
        return self.store.news(
            language.tag, _keys(language), source, now - NEWS_WINDOW, now, NEWS_MAX
        )

    def news(self, language: Language, now: datetime) -> bytes:
        """Google News: the language's articles of the last 48 hours, newest first."""
        name = escape(self.settings.site_name)
        code = google_news_language(language.tag)
        zone = self.writer.zone
        entries = []
        for row in self._news_rows(language, now):
            loc = urls.article_url(self.base, language.tag, row.article_id, row.slug)
            entries.append(
                f"<url><loc>{escape(loc)}</loc><news:news><news:publication>"
                f"<news:name>{name}</news:name><news:language>{code}</news:language>"
                "</news:publication><news:publication_date>"
                f"{_w3c(row.published_at, zone)}</news:publication_date>"
                f"<news:title>{escape(row.title)}</news:title></news:news></url>\n"
            )
        return self.writer.urlset(entries, news=True)


def _language(lang_tag: str, name: str) -> Language:
    """The language of /sitemaps/{lang}-{name}.xml; a 301 from any other spelling (ZH-HANS,
    a number with leading zeros) to the one the index names."""
    language = current_settings().language(lang_tag)
    assert language is not None  # the converter matches configured languages only
    canonical = f"/sitemaps/{language.url_tag}-{name}.xml"
    if request.path != canonical:
        raise Redirect(canonical)
    return language


def _serve(name: str, render: Callable[[datetime], bytes | None], timed: bool = False) -> Response:
    """The cached render of the document ``name`` for the site scope's version (and, for
    what time changes, the current slot), answered like a feed: ETag, 304, compression."""
    settings = current_settings()
    version, changed_at = current_scopes().scope("")
    now = datetime.now(UTC)
    slot = int(now.timestamp()) // NEWS_SLOT_SECONDS if timed else 0
    last_modified = changed_at
    if timed:  # what left the window since the last write changed the document too
        last_modified = max(changed_at, datetime.fromtimestamp(slot * NEWS_SLOT_SECONDS, UTC))
    per_file = urls_per_file(settings)
    key: Hashable = ("sitemap", name, per_file, version, changed_at.timestamp(), slot)
    document: Hashable = ("sitemap", name, per_file) if stale_ok(request.environ) else None

    def make() -> Rendered:
        body = render(now)
        if body is None:
            raise NotFound()
        if len(body) > MAX_BYTES:  # urls_per_file() makes this impossible; say so if not
            log.error("sitemap %s is %d bytes, over the 50 MB limit", name, len(body))
        return Rendered(body, MEDIA_TYPE, last_modified)

    rendered = cache().get_or_render(key, make, document)
    return feed_response(rendered, request, settings.feed_max_age)


@bp.get("/sitemap.xml")
def index() -> Response:
    """The sitemap index search engines start from."""
    return _serve("index", lambda now: SitemapBuilder(current_settings()).index(now), timed=True)


@bp.get("/sitemaps/<lang:lang_tag>-sections.xml")
def sections(lang_tag: str) -> Response:
    """A language's section pages, for search engines."""
    language = _language(lang_tag, "sections")
    return _serve(
        f"{language.tag}-sections",
        lambda now: SitemapBuilder(current_settings()).sections(language),
    )


@bp.get("/sitemaps/<lang:lang_tag>-news.xml")
def news(lang_tag: str) -> Response:
    """A language's recent articles, as Google News sitemaps want them."""
    language = _language(lang_tag, "news")
    return _serve(
        f"{language.tag}-news",
        lambda now: SitemapBuilder(current_settings()).news(language, now),
        timed=True,
    )


@bp.get("/sitemaps/<lang:lang_tag>-<int:number>.xml")
def articles(lang_tag: str, number: int) -> Response:
    """One numbered file of a language's article pages, 404 past the last possible one."""
    language = _language(lang_tag, str(number))
    if number < 1 or (number - 1) * urls_per_file(current_settings()) >= MAX_ID:
        raise NotFound()
    return _serve(
        f"{language.tag}-{number}",
        lambda now: SitemapBuilder(current_settings()).articles(language, number),
    )


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawl the public pages and feeds; not the review screens, the API, the hub, the
    widgets or the operations endpoints. The sitemap index names everything else."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /", ""]
    lines.append(f"Sitemap: {current_settings().base_url}/sitemap.xml")
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 86_400
    return response
