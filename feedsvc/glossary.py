"""Glossary enforcement: terms become placeholders the engine cannot touch, then the
required target term is put in their place."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .config import SOURCE_LANGUAGE, Settings
from .domain import FieldError, GlossaryTerm, Invalid
from .placeholders import LONE_TOKEN, TOKEN, highest_id, render_token, strip_tokens

if TYPE_CHECKING:
    from .store import Store

# --- matching ------------------------------------------------------------------------
#
# One matcher for the engine's protection and the review's checks, so a term QA reports
# is a term the engine kept. The rules: whole words where a term begins or ends with a
# letter or digit of a script that spaces its words (Latin, Cyrillic…); no boundary next
# to CJK characters, which have no spaces between words; any whitespace between a term's
# words (a non-breaking space too); case-insensitive for the English source terms.

_CJK = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_WORD_CHAR = re.compile(rf"[^\W_{_CJK}]")  # where a "whole word" ends: not CJK


class Term(Protocol):
    """What matching needs of a glossary entry (a stored term or QA's light copy)."""

    @property
    def source_term(self) -> str:
        """The English words to find in a source."""
        ...

    @property
    def target_term(self) -> str:
        """What the target language must say for them."""
        ...

    @property
    def do_not_translate(self) -> bool:
        """Whether the source's own words must stay as written."""
        ...


T = TypeVar("T", bound=Term)


@dataclass(frozen=True)
class TermMatch(Generic[T]):
    """One occurrence of a term in a source text, as written there."""

    term: T
    text: str
    start: int
    end: int


@functools.lru_cache(maxsize=4096)
def _term_pattern(term: str, ignore_case: bool) -> re.Pattern[str]:
    """The term with any spacing between its words; boundaries are checked by find_term."""
    body = r"\s+".join(re.escape(word) for word in term.split())
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def find_term(term: str, text: str, ignore_case: bool = True) -> Iterator[re.Match[str]]:
    """Whole-word matches of ``term`` in ``text`` by the rules above.

    The boundary is checked here rather than in the pattern: a lookaround with that
    character class makes each of a large glossary's patterns slow to compile."""
    pattern = _term_pattern(term, ignore_case)
    check_start = bool(_WORD_CHAR.fullmatch(term.strip()[0]))
    check_end = bool(_WORD_CHAR.fullmatch(term.strip()[-1]))
    position = 0
    while match := pattern.search(text, position):
        start, end = match.span()
        if (check_start and start > 0 and _WORD_CHAR.fullmatch(text[start - 1])) or (
            check_end and end < len(text) and _WORD_CHAR.fullmatch(text[end])
        ):
            position = start + 1
            continue
        yield match
        position = max(end, start + 1)


def _matches_by_length(source: str, terms: Sequence[T]) -> list[TermMatch[T]]:
    """Longest terms first, each in text order; a span taken by one term is not matched
    again by a shorter one, and no match reaches into a placeholder token."""
    pieces, position = [], 0
    for token in TOKEN.finditer(source):
        pieces.append((position, source[position : token.start()]))
        position = token.end()
    pieces.append((position, source[position:]))
    found: list[TermMatch[T]] = []
    for term in sorted(terms, key=lambda t: len(t.source_term.strip()), reverse=True):
        if not term.source_term.strip():
            continue
        for offset, piece in pieces:
            for match in find_term(term.source_term, piece):
                start, end = offset + match.start(), offset + match.end()
                if any(start < other.end and other.start < end for other in found):
                    continue
                found.append(TermMatch(term, match.group(), start, end))
    return found


def term_matches(source: str, terms: Sequence[T]) -> list[TermMatch[T]]:
    """The glossary's terms in a segment's source, in text order."""
    return sorted(_matches_by_length(source, terms), key=lambda match: match.start)


# --- protection ----------------------------------------------------------------------


@dataclass(frozen=True)
class Protected:
    """A source whose terms the engine must not translate, and what goes back for them."""

    text: str  # the source with each glossary match replaced by a new placeholder
    replacements: dict[str, str]  # new placeholder → the text that must appear there


def protect(source: str, terms: Sequence[Term]) -> Protected:
    """Each term match becomes a new placeholder the engine moves but cannot change."""
    next_id = highest_id([source], TOKEN) + 1
    matches = _matches_by_length(source, terms)  # numbered in this order, longest first
    markers = [render_token(next_id + number) for number in range(len(matches))]
    replacements = {
        marker: match.text if match.term.do_not_translate else match.term.target_term
        for marker, match in zip(markers, matches, strict=True)
    }
    pieces, position = [], 0
    for marker, match in sorted(zip(markers, matches, strict=True), key=lambda m: m[1].start):
        pieces += [source[position : match.start], marker]
        position = match.end
    pieces.append(source[position:])
    return Protected("".join(pieces), replacements)


def restore(target: str, protected: Protected) -> str:
    """The engine's output with each term placeholder replaced by the required term."""
    for marker, term in protected.replacements.items():
        target = target.replace(marker, term)
    return target


def is_only_terms(protected: Protected) -> bool:
    """Nothing is left for the engine once the terms are out."""
    return not strip_tokens(protected.text, pattern=LONE_TOKEN).strip(" \t.,;:!?-–—\"'()")


# -- editing ---------------------------------------------------------------------


def _target_language(settings: Settings, lang: str) -> str:
    language = settings.language(lang)
    if language is None or language.tag == SOURCE_LANGUAGE:
        raise Invalid([FieldError("/lang", f"{lang!r} is not a configured target language")])
    return language.tag


def _terms(source_term: str, target_term: str) -> tuple[str, str]:
    source_term, target_term = " ".join(source_term.split()), " ".join(target_term.split())
    errors = [
        FieldError(f"/{name}", "must not be empty")
        for name, value in (("source_term", source_term), ("target_term", target_term))
        if not value
    ]
    if any(LONE_TOKEN.search(value) for value in (source_term, target_term)):
        errors.append(FieldError("/source_term", "must not contain placeholders like {1}"))
    if errors:
        raise Invalid(errors)
    return source_term, target_term


def add_term(
    store: Store,
    settings: Settings,
    lang: str,
    source_term: str,
    target_term: str,
    do_not_translate: bool,
    now: datetime | None = None,
) -> GlossaryTerm:
    """A new term for one target language; the engine and QA use it from the next job."""
    target_lang = _target_language(settings, lang)
    source_term, target_term = _terms(source_term, source_term if do_not_translate else target_term)
    return store.glossary.add(
        SOURCE_LANGUAGE,
        target_lang,
        source_term,
        target_term,
        do_not_translate,
        now or datetime.now(UTC),
    )


def update_term(
    store: Store,
    term_id: int,
    source_term: str,
    target_term: str,
    do_not_translate: bool,
    now: datetime | None = None,
) -> GlossaryTerm:
    """A corrected term; segments already translated keep their text until re-run."""
    source_term, target_term = _terms(source_term, source_term if do_not_translate else target_term)
    return store.glossary.update(
        term_id, source_term, target_term, do_not_translate, now or datetime.now(UTC)
    )
