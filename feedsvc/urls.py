"""Public URLs, absolute from FEEDSVC_BASE_URL: the contract readers subscribe to."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

DEFAULT_LIMIT = 20
REVIEWED_ONLY = "reviewed"  # ?only=reviewed: a translated feed of human-reviewed entries only
TAG_DATE = "2026"  # tag: URIs (RFC 4151) need a date; fixed so ids never change


def _scope(lang_tag: str, section_path: str | None) -> str:
    return f"/{lang_tag.lower()}/" + (f"{section_path}/" if section_path else "")


def feed_url(
    base: str,
    lang_tag: str,
    section_path: str | None,
    fmt: str,
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
    only_reviewed: bool = False,
) -> str:
    """A feed's canonical URL: parameters in one order, defaults left out, so one feed
    has one URL (its cache key, its self link, its WebSub topic)."""
    query = {}
    if only_reviewed:
        query["only"] = REVIEWED_ONLY
    if page > 1:
        query["page"] = str(page)
    if limit != DEFAULT_LIMIT:
        query["limit"] = str(limit)
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{base}{_scope(lang_tag, section_path)}feed.{fmt}{suffix}"


def section_page_url(base: str, lang_tag: str, section_path: str | None) -> str:
    """The HTML page of a language's site or section, the feeds' alternate link."""
    return base + _scope(lang_tag, section_path)


def article_path(lang_tag: str, article_id: int, slug: str) -> str:
    """An article page's path, lowercased so each page has one canonical URL."""
    return f"/{lang_tag.lower()}/articles/{article_id}/{slug}"


def article_url(base: str, lang_tag: str, article_id: int, slug: str) -> str:
    """An article page's absolute URL, as feeds and sitemaps link it."""
    return base + article_path(lang_tag, article_id, slug)


def opml_url(base: str, lang_tag: str | None = None) -> str:
    """The OPML list of one language's feeds, or of every language's."""
    return f"{base}/{lang_tag.lower()}/feeds.opml" if lang_tag else f"{base}/feeds.opml"


def static_url(base: str, name: str) -> str:
    """An absolute static file URL, for feeds read far from the site (icons, styles)."""
    return f"{base}/static/{name}"


def tag_authority(base: str) -> str:
    """The host part of tag: URIs, so entry ids stay stable when the port or scheme changes."""
    return urlsplit(base).hostname or "localhost"


def entry_id(base: str, article_id: int, lang_tag: str) -> str:
    """Never changes when the article is edited, moved or renamed."""
    return f"tag:{tag_authority(base)},{TAG_DATE}:article/{article_id}/{lang_tag}"


def feed_id(base: str, lang_tag: str, section_id: int | None, reviewed_only: bool = False) -> str:
    """Built from the section's id, not its path: a moved section keeps its feeds' ids.
    The reviewed-only feed is another document, with an id of its own."""
    scope = f"section/{section_id}" if section_id is not None else "all"
    suffix = "/reviewed" if reviewed_only else ""
    return f"tag:{tag_authority(base)},{TAG_DATE}:feed/{lang_tag}/{scope}{suffix}"
