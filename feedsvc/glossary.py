"""Glossary enforcement: terms become placeholders the engine cannot touch, then the
required target term is put in their place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .config import SOURCE_LANGUAGE, Settings
from .domain import FieldError, GlossaryTerm, Invalid
from .store import Store

_PLACEHOLDER = re.compile(r"(?<!\{)\{/?(\d+)\}(?!\})")


@dataclass(frozen=True)
class Protected:
    text: str  # the source with each glossary match replaced by a new placeholder
    replacements: dict[str, str]  # new placeholder → the text that must appear there


def _pattern(term: str) -> re.Pattern[str]:
    start = r"(?<!\w)" if term[:1].isalnum() else ""
    end = r"(?!\w)" if term[-1:].isalnum() else ""
    return re.compile(start + re.escape(term) + end, re.IGNORECASE)


def protect(source: str, terms: Sequence[GlossaryTerm]) -> Protected:
    """Longest terms first, case-insensitive, whole words, never inside a placeholder."""
    next_id = max((int(n) for n in _PLACEHOLDER.findall(source)), default=0) + 1
    replacements: dict[str, str] = {}

    def substitute(text: str, term: GlossaryTerm) -> str:
        def swap(match: re.Match[str]) -> str:
            nonlocal next_id
            marker = f"{{{next_id}}}"
            next_id += 1
            replacements[marker] = match.group() if term.do_not_translate else term.target_term
            return marker

        return _pattern(term.source_term).sub(swap, text)

    text = source
    for term in sorted(terms, key=lambda t: len(t.source_term), reverse=True):
        pieces, position = [], 0
        for match in _PLACEHOLDER.finditer(text):
            pieces += [substitute(text[position : match.start()], term), match.group()]
            position = match.end()
        pieces.append(substitute(text[position:], term))
        text = "".join(pieces)
    return Protected(text, replacements)


def restore(target: str, protected: Protected) -> str:
    for marker, term in protected.replacements.items():
        target = target.replace(marker, term)
    return target


def is_only_terms(protected: Protected) -> bool:
    """Nothing is left for the engine once the terms are out."""
    return not _PLACEHOLDER.sub("", protected.text).strip(" \t.,;:!?-–—\"'()")


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
    if any(_PLACEHOLDER.search(value) for value in (source_term, target_term)):
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
    source_term, target_term = _terms(source_term, source_term if do_not_translate else target_term)
    return store.glossary.update(
        term_id, source_term, target_term, do_not_translate, now or datetime.now(UTC)
    )
