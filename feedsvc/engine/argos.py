"""The Argos Translate engine: an installed package's CTranslate2 model and tokenizer."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import NoModel, Translated
from .packages import InstalledPackage, Packages, argos_package_module

# A placeholder the segmenter made: {1}, {/1}; never the escaped braces {{ or }}.
PLACEHOLDER = re.compile(r"(?<!\{)\{/?\d+\}(?!\})")


@dataclass(frozen=True)
class EngineOptions:
    device: str = "cpu"  # or "cuda"
    compute_type: str = "auto"
    threads: int = 0  # CTranslate2 intra_threads; 0 lets it choose
    beam_size: int = 4
    max_batch_tokens: int = 2048
    max_decoding_length: int = 256


def split_runs(source: str) -> list[tuple[bool, str]]:
    """(is_text, piece) runs: placeholders stay out of the model, text between them goes in.

    Translating the runs between inline tags separately keeps every tag exactly where the
    source had it; a reviewer mends word order across tags where a language needs it."""
    runs: list[tuple[bool, str]] = []
    position = 0
    for match in PLACEHOLDER.finditer(source):
        if match.start() > position:
            runs.append((True, source[position : match.start()]))
        runs.append((False, match.group()))
        position = match.end()
    if position < len(source):
        runs.append((True, source[position:]))
    return runs


class ArgosTranslator:
    """One package's model, loaded on first use and shared by every thread of the process."""

    def __init__(
        self, package: InstalledPackage, packages: Packages, options: EngineOptions
    ) -> None:
        self.package = package
        self.packages = packages
        self.options = options
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def name(self) -> str:
        return self.package.label

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                import ctranslate2

                argos = argos_package_module(self.packages.dir)
                self._tokenizer = argos.Package(self.package.path).tokenizer
                self._model = ctranslate2.Translator(
                    str(self.package.path / "model"),
                    device=self.options.device,
                    compute_type=self.options.compute_type,
                    intra_threads=self.options.threads,
                )
            return self._model, self._tokenizer

    def translate(self, sources: Sequence[str]) -> list[Translated]:
        model, tokenizer = self._load()
        runs = [split_runs(source) for source in sources]
        texts = [
            piece.strip()
            for source_runs in runs
            for is_text, piece in source_runs
            if is_text and piece.strip()
        ]
        results = (
            model.translate_batch(
                [tokenizer.encode(text) for text in texts],
                beam_size=self.options.beam_size,
                max_batch_size=self.options.max_batch_tokens,
                batch_type="tokens",
                max_decoding_length=self.options.max_decoding_length,
                return_scores=True,
            )
            if texts
            else []
        )
        outputs = iter(
            (tokenizer.decode(result.hypotheses[0]), result.scores[0]) for result in results
        )
        translated = []
        for source_runs in runs:
            pieces, scores = [], []
            for is_text, piece in source_runs:
                if not is_text or not piece.strip():
                    pieces.append(piece)
                    continue
                text, log_prob = next(outputs)
                scores.append(math.exp(log_prob))  # length-normalized log-probability
                lead = piece[: len(piece) - len(piece.lstrip())]
                trail = piece[len(piece.rstrip()) :]
                pieces.append(lead + text.strip() + trail)
            score = sum(scores) / len(scores) if scores else 1.0
            translated.append(Translated("".join(pieces), round(min(score, 1.0), 4)))
        return translated


class Engines:
    """Translators by language pair, loaded lazily, once per process."""

    def __init__(self, packages: Packages, options: EngineOptions) -> None:
        self.packages = packages
        self.options = options
        self._loaded: dict[tuple[str, str, str], ArgosTranslator] = {}
        self._lock = threading.Lock()

    def translator(self, source_tag: str, target_tag: str) -> ArgosTranslator:
        package = self.packages.find(source_tag, target_tag)
        if package is None:
            raise NoModel(source_tag, target_tag)
        key = (package.name, package.version, str(package.path))
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = ArgosTranslator(package, self.packages, self.options)
            return self._loaded[key]
