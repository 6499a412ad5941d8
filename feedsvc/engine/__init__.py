"""Machine translation behind a small interface. Only this package imports argostranslate
or ctranslate2, and never ``argostranslate.translate`` (it pulls stanza and PyTorch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Translated:
    text: str
    score: float  # 0..1, the model's confidence; the review queue sorts by it


class Translator(Protocol):
    """A batch of source segments in, the same number of target segments out.

    Segments carry placeholders (``{1}…{/1}``, ``{2}``) that must come back unchanged."""

    @property
    def name(self) -> str:
        """The engine and version that made the text, e.g. ``argos translate-en_zh 1.9``."""
        ...

    def translate(self, sources: Sequence[str]) -> list[Translated]: ...


class NoModel(Exception):
    """No installed package translates this language pair (yet)."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(
            f"no Argos Translate package for {source} → {target} is installed; "
            f"install one with: feedsvc models install {source} {target}"
        )
        self.source = source
        self.target = target
