"""What the segment editor shows for one segment, in the reviewer's language.

The editor page and the in-place updates of review.js render the same row (the
``segment_row`` macro of ``review/_segment.html``) from the data built here: placeholders
as labelled chips (never raw HTML), the kind and position of the text, QA issues with
their dismissals, suggestions with a word diff against the current English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lxml.html
from flask_babel import LazyString, lazy_gettext
from flask_babel import gettext as _
from lxml.etree import ParserError

from .. import qa
from ..domain import HistoryEntry, StoredSegment
from ..placeholders import render_token, split_tokens
from ..review import Suggestion, issues, segment_etag, word_diff
from ..segments import Place, attribute_context


def kind_label(kind: str) -> str:
    """The translated name of a segment's kind, shown beside it in the editor."""
    labels = {
        "title": _("Title"),
        "summary": _("Summary"),
        "heading": _("Heading"),
        "paragraph": _("Paragraph"),
        "list_item": _("List item"),
        "table_cell": _("Table cell"),
        "caption": _("Caption"),
        "quote": _("Quotation"),
        "alt": _("Image alt text"),
        "tooltip": _("Tooltip"),
    }
    return labels.get(kind, labels["paragraph"])


def place_of(key: str, places: Mapping[str, Place]) -> Place:
    """Where a segment sits in the article, defaulting to a paragraph for unknown keys."""
    if key in ("title", "summary"):
        return Place(key)
    return places.get(key, Place("paragraph"))


def _element(value: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fragment_fromstring(value)
    except (ParserError, ValueError):
        return None


def _image_address(src: str | None) -> str | None:
    """An image to show beside its alt text: web addresses only."""
    if src and (src.startswith(("https://", "http://")) or src.startswith("/")):
        return src
    return None


def chip(pid: str, value: str) -> dict[str, str]:
    """A placeholder as a translator sees it: a short label and a description for the
    hover; markup is described (element, link target), never shown."""
    if not value.startswith("<"):
        return {"label": value[:12], "title": _("Protected text: %(text)s", text=value)}
    tag = value[1:].split(None, 1)[0].rstrip(">/").lower()
    element = _element(value if "/>" in value or tag in ("br", "img") else value + f"</{tag}>")
    if tag == "a":
        href = element.get("href", "") if element is not None else ""
        return {"label": _("link"), "title": _("Link to %(href)s", href=href or "–")}
    if tag == "img":
        src = element.get("src", "") if element is not None else ""
        return {"label": _("image"), "title": _("Image %(src)s", src=src or "–")}
    if tag == "br":
        return {"label": "↵", "title": _("Line break")}
    if tag == "code":
        text = element.text_content() if element is not None else ""
        return {"label": _("code"), "title": _("Code: %(text)s", text=text[:80])}
    return {"label": tag, "title": _("Formatting (%(tag)s)", tag=tag)}


def source_parts(segment: StoredSegment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The source as text and chips, and the distinct tokens for the insert palette (in
    order of first appearance)."""
    parts: list[dict[str, Any]] = []
    palette: list[dict[str, Any]] = []
    seen: set[str] = set()
    for text, token in split_tokens(segment.source):
        if text:
            parts.append({"text": text})
        if token is None:
            continue
        closing, pid = token
        value = segment.placeholders.get(pid, "")
        described = chip(pid, value)
        role = "close" if closing else ("open" if _paired(segment.source, pid) else "void")
        item = {
            "chip": pid,
            "role": role,
            "token": render_token(pid, closing),
            **described,
        }
        parts.append(item)
        if item["token"] not in seen:
            seen.add(item["token"])
            palette.append(item)
    return parts, palette


def _paired(source: str, pid: str) -> bool:
    return render_token(pid, closing=True) in source


def segment_context(key: str) -> str | None:
    """Where an attribute segment's text appears: its element and attribute."""
    where = attribute_context(key)
    if where is None:
        return None
    element, attribute = where
    if attribute == "alt":
        return _("Text alternative (alt) of an image <%(element)s>", element=element)
    return _("Tooltip (%(attribute)s) of <%(element)s>", attribute=attribute, element=element)


def numbers_message(missing: str | None, extra: str | None) -> str:
    """The QA message for numbers that differ between source and target."""
    if missing and extra:
        return _(
            "Numbers differ: missing %(missing)s, extra %(extra)s.", missing=missing, extra=extra
        )
    if missing:
        return _("Numbers of the source missing: %(missing)s.", missing=missing)
    return _("Numbers the source does not have: %(extra)s.", extra=extra or "–")


class _Params(dict[str, str]):
    """An issue's details for its message template: an absent one reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


# The localized text of each issue code but "numbers" (whose sentence depends on which
# details it has); a template's %(name)s is filled from the issue's params.
_ISSUE_MESSAGES: dict[str, LazyString] = {
    "placeholder_missing": lazy_gettext("Inline tags or placeholders missing: %(ids)s."),
    "placeholder_extra": lazy_gettext(
        "Inline tags or placeholders that the source lacks: %(ids)s."
    ),
    "value_typed": lazy_gettext("Keep the placeholders %(ids)s instead of typing their values."),
    "tag_order": lazy_gettext("Inline tags are nested wrongly."),
    "links": lazy_gettext(
        "URLs or e-mail addresses of the source are missing or changed: %(links)s."
    ),
    "glossary": lazy_gettext("Glossary: “%(term)s” must be translated as “%(expected)s”."),
    "length": lazy_gettext("The translation's length is far from the source's (ratio %(ratio)s)."),
    "untranslated": lazy_gettext("Text seems left untranslated: %(words)s."),
    "whitespace": lazy_gettext("Leading or trailing spaces differ from the source."),
    "not_text": lazy_gettext("The translation holds characters that are not text: %(characters)s."),
    "too_long": lazy_gettext(
        "The translation has %(length)s characters; at most %(limit)s are accepted."
    ),
    "punctuation": lazy_gettext("The final punctuation differs from the source's."),
    "empty": lazy_gettext("The translation is empty."),
}


def qa_message(issue: qa.Issue) -> str:
    """The QA warning in the reviewer's language (codes are stable, texts are localized);
    a code without a localized text falls back to qa's English sentence."""
    if issue.code == "numbers":
        return numbers_message(issue.params.get("missing"), issue.params.get("extra"))
    template = _ISSUE_MESSAGES.get(issue.code)
    if template is None:
        return qa.message(issue)
    # The placeholder messages name their detail "ids" (a msgid the catalogs translate).
    params = _Params(issue.params, ids=issue.params.get("placeholders", ""))
    return str(template) % params


def issue_items(found: Sequence[qa.Issue], dismissed: Sequence[str]) -> list[dict[str, Any]]:
    """QA issues as the editor shows them, with dismissed warnings marked."""
    return [
        {
            "code": issue.code,
            "severity": issue.severity,
            "message": qa_message(issue),
            "dismissed": issue.code in dismissed and issue.severity == "warning",
        }
        for issue in found
    ]


def suggestion_items(segment: StoredSegment, found: Sequence[Suggestion]) -> list[dict[str, Any]]:
    """Memory and glossary suggestions for a segment, each with a diff to its source."""
    items = [
        {
            "kind": s.kind,
            "source": s.source,
            "target": s.target,
            "match": s.match,
            "diff": word_diff(s.source, segment.source),
        }
        for s in found
    ]
    if segment.machine_target and segment.machine_target != segment.target:
        items.append(
            {
                "kind": "machine",
                "source": segment.source,
                "target": segment.machine_target,
                "match": 100,
                "diff": [("same", segment.source)],
            }
        )
    return items


def build_row(
    segment: StoredSegment,
    *,
    number: int,
    total: int,
    lang: str,
    terms: Sequence[qa.Term],
    places: Mapping[str, Place],
    suggestions: Sequence[Suggestion] = (),
    history: Sequence[HistoryEntry] = (),
    base: StoredSegment | None = None,
    typed: str | None = None,
    error: Sequence[str] = (),
    conflict: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the editor shows for one segment, shared by the page and its JSON answers."""
    place = place_of(segment.key, places)
    parts, palette = source_parts(segment)
    found = issues(segment, segment.target, terms, lang) if segment.target else []
    excerpt = segment.source if len(segment.source) <= 60 else segment.source[:59] + "…"
    return {
        "segment": segment,
        "etag": segment_etag(segment),
        "typed": segment.target or "" if typed is None else typed,
        "error": list(error),
        "conflict": conflict,
        "issues": issue_items(found, segment.dismissed),
        "kind": kind_label(place.kind),
        "kind_code": place.kind,
        "context": segment_context(segment.key),
        "position": _("Segment %(number)d of %(total)d", number=number, total=total),
        "label": _("Translation of segment %(number)d: %(source)s", number=number, source=excerpt),
        "image": _image_address(place.image),
        "source_parts": parts,
        "chips": palette,
        "source_diff": (
            word_diff(segment.previous_source, segment.source)
            if segment.previous_source is not None
            else None
        ),
        "terms": qa.glossary_hits(segment.source, terms),
        "suggestions": suggestion_items(segment, suggestions),
        "history": list(history),
        "base": base,
    }
