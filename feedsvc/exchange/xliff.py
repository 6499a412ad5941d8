"""XLIFF 2.0 documents: one ``<file>`` per article, one ``<unit>`` per segment.

Placeholders become inline codes (``<pc>``, ``<ph>``, ``<sc>``/``<ec>``) with the original
markup in ``<originalData>``; reading accepts what CAT tools write back (groups, several
segments, ignorables, ``<mrk>``) and refuses a DOCTYPE and anything but XLIFF 2.0."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from ..placeholders import TOKEN, ids_in_order, paired_ids, render_token
from .units import (
    ExchangeError,
    ImportedUnit,
    Unit,
    check_units,
    closing_markup,
    parse_id,
    tag_name,
)

XLIFF_NAMESPACE = "urn:oasis:names:tc:xliff:document:2.0"
XLIFF_SCHEMA = Path(__file__).resolve().parent.parent / "schemas_xliff" / "xliff_core_2.0.xsd"
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
    name = (tag_name(value) or "").lower()
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
    paired = paired_ids(*texts)
    codes: dict[str, _Code] = {}
    original = None
    for pid in ids_in_order(*texts):
        value = unit.placeholders.get(pid)
        if value is None:
            continue
        if original is None:
            original = etree.SubElement(unit_el, _X + "originalData")
        start = f"d{pid}"
        _append_text(etree.SubElement(original, _X + "data", id=start), value)
        end = None
        closing = closing_markup(value) if pid in paired else None
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


def _code_element(
    pid: str, closing: bool, code: _Code, paired: bool, crossing: bool
) -> tuple[str, dict[str, str]]:
    """The inline element standing for one token, and its attributes in written order."""
    attrs: dict[str, str]
    if not paired:  # a standalone token, or a closing one without its opening
        tag, attrs = ("ec", {"id": pid, "isolated": "yes"}) if closing else ("ph", {"id": pid})
    elif not crossing:
        tag, attrs = "pc", {"id": pid}
        if code.start and code.end:
            attrs |= {"dataRefStart": code.start, "dataRefEnd": code.end}
    else:
        tag, attrs = ("ec", {"startRef": pid}) if closing else ("sc", {"id": pid})
    reference = code.end if tag == "ec" else code.start
    if reference and tag != "pc":
        attrs["dataRef"] = reference
    if tag == "ph" and code.equiv is not None:
        attrs["equiv"] = code.equiv
    if code.type and tag != "ec":
        attrs["type"] = code.type
    return tag, attrs


def _inline(parent: etree._Element, text: str, codes: dict[str, _Code]) -> None:
    """Fill <source>/<target> from text with {n} placeholders."""
    tokens = list(TOKEN.finditer(text))
    partner, crossing = _pairs(tokens)
    open_elements = [parent]
    position = 0
    for index, token in enumerate(tokens):
        _append_text(open_elements[-1], text[position : token.start()])
        position = token.end()
        closing, pid = token.groups()
        paired = index in partner
        if paired and not crossing and closing:
            open_elements.pop()
            continue
        code = codes.get(pid, _Code(None, None, None, None))
        tag, attrs = _code_element(pid, bool(closing), code, paired, crossing)
        element = etree.SubElement(open_elements[-1], _X + tag, attrs)
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
    check_units(units, xliff=True)
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
                parts.append(render_token(child.get("id", "")))
                if name == "pc":
                    parts.append(_inline_text(child))
                    parts.append(render_token(child.get("id", ""), closing=True))
            elif name == "ec":
                pid = child.get("startRef") or child.get("id") or ""
                parts.append(render_token(pid, closing=True))
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
            return parse_id("".join(note.itertext()).strip())
    return None


def _unit_entry(unit_el: etree._Element, article_id: int | None, file_id: str) -> ImportedUnit:
    key = unit_el.get("id")
    sources: list[str] = []
    targets: list[str] = []
    translated = False
    approved = True
    for part in unit_el:
        if part.tag not in (_X + "segment", _X + "ignorable"):
            continue
        source_el = part.find(_X + "source")  # the schema requires one
        source = "" if source_el is None else _inline_text(source_el)
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
    return ImportedUnit(
        article_id=article_id,
        key=key,
        source="".join(sources),
        target=target,
        approved=approved and bool(target),
        location=f"unit {key} in file {file_id}",
        revision=_unit_revision(unit_el),
        file_id=file_id,
    )


def parse_xliff(data: bytes) -> list[ImportedUnit]:
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
