"""The neutral feed model every format is rendered from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

FORMATS = ("atom", "rss", "json")
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
    "opml": "text/x-opml",
}
# Documented category scheme (see README, "Feeds"): what made an entry's text.
PROVENANCE_SCHEME = "https://feedsvc.example/ns/provenance"


class Provenance(StrEnum):
    """How an entry's text came to be, so readers can tell machine output from reviewed text."""

    ORIGINAL = "original"
    MACHINE = "machine-translated"
    HUMAN = "human-reviewed"
    # Converted between scripts (OpenCC) from a human-reviewed translation in another
    # language variant (zh-Hant from zh-Hans), not reviewed in this one.
    CONVERTED = "converted"


@dataclass(frozen=True)
class Link:
    """A feed or entry link, in the terms Atom, RSS and JSON Feed all map from."""

    href: str
    rel: str = "alternate"
    type: str | None = None
    hreflang: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Category:
    """An entry category (a tag or section), in the terms every feed format maps from."""

    term: str
    scheme: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Image:
    """An entry's lead image, with the media type enclosures must declare."""

    url: str
    media_type: str


@dataclass(frozen=True)
class Translation:
    """How a translated entry was made; None on entries in the source language."""

    provenance: Provenance
    source_language: str
    original_url: str
    engine: str | None  # package name and version, or the converter ("opencc s2twp")
    note: str  # the localized, human-readable statement shown in the content
    original_label: str  # the localized text of the link to the original
    tag: str = ""  # the provenance as a short localized category label ("人工审校")


@dataclass(frozen=True)
class FeedEntry:
    """One article in one language, format-neutral, so every renderer shows the same entry."""

    id: str
    title: str
    url: str  # the article page in the feed's language
    content_html: str
    summary: str | None
    published: datetime
    updated: datetime
    author: str | None
    language: str
    source_name: str | None = None
    source_url: str | None = None
    categories: tuple[Category, ...] = ()
    tags: tuple[str, ...] = ()
    alternates: tuple[Link, ...] = ()  # the article in other languages
    image: Image | None = None
    translation: Translation | None = None


@dataclass(frozen=True)
class Paging:
    """RFC 5005 paging links, so readers can walk a feed's archive pages."""

    first: str
    last: str
    previous: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class Generator:
    """The software that made a feed: Atom's ``<generator uri version>``, RSS's ``<generator>``."""

    name: str
    uri: str
    version: str


@dataclass(frozen=True)
class Feed:
    """One feed page, format-neutral: Atom, RSS and JSON Feed all render from it."""

    id: str
    title: str
    subtitle: str
    language: str
    self_url: str
    html_url: str
    updated: datetime
    author: str
    rights: str
    generator: Generator
    icon: str
    logo: str
    alternates: tuple[Link, ...] = ()  # the same feed in other languages
    paging: Paging | None = None
    entries: tuple[FeedEntry, ...] = field(default_factory=tuple)
    hubs: tuple[str, ...] = ()  # WebSub hubs that publish this feed (rel="hub")


@dataclass(frozen=True)
class Outline:
    """A feed (with ``xml_url``) or a folder of outlines (without)."""

    text: str
    language: str
    xml_url: str | None = None
    html_url: str | None = None
    children: tuple[Outline, ...] = ()


@dataclass(frozen=True)
class Opml:
    """An OPML subscription list, so readers can subscribe to many feeds at once."""

    title: str
    owner: str
    date_modified: datetime
    outlines: tuple[Outline, ...]
    note: str = ""  # shown in the head, for people reading the file
