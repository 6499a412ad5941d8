"""Gettext PO files: one message per unit, written and read with Babel.

The identity is ``msgctxt "article/{id}/{key}"``, the revision an extracted comment
``#. feedsvc-revision: 7``, approval a non-empty ``msgstr`` without ``fuzzy``; placeholders
stay in the text, with what each stands for in an extracted comment."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po

from ..placeholders import ids_in_order, paired_ids, render_token
from .units import ExchangeError, ImportedUnit, Unit, check_units, closing_markup, parse_id

try:
    _VERSION = metadata.version("feedsvc")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    _VERSION = "0"

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
    paired = paired_ids(unit.source)
    order = ids_in_order(unit.source) + list(unit.placeholders)
    lines = []
    for pid in dict.fromkeys(order):
        value = unit.placeholders.get(pid)
        if value is None:
            continue
        line = f"{render_token(pid)} = {value}"
        closing = closing_markup(value) if pid in paired else None
        if closing:
            line += f", {render_token(pid, closing=True)} = {closing}"
        lines.append(_one_line(line))
    return lines


def export_po(units: Sequence[Unit], source_lang: str, target_lang: str) -> bytes:
    """A gettext PO file (UTF-8) with one message per unit."""
    check_units(units, xliff=False)
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


def _po_identity(context: str | None) -> tuple[int | None, str | None]:
    match = _PO_CONTEXT.fullmatch(context or "")
    if not match:
        return None, None
    return parse_id(match.group(1)), match.group(2)


def _po_revision(message: Message) -> int | None:
    for comment in message.auto_comments:
        match = _PO_REVISION.fullmatch(comment.strip())
        if match:
            return parse_id(match.group(1))
    return None


def _first(value: str | Sequence[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value[0] if value else ""


def parse_po(data: bytes) -> list[ImportedUnit]:
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
            ImportedUnit(
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


def _one_line(text: str) -> str:
    return " ".join(text.split())
