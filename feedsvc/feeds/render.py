"""Pure rendering: a Feed (or Opml) in, bytes out. Atom and RSS through feedgen.

feedgen is wrapped, not imitated. Two of its gaps are closed by one extension
(``_LinksExtension``): it drops every attribute but ``href`` on entry links
(lkiesow/python-feedgen#135) and writes only the ``self`` atom:link into RSS (#122).
Entries are always appended in order and every ``updated`` is passed explicitly, so
the same data renders to the same bytes.

Titles and summaries are plain text (see sanitize's Decisions) and every format writes
them as text: Atom ``<title>`` and ``<summary>`` without ``type`` (text), JSON Feed
``title`` and ``summary`` (plain text by its spec), RSS ``<title>`` as character data (a
stored title holds no markup and decodes to itself, so a reader that reads it as HTML sees
the same text) and RSS ``<description>``, channel and item, HTML-escaped: readers parse it
as HTML, so ``<`` in a summary arrives as ``&amp;lt;`` and is shown as "<".
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from enum import Enum
from typing import Any, TypeVar

from feedgen.entry import FeedEntry as FeedgenEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from ..sanitize import strip_xml_invalid
from .model import (
    MEDIA_TYPES,
    PROVENANCE_SCHEME,
    Category,
    Feed,
    FeedEntry,
    Link,
    Opml,
    Outline,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
EXTENSION_DOCS = "https://feedsvc.example/ns/json-feed-extension"

T = TypeVar("T")


def xml_safe(value: T) -> T:
    """The same data with characters XML 1.0 forbids removed from every string."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return strip_xml_invalid(value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(xml_safe(item) for item in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: xml_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


# -- the feedgen extension ------------------------------------------------------


def _link_element(parent: etree._Element, tag: str, link: Link) -> None:
    attributes = {"href": link.href, "rel": link.rel}
    for name in ("type", "hreflang", "title"):
        if getattr(link, name):
            attributes[name] = getattr(link, name)
    etree.SubElement(parent, tag, attributes)


class _LinksExtension(BaseExtension):
    """Feed level: RSS gets every atom:link (paging, language alternates), not just self."""

    def __init__(self) -> None:
        self.rss_links: list[Link] = []

    def extend_ns(self) -> dict[str, str]:
        # No "atom" here: feedgen declares it for RSS, and Atom is the default namespace.
        return {"media": MEDIA_NS, "dc": DC_NS}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss.find("channel")
        assert channel is not None  # feedgen always writes one
        for link in self.rss_links:
            _link_element(channel, f"{{{ATOM_NS}}}link", link)
        return rss


class _LinksEntryExtension(BaseEntryExtension):
    """Entry level: links with all their attributes, media:content, dc:creator, source."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.image: tuple[str, str] | None = None
        self.creator: str | None = None
        self.source: tuple[str, str] | None = None  # (name, url)

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        # feedgen builds Atom elements without a namespace (the root carries a literal
        # xmlns), so its links are plain "link" elements, and ours must be too.
        for broken in entry.findall("link"):
            entry.remove(broken)
        for link in self.links:
            _link_element(entry, "link", link)
        if self.source:
            name, url = self.source
            _link_element(entry, "link", Link(url, rel="via", title=name))
        self._media(entry)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.creator:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        if self.source:
            name, url = self.source
            etree.SubElement(item, "source", {"url": url}).text = name
        for link in self.links[1:]:  # the first is the item's own <link>
            _link_element(item, f"{{{ATOM_NS}}}link", link)
        self._media(item)
        return item

    def _media(self, parent: etree._Element) -> None:
        if self.image:
            url, media_type = self.image
            etree.SubElement(
                parent,
                f"{{{MEDIA_NS}}}content",
                {"url": url, "type": media_type, "medium": "image"},
            )


# -- Atom and RSS -------------------------------------------------------------


def _generator(feed: Feed) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("feedsvc", _LinksExtension, _LinksEntryExtension)
    fg.id(feed.id)
    fg.title(feed.title)
    fg.subtitle(feed.subtitle)
    fg.language(feed.language)
    fg.updated(feed.updated)
    fg.lastBuildDate(feed.updated)
    fg.author({"name": feed.author})
    fg.rights(feed.rights)
    fg.generator(feed.generator.name, version=feed.generator.version, uri=feed.generator.uri)
    fg.icon(feed.icon)
    fg.logo(feed.logo)
    fg.image(url=feed.logo, title=feed.title, link=feed.html_url)
    fg.docs("https://www.rssboard.org/rss-specification")
    return fg


def _feed_links(feed: Feed, media_type: str) -> list[Link]:
    links = [Link(feed.self_url, rel="self", type=media_type)]
    links += [Link(hub, rel="hub") for hub in feed.hubs]  # WebSub discovery, with self
    # The feed's only alternate is its HTML page (written by the caller): readers take the
    # first (rss-parser) or the last (newsboat) alternate as the site link. The same feed
    # in other languages is "related", with hreflang.
    links += [dataclasses.replace(link, rel="related", type=media_type) for link in feed.alternates]
    if feed.paging:
        paging = feed.paging
        links += [
            Link(paging.first, rel="first", type=media_type),
            Link(paging.last, rel="last", type=media_type),
        ]
        if paging.previous:
            links.append(Link(paging.previous, rel="previous", type=media_type))
        if paging.next:
            links.append(Link(paging.next, rel="next", type=media_type))
    return links


def _categories(entry: FeedEntry) -> list[Category]:
    """Section, tags and provenance: what readers show as an entry's tags. The source
    language and the engine stay machine-readable elsewhere (links, JSON Feed), never as
    tags."""
    categories = list(entry.categories)
    if entry.translation:
        t = entry.translation
        categories.append(Category(t.provenance.value, PROVENANCE_SCHEME, t.tag))
    return categories


def _rss_category(category: Category) -> dict[str, str]:
    """RSS has no label: the text is what readers show, so it is the label, and the
    domain keeps the machine-readable term (``scheme#term``)."""
    if category.label and category.scheme:
        return {"term": category.label, "scheme": f"{category.scheme}#{category.term}"}
    given = {"term": category.term, "scheme": category.scheme}
    return {name: value for name, value in given.items() if value}


def content_with_note(entry: FeedEntry) -> str:
    """A translated entry says so visibly, and links to the original, above its text."""
    if not entry.translation:
        return entry.content_html
    t = entry.translation
    space = "" if entry.language.split("-")[0] in ("zh", "ja") else " "  # no space after 。
    note = (
        f'<p class="feedsvc-provenance"><em>{_escape(t.note)}</em>{space}'
        f'<a href="{_escape(t.original_url)}" hreflang="{t.source_language}">'
        f"{_escape(t.original_label)}</a></p>"
    )
    return entry.content_html + note  # after the text: previews open with the lead


def _html_text(text: str) -> str:
    """Plain text as HTML that reads as the same text: what goes into RSS <description>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _add_entry(fg: FeedGenerator, entry: FeedEntry, rss: bool = False) -> None:
    fe: FeedgenEntry = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.title(entry.title)
    fe.updated(entry.updated)
    fe.published(entry.published)
    fe.link(href=entry.url)  # RSS <link>; the Atom links come from the extension
    fe.content(content_with_note(entry), type="html")
    if entry.summary:
        # A summary is plain text. Atom writes it as type="text" (no type); RSS has no type
        # and readers parse <description> as HTML, so there it is HTML-escaped text.
        fe.summary(_html_text(entry.summary) if rss else entry.summary)
    if entry.author:
        fe.author({"name": entry.author})
    for category in _categories(entry):
        given = {"term": category.term, "scheme": category.scheme, "label": category.label}
        fe.category(
            _rss_category(category)
            if rss
            else {name: value for name, value in given.items() if value}
        )
    ext: _LinksEntryExtension = fe.feedsvc
    # Exactly one alternate, the permalink: readers pick the first (SimplePie, Miniflux),
    # the last (newsboat) or the last text/html one (feedparser). Other languages are
    # "related" links with hreflang, which no reader takes for the permalink.
    ext.links = [Link(entry.url, type="text/html", hreflang=entry.language)]
    ext.links += [dataclasses.replace(a, rel="related") for a in entry.alternates]
    ext.creator = entry.author
    if entry.source_name and entry.source_url:
        ext.source = (entry.source_name, entry.source_url)
    if entry.image:
        ext.image = (entry.image.url, entry.image.media_type)


def xml_1_0(render: Callable[[T], bytes]) -> Callable[[T], bytes]:
    """Render as is; only when lxml refuses a character XML 1.0 forbids (a ValueError,
    UnicodeEncodeError for a lone surrogate) render again from a copy without them. Rare
    in stored text, so the common render never pays for a walk over every string."""

    @functools.wraps(render)
    def safe(document: T) -> bytes:
        try:
            return render(document)
        except ValueError:
            return render(xml_safe(document))

    return safe


@xml_1_0
def render_atom(feed: Feed) -> bytes:
    """The feed as Atom 1.0, the format with the richest metadata for translations."""
    fg = _generator(feed)
    # The feed's first alternate is its HTML page: readers that take the first alternate
    # as the site link (rss-parser, @rowanmanning/feed-parser) must not land on a feed.
    fg.link(href=feed.html_url, rel="alternate", type="text/html", hreflang=feed.language)
    for link in _feed_links(feed, MEDIA_TYPES["atom"]):
        fg.link(href=link.href, rel=link.rel, type=link.type, hreflang=link.hreflang)
    for entry in feed.entries:
        _add_entry(fg, entry)
    return fg.atom_str(pretty=True)


@xml_1_0
def render_rss(feed: Feed) -> bytes:
    """The feed as RSS 2.0, for the readers that handle nothing else well."""
    fg = _generator(feed)
    fg.description(_html_text(feed.subtitle))  # readers parse <description> as HTML
    links = _feed_links(feed, MEDIA_TYPES["rss"])
    fg.link(href=links[0].href, rel="self", type=links[0].type)
    fg.link(href=feed.html_url, rel="alternate")  # the channel's <link>
    # SimplePie reads atom:link alternates before <link>: the HTML page comes first there too.
    page = Link(feed.html_url, type="text/html", hreflang=feed.language)
    fg.feedsvc.rss_links = [page, *links[1:]]
    for entry in feed.entries:
        _add_entry(fg, entry, rss=True)
    return fg.rss_str(pretty=True)


# -- JSON Feed 1.1 --------------------------------------------------------------


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _json_item(entry: FeedEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "title": entry.title,
        "content_html": content_with_note(entry),
        "date_published": _rfc3339(entry.published),
        "date_modified": _rfc3339(entry.updated),
        "language": entry.language,
    }
    if entry.source_url:
        item["external_url"] = entry.source_url
    if entry.summary:
        item["summary"] = entry.summary
    if entry.image:
        item["image"] = entry.image.url
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    tags = [c.label or c.term for c in entry.categories]
    if tags:
        item["tags"] = list(dict.fromkeys(tags))
    extension: dict[str, Any] = {
        "provenance": entry.translation.provenance.value if entry.translation else "original",
        "section": [{"term": c.term, "label": c.label} for c in entry.categories if c.label],
        "alternates": [{"language": a.hreflang, "url": a.href} for a in entry.alternates],
    }
    if entry.translation:
        t = entry.translation
        extension |= {
            "source_language": t.source_language,
            "original_url": t.original_url,
            "engine": t.engine,
            "note": t.note,
        }
    if entry.source_name:
        extension["source"] = {"name": entry.source_name, "url": entry.source_url}
    item["_feedsvc"] = extension
    return item


def render_json(feed: Feed) -> bytes:
    """The feed as JSON Feed 1.1, for clients that would rather not parse XML."""
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.html_url,
        "feed_url": feed.self_url,
        "description": feed.subtitle,
        "icon": feed.icon,
        "favicon": feed.icon,
        "language": feed.language,
        "authors": [{"name": feed.author}],
    }
    if feed.paging and feed.paging.next:
        document["next_url"] = feed.paging.next
    if feed.hubs:
        document["hubs"] = [{"type": "WebSub", "url": hub} for hub in feed.hubs]
    document["_feedsvc"] = {
        "about": EXTENSION_DOCS,
        "updated": _rfc3339(feed.updated),
        "rights": feed.rights,
        "alternates": [{"language": a.hreflang, "feed_url": a.href} for a in feed.alternates],
        "paging": dataclasses.asdict(feed.paging) if feed.paging else None,
    }
    document["items"] = [_json_item(entry) for entry in feed.entries]
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


# -- OPML 2.0 -------------------------------------------------------------------


def _outline(parent: etree._Element, outline: Outline) -> None:
    attributes = {"text": outline.text, "title": outline.text, "language": outline.language}
    if outline.xml_url:
        attributes |= {"type": "rss", "version": "RSS2", "xmlUrl": outline.xml_url}
        if outline.html_url:
            attributes["htmlUrl"] = outline.html_url
    element = etree.SubElement(parent, "outline", attributes)
    for child in outline.children:
        _outline(element, child)


@xml_1_0
def render_opml(opml: Opml) -> bytes:
    """The OPML document, for readers that import a list of feeds."""
    root = etree.Element("opml", {"version": "2.0"})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = opml.title
    etree.SubElement(head, "dateModified").text = format_datetime(opml.date_modified, usegmt=True)
    etree.SubElement(head, "ownerName").text = opml.owner
    if opml.note:
        head.append(etree.Comment(f" {opml.note} "))
    body = etree.SubElement(root, "body")
    for outline in opml.outlines:
        _outline(body, outline)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


RENDERERS = {"atom": render_atom, "rss": render_rss, "json": render_json}
