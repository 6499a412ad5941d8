"""An independent feed checker for feedsvc's tests.

It checks Atom 1.0, RSS 2.0, JSON Feed 1.1 and OPML 2.0 documents the way the W3C Feed
Validation Service (validator.w3.org/feed) does, for the checks that matter in practice, and
shares no code with the renderer it checks. It needs only lxml, jsonschema and the standard
library, plus the two schemas in tests/schemas/:

- atom.rng: RFC 4287 Appendix B's RELAX NG grammar, in XML syntax;
- jsonfeed-1.1.schema.json: JSON Feed 1.1 as a JSON Schema (draft 2020-12).

Each check_* function returns a list of Finding (level "error" or "warning", a stable code
and a message that says where). An empty list means the document passed every check.
The codes are listed in CODES.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import lxml.html
from lxml import etree

__all__ = [
    "CODES",
    "Finding",
    "check_atom",
    "check_json_feed",
    "check_opml",
    "check_rss",
]

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
ATOM_SCHEMA_PATH = SCHEMA_DIR / "atom.rng"
JSONFEED_SCHEMA_PATH = SCHEMA_DIR / "jsonfeed-1.1.schema.json"

ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
SY_NS = "http://purl.org/rss/1.0/modules/syndication/"
SLASH_NS = "http://purl.org/rss/1.0/modules/slash/"
JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"

# Namespaces an RSS 2.0 feed may use without passing allowed_namespaces.
RSS_KNOWN_NAMESPACES = frozenset({ATOM_NS, CONTENT_NS, DC_NS, MEDIA_NS, SY_NS, SLASH_NS})

# The prefixes readers and the W3C validator expect for well-known namespaces
# ("Avoid Namespace Prefix" otherwise). None is the default namespace.
CONVENTIONAL_PREFIXES: dict[str, frozenset[str | None]] = {
    ATOM_NS: frozenset({None, "atom"}),
    XHTML_NS: frozenset({None, "xhtml", "html", "h"}),
    CONTENT_NS: frozenset({"content"}),
    DC_NS: frozenset({"dc"}),
    MEDIA_NS: frozenset({"media"}),
    SY_NS: frozenset({"sy"}),
    SLASH_NS: frozenset({"slash"}),
    "http://purl.org/dc/terms/": frozenset({"dcterms"}),
}

# Every code a check can emit, with its level and what it means.
CODES: dict[str, tuple[str, str]] = {
    # XML documents (Atom, RSS, OPML)
    "xml-encoding": ("error", "not UTF-8, or an encoding other than UTF-8 is declared"),
    "xml-invalid-char": ("error", "a character that XML 1.0 does not allow"),
    "xml-not-well-formed": ("error", "not well-formed XML"),
    "xml-doctype": ("warning", "a DOCTYPE declaration (feeds should have none)"),
    "namespace-prefix": ("warning", "Avoid Namespace Prefix: an unconventional prefix"),
    "unknown-namespace": ("error", "Use of unknown namespace (RSS)"),
    # shared
    "uri-invalid": ("error", "a URI/IRI with characters or parts that are not allowed"),
    "uri-not-absolute": ("error", "a URI that is not absolute (http(s) also needs a host)"),
    "tag-uri-invalid": ("error", "a tag: URI that does not follow RFC 4151"),
    "date-invalid": ("error", "not an RFC 3339 (Atom, JSON) or RFC 822 (RSS, OPML) date"),
    "date-implausible": ("warning", "Implausible date: year outside 1990..2100"),
    "lang-invalid": ("error", "a language tag that is not well-formed BCP 47"),
    "self-missing": ("error", "no self link (Atom: error; RSS, JSON Feed: warning)"),
    "self-duplicate": ("error", "more than one self link"),
    "self-mismatch": ("error", "Self reference doesn't match document location"),
    "alternate-duplicate": ("error", "Duplicate alternate links with the same type and hreflang"),
    "paging-link-duplicate": ("error", "more than one first/previous/next/last link"),
    "id-duplicate": ("error", "Duplicate entry id / guid / item id"),
    "html-unsafe-element": ("error", "HTML with script, iframe, object, embed, style, ..."),
    "html-event-handler": ("error", "HTML with an on* event handler attribute"),
    "html-javascript-url": ("error", "HTML with a javascript: or vbscript: URL"),
    "html-unsafe-style": ("error", "HTML with a style attribute using expression() or url(js)"),
    "html-relative-url": ("warning", "HTML with a relative href/src reference"),
    "html-unknown-element": ("warning", "Non-html tag"),
    "html-invalid-char": ("error", "HTML with a control character, raw or as a reference"),
    # Atom
    "atom-root": ("error", "the root element is not atom:feed"),
    "atom-schema": ("error", "the document does not match RFC 4287's RELAX NG grammar"),
    "atom-missing-element": ("error", "a feed or entry without id, title or updated"),
    "atom-undefined-element": ("error", "an element in the Atom namespace that RFC 4287 lacks"),
    "atom-missing-author": ("error", "Missing feed element: author"),
    "atom-entry-no-content": ("error", "an entry with neither content nor an alternate link"),
    "atom-missing-summary": ("warning", "out-of-line or base64 content without a summary"),
    "atom-entry-updated-after-feed": ("warning", "an entry updated later than its feed"),
    # RSS
    "rss-root": ("error", "the root element is not rss"),
    "rss-version": ("error", 'rss version is not "2.0"'),
    "rss-missing-element": ("error", "a required element or attribute is missing"),
    "rss-undefined-element": ("error", "Undefined channel/item element"),
    "rss-duplicate-element": ("error", "an element that may appear once appears again"),
    "rss-invalid-value": ("error", "a value of the wrong form (ttl, isPermaLink, ...)"),
    "rss-missing-guid": ("warning", "item should contain a guid element"),
    "rss-guid-not-permalink": ("error", "guid must be a full URL unless isPermaLink is false"),
    "rss-enclosure": ("error", "an enclosure without url, integer length and type"),
    "rss-pubdate-and-dcdate": ("warning", "An item should not include both pubDate and dc:date"),
    "rss-author-not-email": ("warning", "author is not an email address (use dc:creator)"),
    # JSON Feed
    "json-invalid": ("error", "not UTF-8 JSON, duplicate keys, or not an object"),
    "json-schema": ("error", "does not match the JSON Feed 1.1 schema"),
    "jsonfeed-deprecated-author": ("warning", "author is deprecated in JSON Feed 1.1"),
    # OPML
    "opml-root": ("error", "the root element is not opml"),
    "opml-version": ("error", 'opml version is not "2.0"'),
    "opml-missing-element": ("error", "no head, head/title, body or outline"),
    "opml-outline-missing-text": ("error", "an outline without a text attribute"),
    "opml-outline-missing-xmlurl": ("error", 'an outline type="rss" without xmlUrl'),
}


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning"
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.code}: {self.message}"


class _Report:
    """Collects findings once each, in the order they were made."""

    def __init__(self) -> None:
        self._findings: dict[Finding, None] = {}

    def add(self, level: str, code: str, message: str, where: Any = None) -> None:
        assert code in CODES, code
        line = getattr(where, "sourceline", None)
        if line:
            message = f"line {line}: {message}"
        self._findings.setdefault(Finding(level, code, message), None)

    def error(self, code: str, message: str, where: Any = None) -> None:
        self.add("error", code, message, where)

    def warning(self, code: str, message: str, where: Any = None) -> None:
        self.add("warning", code, message, where)

    @property
    def findings(self) -> list[Finding]:
        return list(self._findings)


# ---------------------------------------------------------------------------------------------
# Values: URIs, dates, language tags
# ---------------------------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Characters that may not appear in a URI or IRI (RFC 3986/3987), even percent-encoding aside.
_URI_FORBIDDEN_RE = re.compile(r'[\x00-\x20\x7f<>"{}|\\^`]')
_BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DNS = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
# RFC 4151: "tag:" authorityName "," date ":" specific [ "#" fragment ]
_TAG_RE = re.compile(
    rf"^tag:(?:{_DNS}|[A-Za-z0-9._-]+@{_DNS}),(\d{{4}})(?:-(\d{{2}})(?:-(\d{{2}}))?)?"
    r":([A-Za-z0-9\-._~!$&'()*+,;=:@/?%\u00a0-\U0010ffff]*)"
    r"(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@/?%\u00a0-\U0010ffff]*)?$"
)
_URN_RE = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$", re.IGNORECASE)
_HOST_RE = re.compile(r"^(?:[^\s/?#@:\[\]]+|\[[0-9A-Fa-f:.]+\])$")


def uri_problem(value: str) -> tuple[str, str] | None:
    """(code, reason) when value is not an absolute URI/IRI we accept, else None.

    http and https need a host; tag: URIs must follow RFC 4151; urn: needs a NID and NSS.
    """
    if value == "":
        return "uri-not-absolute", "is empty"
    if value != value.strip():
        return "uri-invalid", "has leading or trailing white space"
    if _URI_FORBIDDEN_RE.search(value):
        return "uri-invalid", "contains white space or characters not allowed in a URI"
    if _BAD_PERCENT_RE.search(value):
        return "uri-invalid", "contains a % not followed by two hex digits"
    match = _SCHEME_RE.match(value)
    if not match:
        return "uri-not-absolute", "is not an absolute URI (no scheme)"
    scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises ValueError on a bad port
        except ValueError as exc:
            return "uri-invalid", f"is not a valid URL ({exc})"
        if not value[len(scheme) + 1 :].startswith("//") or not parts.hostname:
            return "uri-not-absolute", f"is not a full {scheme} URL (no host)"
        host = parts.netloc.rpartition("@")[2]
        host = re.sub(r":\d*$", "", host)
        if not _HOST_RE.match(host):
            return "uri-invalid", "has an invalid host"
        return None
    if scheme == "tag":
        tag = _TAG_RE.match(value)
        if not tag:
            return "tag-uri-invalid", "is not a tag URI of the form tag:authority,date:specific"
        year, month, day = (int(part) if part else 1 for part in tag.group(1, 2, 3))
        try:
            date(year, month, day)
        except ValueError:
            return "tag-uri-invalid", "has an invalid date in its tagging entity"
        return None
    if scheme == "urn" and not _URN_RE.match(value):
        return "uri-invalid", "is not a URN of the form urn:nid:nss"
    if len(value) == len(scheme) + 1:
        return "uri-invalid", "has nothing after its scheme"
    return None


def _is_absolute_http(value: str) -> bool:
    return uri_problem(value) is None and value.lower().startswith(("http://", "https://"))


_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})([Tt])(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(value: str, *, atom: bool = False) -> datetime:
    """An RFC 3339 date-time with its offset; Atom (RFC 4287 3.3) also wants upper-case T/Z.

    Raises ValueError with the reason.
    """
    match = _RFC3339_RE.match(value)
    if not match:
        raise ValueError("not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.f] with Z or ±hh:mm)")
    year, month, day, sep, hour, minute, second, fraction, offset = match.groups()
    if atom and (sep != "T" or offset == "z"):
        raise ValueError('RFC 4287 requires an upper-case "T" and "Z"')
    if offset in ("Z", "z"):
        tz = UTC
    else:
        off_hours, off_minutes = int(offset[1:3]), int(offset[4:6])
        if off_hours > 23 or off_minutes > 59:
            raise ValueError(f"invalid time zone offset {offset}")
        delta = timedelta(hours=off_hours, minutes=off_minutes)
        tz = timezone(-delta if offset[0] == "-" else delta)
    sec = int(second)
    if sec == 60:  # a leap second
        sec = 59
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    return datetime(int(year), int(month), int(day), int(hour), int(minute), sec, micro, tzinfo=tz)


_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC822_RE = re.compile(
    rf"^(?:({'|'.join(_DAYS)}), )?(\d{{1,2}}) ({_MONTHS}) (\d{{4}}) "
    r"(\d{2}):(\d{2})(?::(\d{2}))? (UT|GMT|[ECMP][SD]T|[A-IK-Z]|[+-]\d{4})$"
)


def parse_rfc822(value: str) -> datetime:
    """An RFC 822 date as RSS 2.0 wants it (RFC 2822's four-digit year, English names).

    Raises ValueError with the reason.
    """
    match = _RFC822_RE.match(value)
    if not match:
        raise ValueError(
            "not an RFC 822 date of the form 'Wed, 02 Oct 2002 13:00:00 GMT' "
            "(English day and month names, four-digit year, a time zone)"
        )
    weekday, _day, _month, _year, hour, minute, second, _zone = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 60:
        raise ValueError("time out of range")
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid date ({exc})") from exc
    if weekday is not None and _DAYS[parsed.weekday()] != weekday:
        raise ValueError(f"incorrect day of week (should be {_DAYS[parsed.weekday()]})")
    if parsed.tzinfo is None:  # "-0000": RFC 2822's unknown local time; it is still UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


_W3CDTF_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def parse_w3cdtf(value: str) -> datetime:
    """dc:date: W3C-DTF, a date (YYYY, YYYY-MM, YYYY-MM-DD) or an RFC 3339 date-time."""
    if _W3CDTF_RE.match(value):
        parts = [int(part) for part in value.split("-")] + [1, 1]
        return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
    return parse_rfc3339(value)


def _plausible(moment: datetime) -> bool:
    return 1990 <= moment.year <= 2100


# RFC 5646 section 2.1: a well-formed language tag (case-insensitive).
_ALNUM = "[A-Za-z0-9]"
_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"  # language [-extlang]
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    rf"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"  # variants
    rf"(?:-[0-9A-WYZa-wyz](?:-{_ALNUM}{{2,8}})+)*"  # extensions
    rf"(?:-[Xx](?:-{_ALNUM}{{1,8}})+)?"  # private use
)
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn"
    "|i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn"
    "|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_BCP47_RE = re.compile(
    rf"^(?:{_LANGTAG}|[Xx](?:-{_ALNUM}{{1,8}})+|{_GRANDFATHERED})$", re.IGNORECASE
)


def is_language_tag(value: str) -> bool:
    """Whether value is a well-formed BCP 47 (RFC 5646) language tag such as zh-Hans-CN."""
    return bool(_BCP47_RE.match(value))


# ---------------------------------------------------------------------------------------------
# HTML content
# ---------------------------------------------------------------------------------------------

UNSAFE_HTML_ELEMENTS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
        "base", "link", "meta",
    }
)  # fmt: skip
KNOWN_HTML_ELEMENTS = UNSAFE_HTML_ELEMENTS | frozenset(
    """
    a abbr acronym address area article aside audio b bdi bdo big blockquote body br button
    canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir
    div dl dt em fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header
    hgroup hr html i img input ins kbd label legend li main map mark menu meter nav noscript
    ol optgroup option output p picture pre progress q rp rt ruby s samp search section select
    small source span strike strong sub summary sup table tbody td template textarea tfoot th
    thead time title tr track tt u ul var video wbr
    """.split()
)
_URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "background", "cite", "longdesc", "poster",
        "data", "lowsrc", "dynsrc", "usemap", "manifest", "icon", "codebase", "profile",
    }
)  # fmt: skip
_CONTROL_OR_SPACE_RE = re.compile(r"[\x00-\x20]+")
_UNSAFE_STYLE_RE = re.compile(r"expression\s*\(|javascript:|vbscript:|behavior\s*:", re.I)


def _is_relative_reference(value: str) -> bool:
    value = value.strip()
    return bool(value) and not value.startswith("#") and not _SCHEME_RE.match(value)


def _check_html_element(
    report: _Report, where: str, tag: str, attrib: Iterable[tuple[str, str]], node: Any
) -> None:
    if tag in UNSAFE_HTML_ELEMENTS:
        report.error("html-unsafe-element", f"{where} should not contain HTML {tag} elements", node)
    elif tag not in KNOWN_HTML_ELEMENTS:
        report.warning("html-unknown-element", f"{where}: Non-html tag: {tag}", node)
    for name, value in attrib:
        name = name.lower()
        if name.startswith("on"):
            report.error(
                "html-event-handler",
                f"{where} should not contain HTML event handler attributes ({tag}@{name})",
                node,
            )
            continue
        if name == "style" and _UNSAFE_STYLE_RE.search(value):
            report.error(
                "html-unsafe-style", f"{where}: {tag}@style contains dangerous content", node
            )
        urls: list[str] = []
        if name in _URL_ATTRIBUTES:
            urls = [value]
        elif name in ("srcset", "imagesrcset"):
            urls = [part.split()[0] for part in value.split(",") if part.split()]
        for url in urls:
            squeezed = _CONTROL_OR_SPACE_RE.sub("", url).lower()
            if squeezed.startswith(("javascript:", "vbscript:")):
                report.error(
                    "html-javascript-url",
                    f"{where} should not contain javascript: URLs ({tag}@{name})",
                    node,
                )
            elif _is_relative_reference(url):
                report.warning(
                    "html-relative-url",
                    f"{where} should not contain relative URL references ({tag}@{name}={url!r})",
                    node,
                )


def check_html(report: _Report, markup: str, where: str, node: Any = None) -> None:
    """Checks escaped HTML (Atom type="html", RSS description, JSON content_html)."""
    if not markup.strip():
        return
    invalid = _XML_INVALID_CHAR_RE.search(markup)
    if invalid:
        report.error(
            "html-invalid-char",
            f"{where} contains the control character U+{ord(invalid.group()):04X}",
            node,
        )
        return
    try:
        wrapper = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError) as exc:  # e.g. a character reference to U+0001
        report.error("html-invalid-char", f"{where} cannot be parsed as HTML: {exc}", node)
        return
    for element in wrapper.iterdescendants(etree.Element):
        tag = element.tag.lower() if isinstance(element.tag, str) else str(element.tag)
        _check_html_element(report, where, tag, element.attrib.items(), node)


def check_xhtml(report: _Report, div: etree._Element, where: str) -> None:
    """Checks inline XHTML (Atom type="xhtml"): the xhtml:div and what it holds."""
    for element in div.iter(etree.Element):
        qname = etree.QName(element)
        attrib = [
            (etree.QName(name).localname, value)
            for name, value in element.attrib.items()
            if not name.startswith("{") or name.startswith("{http://www.w3.org/1999/xlink}")
        ]
        if qname.namespace != XHTML_NS:
            report.warning("html-unknown-element", f"{where}: Non-html tag: {element.tag}", element)
            continue
        _check_html_element(report, where, qname.localname, attrib, element)


# ---------------------------------------------------------------------------------------------
# XML documents
# ---------------------------------------------------------------------------------------------

_XML_DECL_RE = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_XML_INVALID_CHAR_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CHAR_REF_RE = re.compile(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")
_CDATA_RE = re.compile(r"<!\[CDATA\[.*?\]\]>", re.DOTALL)


def _is_xml_char(code_point: int) -> bool:
    return (
        code_point in (0x9, 0xA, 0xD)
        or 0x20 <= code_point <= 0xD7FF
        or 0xE000 <= code_point <= 0xFFFD
        or 0x10000 <= code_point <= 0x10FFFF
    )


def parse_xml(data: bytes, report: _Report) -> etree._Element | None:
    """The document's root, or None after reporting why it is not usable XML."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        report.error("xml-encoding", "document is UTF-16 (byte order mark); feeds must be UTF-8")
        return None
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    declared = _XML_DECL_RE.match(body)
    if declared and declared.group(1).decode("ascii").lower() != "utf-8":
        report.error(
            "xml-encoding",
            f"encoding {declared.group(1).decode('ascii')!r} declared; use UTF-8",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.error("xml-encoding", f"document is not valid UTF-8 ({exc})")
        return None
    for match in _XML_INVALID_CHAR_RE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        report.error(
            "xml-invalid-char",
            f"line {line}: character U+{ord(match.group()):04X} is not allowed in XML 1.0",
        )
    # Character references count outside CDATA sections only (blanked, keeping line numbers).
    outside_cdata = _CDATA_RE.sub(lambda m: "\n" * m.group().count("\n"), text)
    for match in _CHAR_REF_RE.finditer(outside_cdata):
        hex_digits, decimal = match.groups()
        code_point = int(hex_digits, 16) if hex_digits else int(decimal)
        if not _is_xml_char(code_point):
            line = outside_cdata.count("\n", 0, match.start()) + 1
            report.error(
                "xml-invalid-char",
                f"line {line}: character reference {match.group()} is not allowed in XML 1.0",
            )
    if any(f.code == "xml-invalid-char" for f in report.findings):
        return None
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        report.error("xml-not-well-formed", f"not well-formed XML: {exc}")
        return None
    if root.getroottree().docinfo.doctype:
        report.warning("xml-doctype", "feeds should not have a DOCTYPE declaration")
    return root


def _check_namespace_prefixes(report: _Report, root: etree._Element) -> None:
    seen: set[tuple[str | None, str]] = set()
    for element in root.iter(etree.Element):
        for prefix, uri in element.nsmap.items():
            if (prefix, uri) in seen:
                continue
            seen.add((prefix, uri))
            expected = CONVENTIONAL_PREFIXES.get(uri)
            unusual = (
                prefix not in expected if expected else bool(prefix and re.match(r"ns\d+$", prefix))
            )
            if unusual:
                report.warning(
                    "namespace-prefix",
                    f"Avoid Namespace Prefix: {prefix or '(default)'} for {uri}",
                    element,
                )


def _check_xml_langs(report: _Report, root: etree._Element) -> None:
    for element in root.iter(etree.Element):
        lang = element.get(f"{{{XML_NS}}}lang")
        if lang and not is_language_tag(lang):
            report.error("lang-invalid", f"xml:lang {lang!r} is not a BCP 47 language tag", element)


def _check_uri(report: _Report, value: str | None, what: str, node: Any) -> None:
    if value is None:
        return
    problem = uri_problem(value)
    if problem:
        code, reason = problem
        report.error(code, f"{what} must be a full and valid URL: {value!r} {reason}", node)


def _text(element: etree._Element | None) -> str:
    return "" if element is None else (element.text or "")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


# ---------------------------------------------------------------------------------------------
# Atom
# ---------------------------------------------------------------------------------------------


def _a(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


@cache
def _atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(ATOM_SCHEMA_PATH)))


ALTERNATE_RELS = frozenset({"alternate", "http://www.iana.org/assignments/relation/alternate"})
PAGING_RELS = frozenset({"first", "previous", "prev", "next", "last"})
_TEXT_CONSTRUCTS = ("title", "subtitle", "summary", "rights", "content")
ATOM_ELEMENTS = frozenset(
    """
    author category content contributor email entry feed generator icon id link logo name
    published rights source subtitle summary title updated uri
    """.split()
)


def _atom_date(report: _Report, element: etree._Element) -> datetime | None:
    value = _text(element)
    what = f"atom:{_local(element)}"
    try:
        moment = parse_rfc3339(value, atom=True)
    except ValueError as exc:
        report.error("date-invalid", f"{what} {value!r}: {exc}", element)
        return None
    if not _plausible(moment):
        report.warning("date-implausible", f"Implausible date: {what} {value!r}", element)
    return moment


def _check_atom_links(
    report: _Report, parent: etree._Element, what: str, fetched_url: str | None
) -> None:
    """alternate uniqueness, paging uniqueness and (fetched_url given) the self link."""
    links = parent.findall(_a("link"))
    alternates: Counter[tuple[str, str]] = Counter()
    paging: Counter[str] = Counter()
    selves = []
    for link in links:
        rel = link.get("rel", "alternate")
        if rel in ALTERNATE_RELS:
            alternates[(link.get("type", "").lower(), link.get("hreflang", "").lower())] += 1
        elif rel in PAGING_RELS:
            paging[rel] += 1
        elif rel == "self":
            selves.append(link)
    for (type_, hreflang), count in alternates.items():
        if count > 1:
            report.error(
                "alternate-duplicate",
                f"{what}: Duplicate alternate links with the same type and hreflang "
                f"(type={type_ or '-'}, hreflang={hreflang or '-'})",
                parent,
            )
    for rel, count in paging.items():
        if count > 1:
            report.error("paging-link-duplicate", f"{what}: {count} links with rel={rel}", parent)
    if fetched_url is None:
        return
    if not selves:
        report.error("self-missing", f'{what}: Missing atom:link with rel="self"', parent)
    elif len(selves) > 1:
        report.error("self-duplicate", f'{what}: {len(selves)} atom:link rel="self"', parent)
    for link in selves:
        if link.get("href") != fetched_url:
            report.error(
                "self-mismatch",
                f"Self reference doesn't match document location: {link.get('href')!r} "
                f"!= {fetched_url!r}",
                link,
            )


def _check_atom_text_construct(report: _Report, element: etree._Element, where: str) -> None:
    type_ = element.get("type", "text")
    if type_ == "html":
        check_html(report, element.text or "", where, element)
    elif type_ == "xhtml":
        div = element.find(f"{{{XHTML_NS}}}div")
        if div is not None:
            check_xhtml(report, div, where)


def _atom_content_is_inline_text(content: etree._Element) -> bool:
    if content.get("src") is not None:
        return False
    type_ = content.get("type", "text").lower()
    if type_ in ("text", "html", "xhtml") or type_.startswith("text/"):
        return True
    return type_.endswith(("+xml", "/xml"))


def check_atom(data: bytes, fetched_url: str) -> list[Finding]:
    """Checks an Atom 1.0 feed document fetched from fetched_url."""
    report = _Report()
    root = parse_xml(data, report)
    if root is None:
        return report.findings
    if root.tag != _a("feed"):
        report.error("atom-root", f"root element is {root.tag}, not atom:feed")
        return report.findings

    schema = _atom_schema()
    if not schema.validate(root):
        for entry in schema.error_log:
            where = f"line {entry.line}: " if entry.line else ""
            report.error("atom-schema", f"{where}{entry.message}")

    _check_namespace_prefixes(report, root)
    _check_xml_langs(report, root)

    for element in root.iter(_a("*")):
        if _local(element) not in ATOM_ELEMENTS:
            report.error(
                "atom-undefined-element", f"Undefined Atom element: atom:{_local(element)}", element
            )

    entries = root.findall(_a("entry"))
    for element, what in [(root, "feed")] + [(entry, "entry") for entry in entries]:
        for name in ("id", "title", "updated"):
            if element.find(_a(name)) is None:
                report.error("atom-missing-element", f"Missing {what} element: {name}", element)

    # Authors: the feed's, or every entry's own (or its source's).
    if root.find(_a("author")) is None:
        orphans = [
            entry
            for entry in entries
            if entry.find(_a("author")) is None
            and entry.find(f"{_a('source')}/{_a('author')}") is None
        ]
        if orphans:
            report.error(
                "atom-missing-author",
                f"Missing feed element: author ({len(orphans)} entries have no author either)",
                orphans[0],
            )

    # Links, IRIs and language tags everywhere in Atom elements.
    for link in root.iter(_a("link")):
        _check_uri(report, link.get("href"), f"link rel={link.get('rel', 'alternate')} href", link)
        hreflang = link.get("hreflang")
        if hreflang is not None and not is_language_tag(hreflang):
            report.error("lang-invalid", f"hreflang {hreflang!r} is not a BCP 47 tag", link)
    for name in ("id", "icon", "logo", "uri"):
        for element in root.iter(_a(name)):
            _check_uri(report, _text(element), f"atom:{name}", element)
    for element in root.iter(_a("content")):
        _check_uri(report, element.get("src"), "content src", element)
    for element in root.iter(_a("generator")):
        _check_uri(report, element.get("uri"), "generator uri", element)
    for element in root.iter(_a("category")):
        _check_uri(report, element.get("scheme"), "category scheme", element)
    for name in _TEXT_CONSTRUCTS:
        for element in root.iter(_a(name)):
            _check_atom_text_construct(report, element, f"atom:{name}")
    for element in root.iter(_a("published"), _a("updated")):
        _atom_date(report, element)  # findings are kept once, so comparing below re-parses freely

    feed_updated_element = root.find(_a("updated"))
    feed_updated = (
        None if feed_updated_element is None else _atom_date(report, feed_updated_element)
    )
    _check_atom_links(report, root, "feed", fetched_url)

    ids: Counter[str] = Counter()
    for entry in entries:
        entry_id = entry.find(_a("id"))
        if entry_id is not None:
            ids[_text(entry_id)] += 1
        _check_atom_links(report, entry, "entry", None)
        content = entry.find(_a("content"))
        links = entry.findall(_a("link"))
        if content is None and not any(
            link.get("rel", "alternate") in ALTERNATE_RELS for link in links
        ):
            report.error(
                "atom-entry-no-content",
                "An atom:entry must have at least one atom:link element with a rel attribute "
                "of 'alternate' or an atom:content",
                entry,
            )
        if (
            content is not None
            and not _atom_content_is_inline_text(content)
            and entry.find(_a("summary")) is None
        ):
            report.warning(
                "atom-missing-summary",
                "Missing entry element: summary (content is out of line or not text)",
                entry,
            )
        updated_element = entry.find(_a("updated"))
        updated = None if updated_element is None else _atom_date(report, updated_element)
        if updated and feed_updated and updated > feed_updated:
            report.warning(
                "atom-entry-updated-after-feed",
                f"entry updated {_text(updated_element)} is later than the feed's "
                f"updated {_text(feed_updated_element)}",
                updated_element,
            )
    for value, count in ids.items():
        if count > 1:
            report.error("id-duplicate", f"Duplicate entry id {value!r} ({count} entries)")
    return report.findings


# ---------------------------------------------------------------------------------------------
# RSS 2.0
# ---------------------------------------------------------------------------------------------

RSS_CHANNEL_ELEMENTS = frozenset(
    """
    title link description language copyright managingEditor webMaster pubDate lastBuildDate
    category generator docs cloud ttl image rating textInput skipHours skipDays item
    """.split()
)
RSS_ITEM_ELEMENTS = frozenset(
    "title link description author category comments enclosure guid pubDate source".split()
)
_REPEATABLE = frozenset({"category", "item"})
_EMAIL_RE = re.compile(r"^[^@\s()]+@[^@\s()]+\.[^@\s()]+(?: \([^()]*\))?$")
_MEDIA_TYPE_RE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:\s*;.*)?$")


def _rss_date(report: _Report, element: etree._Element) -> None:
    value = (element.text or "").strip()
    is_dc_date = element.tag == f"{{{DC_NS}}}date"
    name = "dc:date" if is_dc_date else _local(element)
    try:
        moment = parse_w3cdtf(value) if is_dc_date else parse_rfc822(value)
    except ValueError as exc:
        kind = "W3C-DTF" if is_dc_date else "RFC 822"
        report.error("date-invalid", f"Invalid {kind} date: {name} {value!r}: {exc}", element)
        return
    if not _plausible(moment):
        report.warning("date-implausible", f"Implausible date: {name} {value!r}", element)


def _check_rss_children(
    report: _Report, parent: etree._Element, allowed: frozenset[str], what: str
) -> None:
    counts: Counter[str] = Counter()
    for child in parent.iterchildren(etree.Element):
        if not isinstance(child.tag, str) or child.tag.startswith("{"):
            continue
        if child.tag not in allowed:
            report.error("rss-undefined-element", f"Undefined {what} element: {child.tag}", child)
        counts[child.tag] += 1
    for name, count in counts.items():
        if count > 1 and name not in _REPEATABLE:
            report.error("rss-duplicate-element", f"{what} has {count} {name} elements", parent)


def _check_rss_atom_links(report: _Report, channel: etree._Element, fetched_url: str) -> None:
    links = channel.findall(_a("link"))
    selves = []
    alternates: Counter[tuple[str, str]] = Counter()
    paging: Counter[str] = Counter()
    for link in links:
        if link.get("href") is None:
            report.error("rss-missing-element", "Missing atom:link attribute: href", link)
        rel = link.get("rel", "alternate")
        if rel == "self":
            selves.append(link)
        elif rel in ALTERNATE_RELS:
            alternates[(link.get("type", "").lower(), link.get("hreflang", "").lower())] += 1
        elif rel in PAGING_RELS:
            paging[rel] += 1
    if not selves:
        report.warning("self-missing", 'Missing atom:link with rel="self"', channel)
    elif len(selves) > 1:
        report.error("self-duplicate", f'{len(selves)} atom:link rel="self" elements', channel)
    for link in selves:
        if link.get("href") is not None and link.get("href") != fetched_url:
            report.error(
                "self-mismatch",
                f"Self reference doesn't match document location: {link.get('href')!r} "
                f"!= {fetched_url!r}",
                link,
            )
    for (type_, hreflang), count in alternates.items():
        if count > 1:
            report.error(
                "alternate-duplicate",
                "Duplicate alternate links with the same type and hreflang "
                f"(type={type_ or '-'}, hreflang={hreflang or '-'})",
                channel,
            )
    for rel, count in paging.items():
        if count > 1:
            report.error("paging-link-duplicate", f"{count} atom:link rel={rel}", channel)


def _check_rss_item(report: _Report, item: etree._Element, guids: Counter[str]) -> None:
    _check_rss_children(report, item, RSS_ITEM_ELEMENTS, "item")
    if item.find("title") is None and item.find("description") is None:
        report.error("rss-missing-element", "item must contain either title or description", item)
    for name in ("link", "comments"):
        for element in item.findall(name):
            _check_uri(report, (element.text or "").strip(), f"item {name}", element)
    guid = item.find("guid")
    if guid is None:
        report.warning("rss-missing-guid", "item should contain a guid element", item)
    else:
        value = (guid.text or "").strip()
        guids[value] += 1
        permalink = guid.get("isPermaLink", "true")
        if permalink not in ("true", "false"):
            report.error(
                "rss-invalid-value",
                f'guid isPermaLink must be "true" or "false": {permalink!r}',
                guid,
            )
        elif permalink == "true" and not _is_absolute_http(value):
            report.error(
                "rss-guid-not-permalink",
                f"guid must be a full URL, unless isPermaLink attribute is false: {value!r}",
                guid,
            )
    has_pubdate = item.find("pubDate") is not None
    if has_pubdate and item.find(f"{{{DC_NS}}}date") is not None:
        report.warning(
            "rss-pubdate-and-dcdate", "An item should not include both pubDate and dc:date", item
        )
    for enclosure in item.findall("enclosure"):
        missing = [name for name in ("url", "length", "type") if enclosure.get(name) is None]
        if missing:
            report.error(
                "rss-enclosure", f"enclosure missing attribute(s): {', '.join(missing)}", enclosure
            )
        length = enclosure.get("length")
        if length is not None and not re.fullmatch(r"\d+", length):
            report.error(
                "rss-enclosure", f"enclosure length must be an integer: {length!r}", enclosure
            )
        type_ = enclosure.get("type")
        if type_ is not None and not _MEDIA_TYPE_RE.match(type_):
            report.error(
                "rss-enclosure", f"enclosure type is not a MIME type: {type_!r}", enclosure
            )
        _check_uri(report, enclosure.get("url"), "enclosure url", enclosure)
    source = item.find("source")
    if source is not None:
        if source.get("url") is None:
            report.error("rss-missing-element", "Missing source attribute: url", source)
        _check_uri(report, source.get("url"), "source url", source)
    for author in item.findall("author"):
        value = (author.text or "").strip()
        if not _EMAIL_RE.match(value):
            report.warning(
                "rss-author-not-email",
                f"author must be an email address, e.g. 'a@example.com (Name)': {value!r}; "
                "use dc:creator for a name",
                author,
            )
    for name in ("description", f"{{{CONTENT_NS}}}encoded"):
        label = "content:encoded" if name.startswith("{") else name
        for element in item.findall(name):
            check_html(report, element.text or "", f"item {label}", element)


def check_rss(
    data: bytes, fetched_url: str, allowed_namespaces: Iterable[str] = ()
) -> list[Finding]:
    """Checks an RSS 2.0 document fetched from fetched_url.

    Namespaces other than RSS_KNOWN_NAMESPACES (atom, content, dc, media, sy, slash) are
    reported unless listed in allowed_namespaces.
    """
    report = _Report()
    root = parse_xml(data, report)
    if root is None:
        return report.findings
    if root.tag != "rss":
        report.error("rss-root", f"root element is {root.tag}, not rss")
        return report.findings
    if root.get("version") != "2.0":
        report.error("rss-version", f'rss version must be "2.0", not {root.get("version")!r}')

    known = RSS_KNOWN_NAMESPACES | set(allowed_namespaces) | {XML_NS}
    unknown: dict[str, etree._Element] = {}
    for element in root.iter(etree.Element):
        names = [element.tag, *element.attrib.keys()]
        for name in names:
            namespace = etree.QName(name).namespace
            if namespace and namespace not in known:
                unknown.setdefault(namespace, element)
    for namespace, element in unknown.items():
        report.error("unknown-namespace", f"Use of unknown namespace: {namespace}", element)
    _check_namespace_prefixes(report, root)
    _check_xml_langs(report, root)

    for child in root.iterchildren(etree.Element):
        if child.tag != "channel" and not str(child.tag).startswith("{"):
            report.error("rss-undefined-element", f"Undefined rss element: {child.tag}", child)
    channels = root.findall("channel")
    if not channels:
        report.error("rss-missing-element", "Missing rss element: channel", root)
        return report.findings
    if len(channels) > 1:
        report.error("rss-duplicate-element", "rss has more than one channel", root)
    channel = channels[0]

    _check_rss_children(report, channel, RSS_CHANNEL_ELEMENTS, "channel")
    for name in ("title", "link", "description"):
        if channel.find(name) is None:
            report.error("rss-missing-element", f"Missing channel element: {name}", channel)
    for name in ("link", "docs"):
        for element in channel.findall(name):
            _check_uri(report, (element.text or "").strip(), f"channel {name}", element)
    for name in ("managingEditor", "webMaster"):
        for element in channel.findall(name):
            if not _EMAIL_RE.match((element.text or "").strip()):
                report.warning(
                    "rss-author-not-email",
                    f"{name} must be an email address: {(element.text or '').strip()!r}",
                    element,
                )
    for element in channel.findall("language"):
        value = (element.text or "").strip()
        if not is_language_tag(value):
            report.error(
                "lang-invalid", f"language {value!r} is not a valid language code", element
            )
    for element in root.iter(f"{{{DC_NS}}}language"):
        value = (element.text or "").strip()
        if not is_language_tag(value):
            report.error("lang-invalid", f"dc:language {value!r} is not a language tag", element)
    for element in channel.findall("description"):
        check_html(report, element.text or "", "channel description", element)
    for element in channel.findall("ttl"):
        if not re.fullmatch(r"\d+", (element.text or "").strip()):
            report.error("rss-invalid-value", f"ttl must be an integer: {element.text!r}", element)
    for image in channel.findall("image"):
        for name in ("url", "title", "link"):
            if image.find(name) is None:
                report.error("rss-missing-element", f"Missing image element: {name}", image)
        for name in ("url", "link"):
            for element in image.findall(name):
                _check_uri(report, (element.text or "").strip(), f"image {name}", element)

    _check_rss_atom_links(report, channel, fetched_url)
    for link in root.iter(_a("link")):
        _check_uri(report, link.get("href"), f"atom:link rel={link.get('rel', 'alternate')}", link)
        hreflang = link.get("hreflang")
        if hreflang is not None and not is_language_tag(hreflang):
            report.error("lang-invalid", f"hreflang {hreflang!r} is not a BCP 47 tag", link)

    for name in ("pubDate", "lastBuildDate"):
        for element in root.iter(name):
            _rss_date(report, element)
    for element in root.iter(f"{{{DC_NS}}}date"):
        _rss_date(report, element)
    for element in root.iter("category"):
        _check_uri(report, element.get("domain"), "category domain", element)
    for element in root.iter(f"{{{MEDIA_NS}}}*"):
        _check_uri(report, element.get("url"), f"media:{_local(element)} url", element)

    guids: Counter[str] = Counter()
    for item in channel.findall("item"):
        _check_rss_item(report, item, guids)
    for value, count in guids.items():
        if count > 1:
            report.error("id-duplicate", f"Duplicate guid {value!r} ({count} items)")
    return report.findings


# ---------------------------------------------------------------------------------------------
# JSON Feed 1.1
# ---------------------------------------------------------------------------------------------


def _rfc3339_ok(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parse_rfc3339(value)
    except ValueError:
        return False
    return True


def _uri_ok(value: object) -> bool:
    return not isinstance(value, str) or uri_problem(value) is None


@cache
def _jsonfeed_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(JSONFEED_SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    # jsonschema checks "uri" only with rfc3987 installed, and "date-time" only with
    # rfc3339-validator: this checker brings its own, the same as for Atom and RSS.
    formats = jsonschema.FormatChecker(formats=())
    formats.checks("uri")(_uri_ok)
    formats.checks("date-time")(_rfc3339_ok)
    return jsonschema.Draft202012Validator(schema, format_checker=formats)


def _json_path(path: Iterable[Any]) -> str:
    return "/" + "/".join(str(part) for part in path)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _json_items(feed: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    items = feed.get("items")
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def check_json_feed(data: bytes, fetched_url: str) -> list[Finding]:
    """Checks a JSON Feed 1.1 document fetched from fetched_url."""
    report = _Report()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.error("json-invalid", f"document is not UTF-8 ({exc})")
        return report.findings
    if text.startswith("\ufeff"):
        report.error("json-invalid", "JSON must not start with a byte order mark")
        text = text[1:]
    try:
        feed = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_reject_constant
        )
    except ValueError as exc:
        report.error("json-invalid", f"not valid JSON: {exc}")
        return report.findings
    if not isinstance(feed, dict):
        report.error("json-invalid", "the top level must be a JSON object")
        return report.findings

    for error in sorted(_jsonfeed_validator().iter_errors(feed), key=lambda e: list(e.path)):
        where = _json_path(error.absolute_path)
        alternatives = error.validator_value if error.validator == "anyOf" else None
        if isinstance(alternatives, list) and all(
            isinstance(option, dict) and list(option) == ["required"] for option in alternatives
        ):
            needed = " or ".join(name for option in alternatives for name in option["required"])
            report.error("json-schema", f"{where}: must have {needed}")
            continue
        if error.validator == "format" and isinstance(error.instance, str):
            value = error.instance
            if error.validator_value == "uri":
                code, reason = uri_problem(value) or ("uri-invalid", "is not a URI")
                report.error(code, f"{where} must be a full and valid URL: {value!r} {reason}")
            else:
                report.error("date-invalid", f"{where} {value!r} is not an RFC 3339 date-time")
            continue
        report.error("json-schema", f"{where}: {error.message}")

    feed_url = feed.get("feed_url")
    if feed_url is None:
        report.warning("self-missing", "feed_url is missing (strongly recommended)")
    elif feed_url != fetched_url:
        report.error(
            "self-mismatch",
            f"Self reference doesn't match document location: feed_url {feed_url!r} "
            f"!= {fetched_url!r}",
        )
    if "author" in feed:
        report.warning("jsonfeed-deprecated-author", "/author is deprecated: use authors")
    language = feed.get("language")
    if isinstance(language, str) and not is_language_tag(language):
        report.error("lang-invalid", f"/language {language!r} is not a BCP 47 language tag")

    ids: Counter[str] = Counter()
    for index, item in _json_items(feed):
        where = f"/items/{index}"
        if isinstance(item.get("id"), str):
            ids[item["id"]] += 1
        if "author" in item:
            report.warning("jsonfeed-deprecated-author", f"{where}/author is deprecated")
        for key in ("date_published", "date_modified"):
            value = item.get(key)
            if isinstance(value, str) and _rfc3339_ok(value):
                if not _plausible(parse_rfc3339(value)):
                    report.warning("date-implausible", f"Implausible date: {where}/{key} {value!r}")
        item_language = item.get("language")
        if isinstance(item_language, str) and not is_language_tag(item_language):
            report.error("lang-invalid", f"{where}/language {item_language!r} is not a BCP 47 tag")
        content_html = item.get("content_html")
        if isinstance(content_html, str):
            check_html(report, content_html, f"{where}/content_html")
    for value, count in ids.items():
        if count > 1:
            report.error("id-duplicate", f"Duplicate item id {value!r} ({count} items)")
    return report.findings


# ---------------------------------------------------------------------------------------------
# OPML 2.0
# ---------------------------------------------------------------------------------------------


def check_opml(data: bytes) -> list[Finding]:
    """Checks an OPML 2.0 subscription list."""
    report = _Report()
    root = parse_xml(data, report)
    if root is None:
        return report.findings
    if root.tag != "opml":
        report.error("opml-root", f"root element is {root.tag}, not opml")
        return report.findings
    if root.get("version") != "2.0":
        report.error("opml-version", f'opml version must be "2.0", not {root.get("version")!r}')
    _check_xml_langs(report, root)

    head = root.find("head")
    if head is None:
        report.error("opml-missing-element", "Missing opml element: head", root)
    else:
        if head.find("title") is None:
            report.error("opml-missing-element", "Missing head element: title", head)
        for name in ("dateCreated", "dateModified"):
            for element in head.findall(name):
                value = (element.text or "").strip()
                try:
                    moment = parse_rfc822(value)
                except ValueError as exc:
                    report.error(
                        "date-invalid", f"Invalid RFC 822 date: {name} {value!r}: {exc}", element
                    )
                    continue
                if not _plausible(moment):
                    report.warning(
                        "date-implausible", f"Implausible date: {name} {value!r}", element
                    )

    body = root.find("body")
    if body is None:
        report.error("opml-missing-element", "Missing opml element: body", root)
        return report.findings
    if body.find("outline") is None:
        report.error("opml-missing-element", "body must contain at least one outline", body)
    for outline in body.iter("outline"):
        if not outline.get("text"):
            report.error("opml-outline-missing-text", "outline must have a text attribute", outline)
        if outline.get("type", "").lower() == "rss":
            if not outline.get("xmlUrl"):
                report.error(
                    "opml-outline-missing-xmlurl", 'outline type="rss" must have xmlUrl', outline
                )
            else:
                _check_uri(report, outline.get("xmlUrl"), "outline xmlUrl", outline)
        _check_uri(report, outline.get("htmlUrl"), "outline htmlUrl", outline)
        created = outline.get("created")
        if created is not None:
            try:
                parse_rfc822(created)
            except ValueError as exc:
                report.error(
                    "date-invalid",
                    f"Invalid RFC 822 date: outline created {created!r}: {exc}",
                    outline,
                )
    return report.findings
