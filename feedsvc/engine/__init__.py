"""Machine translation behind a small interface. Only this package imports argostranslate
or ctranslate2, and never ``argostranslate.translate`` (it pulls stanza and PyTorch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Translated:
    """One engine output and its confidence, so the review queue can put doubtful text first."""

    text: str
    score: float  # 0..1, the model's confidence; the review queue sorts by it


@dataclass(frozen=True)
class Term:
    """A glossary entry the engine must honour: where ``source`` occurs (case-insensitive,
    whole words, longest first) the target says ``target``; a do-not-translate term keeps
    the source's own spelling instead. The model still reads the term in its sentence."""

    source: str
    target: str
    do_not_translate: bool = False


class Translator(Protocol):
    """A batch of source segments in, the same number of target segments out.

    Segments carry placeholders (``{1}…{/1}``, ``{2}``) that must come back unchanged, each
    exactly once; ``terms`` are enforced in every segment where they occur."""

    @property
    def name(self) -> str:
        """The engine and version that made the text, e.g. ``argos translate-en_zh 1.9``."""
        ...

    def translate(self, sources: Sequence[str], terms: Sequence[Term] = ()) -> list[Translated]:
        """Translates a batch in one call (models are fast per batch), one result per source."""
        ...


class NoModel(Exception):
    """No installed package translates this language pair (yet)."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(
            f"no Argos Translate package for {source} → {target} is installed; "
            f"install one with: feedsvc models install {source} {target}"
        )
        self.source = source
        self.target = target
