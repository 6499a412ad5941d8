"""What both exchange formats carry: the units offered for translation and read back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


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
class ImportedUnit:
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


_TAG_NAME = re.compile(r"<([^\s/>]+)")
_NMTOKEN = re.compile(r"[\w.:\-\u00b7\u0300-\u036f\u203f-\u2040]+")


def check_units(units: Sequence[Unit], *, xliff: bool) -> None:
    """No unit twice, and each one the format can carry: the file must read back to them."""
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


def closing_markup(value: str) -> str | None:
    """``</name>`` for an opening tag, None for protected text."""
    if not value.startswith("<"):
        return None
    name = tag_name(value)
    return f"</{name}>" if name else None


def tag_name(markup: str) -> str | None:
    """The element name of an opening tag (``<a href="…">``: ``a``), None if none."""
    match = _TAG_NAME.match(markup)
    return match.group(1) if match else None


def parse_id(text: str) -> int | None:
    """An id written in a file, or None: a tool may have changed it into anything."""
    return int(text) if text.isascii() and text.isdigit() else None
