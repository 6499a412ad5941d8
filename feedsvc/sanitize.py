"""The one HTML policy (nh3): what article HTML may contain before it is stored, and
what a plain-text field (title, summary) is.

Decisions, so callers know what to expect:

- **Text is text.** A title or summary is stored as plain text, never as HTML: no
  entity stays encoded and no ``<`` in it starts a tag. Every output escapes it (Jinja
  autoescape on pages, XML escaping in Atom and RSS titles, HTML escaping inside RSS
  ``<description>``, which readers parse as HTML).
- **A literal "<" stays.** "a < b", "x <3 y", "<é" are text an HTML parser reads as text,
  so they are kept as typed. What a parser would read as markup (``<b``, ``</x``, ``<!``,
  ``<?``) is removed with what nh3 removes with it (``<script>`` and ``<style>`` with
  their content); a ``<`` directly before an ASCII letter, ``/``, ``!`` or ``?`` never
  remains (a trailing "</" loses its "<").
- **Entities are decoded to a fixed point.** Decoding can reveal markup
  (``&amp;lt;img …&amp;gt;``), so :func:`clean_text` strips markup and decodes entities
  until nothing changes: text that reads ``&lt;`` literally after cleaning cannot exist,
  it becomes ``<``. Each round shortens the text or ends the loop, so a fixed point is
  always reached; :func:`clean_text` with ``max_rounds`` refuses (:class:`EncodedTooDeep`)
  text still decoding after that many rounds instead — the article API uses it
  (``TEXT_DECODE_ROUNDS``) and answers 422 naming the field: no person encodes a title
  eight times.
"""

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
# Characters XML 1.0 forbids (lone surrogates too); they would break every feed the
# article appears in.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _keep_absolute_urls(tag: str, attribute: str, value: str) -> str | None:
    """Drop relative URLs: a feed entry is read far from our site, where they point nowhere."""
    if (tag, attribute) in _URL_ATTRIBUTES and not _ABSOLUTE_URL.match(value):
        return None
    return value


def strip_xml_invalid(text: str) -> str:
    """Removes characters XML cannot carry, which would make a feed unparseable."""
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


TEXT_DECODE_ROUNDS = 8  # what the article API allows before it refuses a title or summary
# A "<" an HTML parser may read as the start of markup: a tag, an end tag, a comment, a
# doctype or a processing instruction. nh3 leaves only "</" at the very end (text to an
# HTML5 parser, but not once something follows it); such a "<" is dropped.
_MARKUP_START = re.compile(r"<(?=[A-Za-z/!?])")


class EncodedTooDeep(ValueError):
    """Plain text still decoding to something else after the allowed rounds."""

    def __init__(self, rounds: int) -> None:
        super().__init__(f"still holds encoded markup or entities after {rounds} decodings")
        self.rounds = rounds


def _decode_once(text: str) -> str:
    """One round: markup removed as an HTML parser reads it, entities decoded, whitespace
    runs collapsed to one space."""
    if "<" in text or "&" in text:
        text = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
        text = strip_xml_invalid(text)  # "&#1;" decodes to U+0001
    return " ".join(text.split())


def clean_text(text: str, max_rounds: int | None = None) -> str:
    """Plain-text fields (title, summary): markup removed, entities decoded to a fixed
    point, XML-safe; never markup (see the module's Decisions).

    With ``max_rounds``, text that still changes after that many rounds is refused with
    :class:`EncodedTooDeep`; without, decoding goes on to the fixed point."""
    text = strip_xml_invalid(text)
    rounds = 0
    # Each changing round removes characters (a tag, an entity's spelling, a "<"), but for
    # whitespace becoming one space: len(text) + 2 rounds always reach the fixed point.
    limit = len(text) + 2 if max_rounds is None else max_rounds
    while True:
        cleaned = _decode_once(text)
        if cleaned == text:  # nh3's fixed point; what it leaves as text but might not be
            cleaned = _MARKUP_START.sub("", text)
            if cleaned == text:
                break
        rounds += 1
        if rounds > limit:
            raise EncodedTooDeep(limit)
        text = cleaned
    return text
