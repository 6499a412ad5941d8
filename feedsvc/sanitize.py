"""The one HTML policy (nh3): what article HTML may contain before it is stored."""

from __future__ import annotations

import html
import re

import nh3

TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "a",
        "img",
        "figure",
        "figcaption",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "s",
        "sub",
        "sup",
        "code",
        "pre",
        "cite",
        "q",
        "abbr",
        "time",
        "span",
    }
)
ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "abbr": {"title"},
    "time": {"datetime"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = {("a", "href"), ("img", "src")}
_ABSOLUTE_URL = re.compile(r"^(https?://[^\s/?#]+|mailto:)", re.IGNORECASE)
# Characters XML 1.0 forbids; they would break every feed the article appears in.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _keep_absolute_urls(tag: str, attribute: str, value: str) -> str | None:
    """Drop relative URLs: a feed entry is read far from our site, where they point nowhere."""
    if (tag, attribute) in _URL_ATTRIBUTES and not _ABSOLUTE_URL.match(value):
        return None
    return value


def strip_xml_invalid(text: str) -> str:
    return _XML_INVALID.sub("", text)


def clean_html(html: str) -> str:
    """Sanitize article HTML: allow-listed tags and attributes, absolute http(s) URLs only."""
    return nh3.clean(
        strip_xml_invalid(html),
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
        link_rel="noopener noreferrer",
        attribute_filter=_keep_absolute_urls,
    ).strip()


def clean_text(text: str) -> str:
    """Plain-text fields (title, summary): markup removed, entities decoded, XML-safe."""
    text = strip_xml_invalid(text)
    # Repeat until stable: decoding entities can reveal markup hidden inside an attribute.
    for _ in range(4):
        if "<" not in text and "&" not in text:
            break
        cleaned = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
        if cleaned == text:
            break
        text = cleaned
    return " ".join(text.split())
