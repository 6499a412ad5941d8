"""The Argos Translate engine: an installed package's CTranslate2 model and tokenizer.

Each sentence goes to the model whole, without its inline tags; the tags and glossary
terms are put back by the alignment the model's attention gives (see ``projection``)."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import NoModel, Term, Translated
from .packages import InstalledPackage, Packages, argos_package_module
from .projection import (
    Span,
    TermSpan,
    alignment,
    detag,
    find_terms,
    piece_offsets,
    project,
    spaced,
    term_spans,
    token_spans,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineOptions:
    """CTranslate2 settings from configuration, shared by every loaded model."""

    device: str = "cpu"  # or "cuda"
    compute_type: str = "auto"
    threads: int = 0  # CTranslate2 intra_threads; 0 lets it choose
    # CTranslate2 inter_threads: batches of one call translated in parallel. With the
    # sentences of a whole job in one call, 1 intra × 2 inter uses both cores of a small
    # machine best (benchmarks/engine_throughput.py).
    inter_threads: int = 1
    beam_size: int = 4
    max_batch_tokens: int = 2048
    max_decoding_length: int = 256


class UnsupportedPackage(Exception):
    """A package this engine cannot project tags with (no SentencePiece model)."""


@dataclass(frozen=True)
class Prepared:
    """One source sentence as the model will read it, and what to put back afterwards."""

    source: str
    pieces: list[str]  # empty: nothing for the model (a source of tags alone)
    spans: list[Span]
    terms: list[TermSpan]


class ArgosTranslator:
    """One package's model, loaded on first use and shared by every thread of the process."""

    def __init__(
        self, package: InstalledPackage, packages: Packages, options: EngineOptions
    ) -> None:
        self.package = package
        self.packages = packages
        self.options = options
        self.spaced = spaced(package.to_code)
        self._lock = threading.Lock()
        self._model: Any = None
        self._processor: Any = None
        self._offset_mapping = True  # sentencepiece >= 0.2.1 gives offsets itself
        self._leading = 0  # attention columns before the source tokens (<s>)

    @property
    def name(self) -> str:
        """The package label and version, stored with each machine translation."""
        return self.package.label

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                import ctranslate2

                argos = argos_package_module(self.packages.dir)
                tokenizer = argos.Package(self.package.path).tokenizer
                if not hasattr(tokenizer, "lazy_processor"):
                    raise UnsupportedPackage(
                        f"{self.package.label} has no SentencePiece model; inline tags "
                        "are placed by SentencePiece offsets: install a newer package"
                    )
                processor = tokenizer.lazy_processor()
                try:
                    processor.encode("a", out_type="offset_mapping")
                except (ValueError, TypeError):
                    self._offset_mapping = False
                config = self.package.path / "model" / "config.json"
                if config.exists():
                    settings = json.loads(config.read_text(encoding="utf-8"))
                    self._leading = 1 if settings.get("add_source_bos") else 0
                self._model = ctranslate2.Translator(
                    str(self.package.path / "model"),
                    device=self.options.device,
                    compute_type=self.options.compute_type,
                    intra_threads=self.options.threads,
                    inter_threads=self.options.inter_threads,
                )
                self._processor = processor
            return self._model, self._processor

    def _pieces(self, processor: Any, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """SentencePiece pieces and their character offsets in ``text``."""
        if self._offset_mapping:
            encoded = processor.encode(text, out_type="offset_mapping")
            return list(encoded["pieces"]), [(b, e) for b, e in encoded["offsets"]]
        pieces = processor.encode(text, out_type=str)
        return pieces, piece_offsets(text, pieces)

    def prepare(self, source: str, terms: Sequence[Term] = ()) -> Prepared:
        """Detag ``source`` and tokenize the sentence; tags and terms over its tokens."""
        _, processor = self._load()
        detagged = detag(source)
        if not detagged.text.strip():
            return Prepared(source, [], [], [])
        pieces, offsets = self._pieces(processor, detagged.text)
        matches = find_terms(detagged, terms)
        return Prepared(
            source,
            pieces,
            token_spans(detagged, pieces, offsets),
            term_spans(detagged, matches, pieces, offsets),
        )

    def translate(self, sources: Sequence[str], terms: Sequence[Term] = ()) -> list[Translated]:
        """One model input per sentence with text, all in one call batched by tokens."""
        model, _ = self._load()
        prepared = [self.prepare(source, terms) for source in sources]
        inputs = [p.pieces for p in prepared if p.pieces]
        results = iter(
            model.translate_batch(
                inputs,
                beam_size=self.options.beam_size,
                max_batch_size=self.options.max_batch_tokens,
                batch_type="tokens",
                max_decoding_length=self.options.max_decoding_length,
                return_scores=True,
                return_attention=True,
            )
            if inputs
            else []
        )
        log.debug(
            "engine batch package=%s sentences=%d tokens=%d",
            self.package.name,
            len(inputs),
            sum(len(pieces) for pieces in inputs),
        )
        translated = []
        for sentence in prepared:
            if not sentence.pieces:
                translated.append(Translated(sentence.source, 1.0))
                continue
            result = next(results)
            text = self.project(sentence, result.hypotheses[0], result.attention[0])
            score = math.exp(result.scores[0])  # length-normalized log-probability
            translated.append(Translated(text, round(min(score, 1.0), 4)))
        return translated

    def project(
        self, sentence: Prepared, target: Sequence[str], attention: Sequence[Sequence[float]]
    ) -> str:
        """The model's target pieces with the sentence's tags and terms put back."""
        aligned = alignment(attention, sentence.pieces, len(target), self._leading)
        return project(
            sentence.pieces,
            sentence.spans,
            target,
            aligned,
            spaced_target=self.spaced,
            terms=sentence.terms,
        )


class Engines:
    """Translators by language pair, loaded lazily, once per process."""

    def __init__(self, packages: Packages, options: EngineOptions) -> None:
        self.packages = packages
        self.options = options
        self._loaded: dict[tuple[str, str, str], ArgosTranslator] = {}
        self._lock = threading.Lock()

    def translator(self, source_tag: str, target_tag: str) -> ArgosTranslator:
        """The translator for a language pair; NoModel when none is installed."""
        package = self.packages.find(source_tag, target_tag)
        if package is None:
            raise NoModel(source_tag, target_tag)
        key = (package.name, package.version, str(package.path))
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = ArgosTranslator(package, self.packages, self.options)
            return self._loaded[key]
