"""Translation exchange with CAT tools: gettext PO and XLIFF 2.0 files, bytes in and out.

Translators export machine translations, work on them in Poedit, OmegaT, memoQ or Trados,
and import the file back. This module only converts: it knows nothing of Flask, the
database or who may import what.

Decisions, so callers know what to expect:

- **Identity.** A PO message is ``msgctxt "article/{id}/{key}"``; an XLIFF unit is
  ``<unit id="{key}">`` inside ``<file id="article-{id}">``. On the way back an id that does
  not parse gives ``article_id``/``key`` ``None``; the caller decides what that means.
- **Revision.** A unit's ``revision`` (the segment's stored version when exported) travels
  with it so an import can tell whether the segment changed since. PO: an extracted
  comment ``#. feedsvc-revision: 7`` (the msgctxt stays the stable identity, so tools such
  as Weblate keep each unit's history across exports; extracted comments belong to the
  source side, which Poedit, Lokalize, translate-toolkit/Weblate and skeleton-based tools
  write back untouched). XLIFF: a unit-level ``<note category="feedsvc-revision">7</note>``
  (core schema; tools keep notes). Entries without it (older exports, other tools) read
  back with ``revision`` ``None``.
- **Approval.** PO: a non-empty ``msgstr`` without the ``fuzzy`` flag. XLIFF: every segment of
  the unit in state ``final`` and a non-empty target (``reviewed`` is not approval). Export
  writes unapproved non-empty targets as fuzzy / ``translated``, approved ones as
  not fuzzy / ``final``, and missing or empty targets as empty ``msgstr`` / ``initial``.
- **Placeholders.** PO keeps our ``{1}…{/1}`` / ``{2}`` syntax in the text and lists what each
  stands for in an extracted comment. XLIFF turns them into inline codes: a pair becomes
  ``<pc id="1" dataRefStart="d1" dataRefEnd="d1-end">…</pc>``, a standalone one
  ``<ph id="2" dataRef="d2"/>``, with the original markup (the closing tag synthesized as
  ``</name>``) in the unit's ``<originalData>``. Pairs in a target that cross each other
  become ``<sc>``/``<ec>``, a closing token without its opening an isolated ``<ec>``;
  all of these read back to exactly the tokens they came from. Characters XML cannot carry
  travel as ``<cp hex="…"/>``.
- **XLIFF details.** One ``<file>`` per article (units of an article together, in the order
  given), ``canResegment="no"`` so tools keep one segment per unit, the note as a
  unit-level ``<notes><note>``. Reading accepts units inside ``<group>``, several segments and
  ignorables per unit (concatenated), ``<mrk>`` (its text kept), ``<sm>``/``<em>`` (dropped).
  Only ``version="2.0"`` in the 2.0 namespace is accepted; documents with a DOCTYPE are
  refused (no entity expansion from untrusted files).
- **PO details.** Written and read with Babel. Input must be UTF-8 (a BOM is allowed);
  any line Babel considers invalid rejects the file. Obsolete (``#~``) messages are ignored.
  Duplicate contexts in an imported file are merged by Babel (the first ``msgstr`` wins).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po
from lxml import etree

__all__ = [
    "XLIFF_NAMESPACE",
    "XLIFF_SCHEMA",
    "Entry",
    "ExchangeError",
    "Unit",
    "export_po",
    "export_xliff",
    "parse_po",
    "parse_xliff",
    "validate_xliff",
]

XLIFF_NAMESPACE = "urn:oasis:names:tc:xliff:document:2.0"
XLIFF_SCHEMA = Path(__file__).resolve().parent / "schemas_xliff" / "xliff_core_2.0.xsd"


@dataclass(frozen=True)
class Unit:
    """One segment offered for translation."""

    article_id: int
    key: str  # "title", "summary", "body.0.1"
    source: str  # with placeholders
    target: str | None
    approved: bool
    placeholders: dict[str, str]
    note: str = ""  # e.g. article title / section, shown to the translator
    revision: int | None = None  # the segment's version when exported


@dataclass(frozen=True)
class Entry:
    """One entry read back from a file."""

    article_id: int | None  # None when the file's id could not be parsed
    key: str | None
    source: str  # as in the file (placeholders in our {n} syntax)
    target: str  # "" if empty
    approved: bool
    location: str  # "line 42" (PO) or "unit body.0.1 in file article-12" (XLIFF)
    revision: int | None = None  # the segment's version when exported; None if unknown
    line: int | None = None  # PO: the line of the message (1-based)
    file_id: str | None = None  # XLIFF: the <file> id


class ExchangeError(ValueError):
    """The whole file is unreadable: not PO / not XLIFF 2.0 / not well-formed / invalid."""


# --- shared ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{(/?)(\d+)\}")  # the placeholder syntax of feedsvc.segments
_TAG_NAME = re.compile(r"<([^\s/>]+)")
_NMTOKEN = re.compile(r"[\w.:\-\u00b7\u0300-\u036f\u203f-\u2040]+")
# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF).
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Code points no text may hold, in either direction: NUL (PostgreSQL refuses it, and a PO
# file with one is no PO file) and surrogates (no UTF-8 encodes them).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class _NotText(ValueError):
    """A <cp> in an imported file stands for a code point no text may hold."""

    def __init__(self, code_point: int) -> None:
        kind = "NUL" if code_point == 0 else "a surrogate"
        super().__init__(f'<cp hex="{code_point:04X}"/> is {kind}, not a character of text')


try:
    _VERSION = metadata.version("feedsvc")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    _VERSION = "0"


def _check_units(units: Sequence[Unit], *, xliff: bool) -> None:
    seen: set[tuple[int, str]] = set()
    for unit in units:
        ident = (unit.article_id, unit.key)
        if ident in seen:
            raise ValueError(f"duplicate unit: article {unit.article_id}, key {unit.key!r}")
        seen.add(ident)
        if xliff and not _NMTOKEN.fullmatch(unit.key):
            raise ValueError(f"unit key {unit.key!r} is not an XML name token")
        if not xliff and not unit.source:
            raise ValueError(f"empty source for article {unit.article_id}, key {unit.key!r}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _closing_markup(value: str) -> str | None:
    """``</name>`` for an opening tag, None for protected text."""
    if not value.startswith("<"):
        return None
    match = _TAG_NAME.match(value)
    return f"</{match.group(1)}>" if match else None


def _paired_ids(*texts: str) -> set[str]:
    return {pid for text in texts for closing, pid in _TOKEN.findall(text) if closing}


def _ids_in_order(*texts: str) -> list[str]:
    return list(dict.fromkeys(pid for text in texts for _, pid in _TOKEN.findall(text)))


# --- PO ------------------------------------------------------------------------------------

_PO_CONTEXT = re.compile(r"article/([^/]*)/(.+)", re.DOTALL)
_PO_REVISION = re.compile(r"feedsvc-revision:\s*(\d+)")
_PO_MSGID = re.compile(r'^[ \t]*msgid[ \t]+"', re.MULTILINE)


def _babel_locale(tag: str) -> str:
    """Babel form of a language tag ("zh-Hans" -> "zh_Hans"); unknown ones stay as given."""
    identifier = tag.strip().replace("-", "_")
    try:
        return str(Locale.parse(identifier))
    except (ValueError, TypeError, UnknownLocaleError):
        return identifier


def _legend(unit: Unit) -> list[str]:
    """'{1} = <a href="…">, {/1} = </a>' for each placeholder, in order of appearance."""
    paired = _paired_ids(unit.source)
    order = _ids_in_order(unit.source) + list(unit.placeholders)
    lines = []
    for pid in dict.fromkeys(order):
        value = unit.placeholders.get(pid)
        if value is None:
            continue
        line = f"{{{pid}}} = {value}"
        closing = _closing_markup(value) if pid in paired else None
        if closing:
            line += f", {{/{pid}}} = {closing}"
        lines.append(_one_line(line))
    return lines


def export_po(units: Sequence[Unit], source_lang: str, target_lang: str) -> bytes:
    """A gettext PO file (UTF-8) with one message per unit."""
    _check_units(units, xliff=False)
    header = (
        f"# feedsvc translations, {_one_line(source_lang)} -> {_one_line(target_lang)}.\n"
        "# Each msgctxt (article/<id>/<segment>) identifies an entry, and its comment\n"
        "# feedsvc-revision the version exported: keep both unchanged.\n"
        "# {n}...{/n} and {n} stand for links, formatting, images and protected text\n"
        "# (see the comment above each entry): keep them in the translation.\n"
        "# Fuzzy entries are unreviewed; clear the fuzzy flag to approve one."
    )
    catalog = Catalog(
        locale=_babel_locale(target_lang),
        header_comment=header,
        project="feedsvc",
        version=_VERSION,
        revision_date=datetime.now(UTC),
        fuzzy=False,
    )
    for unit in units:
        comments = [_one_line(unit.note)] if unit.note.strip() else []
        comments += _legend(unit)
        if unit.revision is not None:
            comments.append(f"feedsvc-revision: {unit.revision}")
        message = catalog.add(
            unit.source,
            unit.target or "",
            auto_comments=comments,
            flags=("fuzzy",) if unit.target and not unit.approved else (),
            context=f"article/{unit.article_id}/{unit.key}",
        )
        # Babel guesses these from "50% of" or our "{1}" tokens; a translator's tool would
        # then check format specifiers that are none ("{/1}" is no valid brace format).
        message.flags -= {"python-format", "python-brace-format"}
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    # A NUL stored before input was checked must not make a file the import refuses.
    return buffer.getvalue().replace(b"\x00", "\ufffd".encode())


def _parse_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _po_identity(context: str | None) -> tuple[int | None, str | None]:
    match = _PO_CONTEXT.fullmatch(context or "")
    if not match:
        return None, None
    return _parse_id(match.group(1)), match.group(2)


def _po_revision(message: Message) -> int | None:
    for comment in message.auto_comments:
        match = _PO_REVISION.fullmatch(comment.strip())
        if match:
            return _parse_id(match.group(1))
    return None


def _first(value: str | Sequence[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value[0] if value else ""


def parse_po(data: bytes) -> list[Entry]:
    """Entries of a PO file in file order. Raises ExchangeError if it is not a PO file."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExchangeError(f"not a UTF-8 PO file: {exc}") from exc
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise ExchangeError("not a PO file: it contains NUL characters")
    try:
        catalog = read_po(io.StringIO(text), ignore_obsolete=True, abort_invalid=True)
    except PoFileError as exc:
        problem = str(exc).removesuffix(f" on {exc.lineno}")  # babel counts lines from 0
        raise ExchangeError(f"not a valid PO file: line {exc.lineno + 1}: {problem}") from exc
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise ExchangeError(f"not a valid PO file: {exc}") from exc
    messages: list[Message] = [message for message in catalog if message.id]
    if not messages and not _PO_MSGID.search(text):
        raise ExchangeError("not a PO file: no msgid found")
    entries = []
    for message in messages:
        article_id, key = _po_identity(message.context)
        target = _first(message.string)
        entries.append(
            Entry(
                article_id=article_id,
                key=key,
                source=_first(message.id),
                target=target,
                approved=bool(target) and not message.fuzzy,
                location=f"line {message.lineno}",
                revision=_po_revision(message),
                line=message.lineno,
            )
        )
    return entries


# --- XLIFF ---------------------------------------------------------------------------------

_X = f"{{{XLIFF_NAMESPACE}}}"
_FILE_ID = re.compile(r"article-(\d+)")
REVISION_NOTE = "feedsvc-revision"  # category of the unit note carrying the revision
_STRUCTURAL = frozenset(
    _X + name for name in ("xliff", "file", "group", "notes", "unit", "originalData", "segment")
)
_OPAQUE_TAGS = frozenset({"code", "kbd", "samp", "script", "style", "svg", "math", "textarea"})
_schema_lock = threading.Lock()


def _bcp47(tag: str) -> str:
    return tag.strip().replace("_", "-")


def _code_type(value: str) -> str | None:
    """XLIFF type of an inline code from its original markup; None for protected text."""
    if not value.startswith("<"):
        return None
    match = _TAG_NAME.match(value)
    name = match.group(1).lower() if match else ""
    if name == "a":
        return "link"
    if name in {"img", "picture"}:
        return "image"
    if name in {"q", "blockquote"}:
        return "quote"
    if name in _OPAQUE_TAGS:
        return "other"
    return "fmt"


def _add_text(parent: etree._Element, text: str) -> None:
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _append_text(parent: etree._Element, text: str) -> None:
    """Append text, characters XML cannot carry as <cp hex="…"/>."""
    position = 0
    for match in _XML_INVALID.finditer(text):
        _add_text(parent, text[position : match.start()])
        if _NOT_TEXT.match(match.group()):  # as the import would refuse it: U+FFFD
            _add_text(parent, "\ufffd")
        else:
            etree.SubElement(parent, _X + "cp", hex=f"{ord(match.group()):04X}")
        position = match.end()
    _add_text(parent, text[position:])


def _xml_safe(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


@dataclass(frozen=True)
class _Code:
    start: str | None  # id of the <data> with the opening / standalone markup
    end: str | None  # id of the <data> with the closing markup
    type: str | None
    equiv: str | None  # for protected text: the text itself


def _original_data(unit_el: etree._Element, unit: Unit) -> dict[str, _Code]:
    """Write <originalData> for the placeholders the unit uses; their data references."""
    texts = (unit.source, unit.target or "")
    paired = _paired_ids(*texts)
    codes: dict[str, _Code] = {}
    original = None
    for pid in _ids_in_order(*texts):
        value = unit.placeholders.get(pid)
        if value is None:
            continue
        if original is None:
            original = etree.SubElement(unit_el, _X + "originalData")
        start = f"d{pid}"
        _append_text(etree.SubElement(original, _X + "data", id=start), value)
        end = None
        closing = _closing_markup(value) if pid in paired else None
        if closing:
            end = f"d{pid}-end"
            _append_text(etree.SubElement(original, _X + "data", id=end), closing)
        equiv = None if value.startswith("<") else _xml_safe(value)
        codes[pid] = _Code(start, end, _code_type(value), equiv)
    return codes


def _pairs(tokens: list[re.Match[str]]) -> tuple[dict[int, int], bool]:
    """Token index -> index of its partner for matched {n}…{/n}; whether any pairs cross."""
    partner: dict[int, int] = {}
    unmatched: dict[str, list[int]] = {}
    for index, token in enumerate(tokens):
        closing, pid = token.groups()
        if not closing:
            unmatched.setdefault(pid, []).append(index)
        elif unmatched.get(pid):
            opening = unmatched[pid].pop()
            partner[opening] = index
            partner[index] = opening
    stack: list[int] = []
    for index in range(len(tokens)):
        if index not in partner:
            continue
        if partner[index] > index:
            stack.append(index)
        elif stack and stack[-1] == partner[index]:
            stack.pop()
        else:
            return partner, True
    return partner, False


def _inline(parent: etree._Element, text: str, codes: dict[str, _Code]) -> None:
    """Fill <source>/<target> from text with {n} placeholders."""
    tokens = list(_TOKEN.finditer(text))
    partner, crossing = _pairs(tokens)
    open_elements = [parent]
    position = 0
    for index, token in enumerate(tokens):
        _append_text(open_elements[-1], text[position : token.start()])
        position = token.end()
        closing, pid = token.groups()
        code = codes.get(pid, _Code(None, None, None, None))
        here = open_elements[-1]
        attrs: dict[str, str] = {}
        if index not in partner:
            if closing:  # a closing token without its opening
                tag = "ec"
                attrs = {"id": pid, "isolated": "yes"}
                if code.end:
                    attrs["dataRef"] = code.end
            else:
                tag = "ph"
                attrs = {"id": pid}
                if code.start:
                    attrs["dataRef"] = code.start
                if code.equiv is not None:
                    attrs["equiv"] = code.equiv
        elif not crossing:
            if closing:
                open_elements.pop()
                continue
            tag = "pc"
            attrs = {"id": pid}
            if code.start and code.end:
                attrs["dataRefStart"] = code.start
                attrs["dataRefEnd"] = code.end
        elif closing:
            tag = "ec"
            attrs = {"startRef": pid}
            if code.end:
                attrs["dataRef"] = code.end
        else:
            tag = "sc"
            attrs = {"id": pid}
            if code.start:
                attrs["dataRef"] = code.start
        if code.type and tag != "ec":
            attrs["type"] = code.type
        element = etree.SubElement(here, _X + tag, attrs)
        if tag == "pc":
            open_elements.append(element)
    _append_text(open_elements[-1], text[position:])


def _indent(element: etree._Element, level: int = 0) -> None:
    """Line breaks and indentation between structural elements only: whitespace inside
    <source>, <target>, <note> and <data> is content."""
    if element.tag not in _STRUCTURAL or not len(element):
        return
    inner = "\n" + "  " * (level + 1)
    element.text = inner
    for child in element:
        child.tail = inner
        _indent(child, level + 1)
    element[-1].tail = "\n" + "  " * level


def export_xliff(units: Sequence[Unit], source_lang: str, target_lang: str) -> bytes:
    """An XLIFF 2.0 document (UTF-8): one <file> per article, one <unit> per segment."""
    _check_units(units, xliff=True)
    root = etree.Element(
        _X + "xliff",
        {"version": "2.0", "srcLang": _bcp47(source_lang), "trgLang": _bcp47(target_lang)},
        nsmap={None: XLIFF_NAMESPACE},
    )
    files: dict[int, etree._Element] = {}
    for unit in units:
        if unit.article_id not in files:
            files[unit.article_id] = etree.SubElement(
                root, _X + "file", {"id": f"article-{unit.article_id}", "canResegment": "no"}
            )
        unit_el = etree.SubElement(files[unit.article_id], _X + "unit", id=unit.key)
        if unit.note.strip() or unit.revision is not None:
            notes = etree.SubElement(unit_el, _X + "notes")
            if unit.note.strip():
                etree.SubElement(notes, _X + "note").text = _xml_safe(unit.note)
            if unit.revision is not None:
                etree.SubElement(notes, _X + "note", {"category": REVISION_NOTE}).text = str(
                    unit.revision
                )
        codes = _original_data(unit_el, unit)
        if unit.target and unit.approved:
            state = "final"
        elif unit.target:
            state = "translated"
        else:
            state = "initial"
        segment = etree.SubElement(unit_el, _X + "segment", state=state)
        _inline(etree.SubElement(segment, _X + "source"), unit.source, codes)
        if unit.target is not None:
            _inline(etree.SubElement(segment, _X + "target"), unit.target, codes)
    _indent(root)
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + etree.tostring(root, encoding="UTF-8") + b"\n"


def _load_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(bytes(data), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ExchangeError(f"not well-formed XML: {exc}") from exc
    if root is None:
        raise ExchangeError("not well-formed XML: no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ExchangeError("XML with a DOCTYPE is not accepted")
    return root


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(XLIFF_SCHEMA), parser))


def _schema_errors(root: etree._Element) -> list[str]:
    with _schema_lock:  # the schema's error log is shared state
        schema = _schema()
        if schema.validate(root):
            return []
        return [f"line {error.line}: {error.message}" for error in schema.error_log]


def validate_xliff(data: bytes) -> list[str]:
    """Errors against the XLIFF 2.0 core schema, [] when valid. XML that is not
    well-formed (or has a DOCTYPE) gives one error describing that."""
    try:
        root = _load_xml(data)
    except ExchangeError as exc:
        return [str(exc)]
    return _schema_errors(root)


def _inline_text(element: etree._Element) -> str:
    """<source>/<target> content back to text with {n} placeholders."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(_X):
            name = tag[len(_X) :]
            if name in {"pc", "ph", "sc"}:
                parts.append(f"{{{child.get('id', '')}}}")
                if name == "pc":
                    parts.append(_inline_text(child))
                    parts.append(f"{{/{child.get('id', '')}}}")
            elif name == "ec":
                parts.append(f"{{/{child.get('startRef') or child.get('id', '')}}}")
            elif name == "mrk":
                parts.append(_inline_text(child))
            elif name == "cp":
                try:
                    code_point = chr(int(child.get("hex", ""), 16))
                except (ValueError, OverflowError):
                    code_point = "\ufffd"
                if _NOT_TEXT.match(code_point):
                    raise _NotText(ord(code_point))
                parts.append(code_point)
            # <sm>/<em> mark annotations, not content.
        parts.append(child.tail or "")
    return "".join(parts)


def _unit_revision(unit_el: etree._Element) -> int | None:
    for note in unit_el.iterfind(f"{_X}notes/{_X}note"):
        if note.get("category") == REVISION_NOTE:
            return _parse_id("".join(note.itertext()).strip())
    return None


def _unit_entry(unit_el: etree._Element, article_id: int | None, file_id: str) -> Entry:
    key = unit_el.get("id")
    sources: list[str] = []
    targets: list[str] = []
    translated = False
    approved = True
    for part in unit_el:
        if part.tag not in (_X + "segment", _X + "ignorable"):
            continue
        source = _inline_text(part.find(_X + "source"))
        target_el = part.find(_X + "target")
        sources.append(source)
        if part.tag == _X + "ignorable":
            # An ignorable without a target stands for itself in the target (whitespace).
            targets.append(source if target_el is None else _inline_text(target_el))
            continue
        targets.append("" if target_el is None else _inline_text(target_el))
        translated = translated or target_el is not None
        approved = approved and part.get("state", "initial") == "final"
    target = "".join(targets) if translated else ""
    return Entry(
        article_id=article_id,
        key=key,
        source="".join(sources),
        target=target,
        approved=approved and bool(target),
        location=f"unit {key} in file {file_id}",
        revision=_unit_revision(unit_el),
        file_id=file_id,
    )


def parse_xliff(data: bytes) -> list[Entry]:
    """Entries of an XLIFF 2.0 document in document order. Raises ExchangeError if the
    bytes are not well-formed XML, not XLIFF 2.0, or not valid against the core schema."""
    root = _load_xml(data)
    name = etree.QName(root)
    if name.localname != "xliff":
        raise ExchangeError(f"not an XLIFF document (root element <{name.localname}>)")
    if name.namespace != XLIFF_NAMESPACE:
        version = root.get("version")
        found = f"XLIFF {version}" if version else f"namespace {name.namespace or '(none)'}"
        raise ExchangeError(f"{found} is not supported: export and import XLIFF 2.0")
    version = root.get("version")
    if version is None:
        raise ExchangeError("not valid XLIFF 2.0: <xliff> has no version attribute")
    if version != "2.0":
        raise ExchangeError(f"XLIFF version {version!r} is not supported: need 2.0")
    errors = _schema_errors(root)
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ExchangeError("not valid XLIFF 2.0: " + "; ".join(errors[:3]) + more)
    entries = []
    for file_el in root.iterchildren(_X + "file"):
        file_id = file_el.get("id", "")
        match = _FILE_ID.fullmatch(file_id)
        article_id = int(match.group(1)) if match else None
        for unit_el in file_el.iter(_X + "unit"):
            try:
                entries.append(_unit_entry(unit_el, article_id, file_id))
            except _NotText as exc:
                where = f"unit {unit_el.get('id')} in file {file_id}"
                raise ExchangeError(f"{where}: {exc}; remove it and import again") from exc
    return entries
