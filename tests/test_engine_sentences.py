"""Whole sentences through the real engine (the tiny genuine Argos package): one model input
per sentence, tags put back by the attention CTranslate2 returns."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import sentencepiece as spm

from feedsvc.engine import Term
from feedsvc.engine.argos import ArgosTranslator, EngineOptions, Engines
from feedsvc.engine.packages import Packages
from feedsvc.engine.projection import (
    alignment,
    decode,
    detag,
    piece_offsets,
    project,
)
from feedsvc.placeholders import placeholder_ids
from feedsvc.segments import reassemble
from feedsvc.translation import cut
from tests.argos_fixture import build_argos_package

DEMO = Path(__file__).parent.parent / "feedsvc" / "demo" / "content.json"

SENTENCES = [
    "GUANGZHOU, Feb. 19 (Nanfang Plus) -- The Guangzhou Development District opened a "
    "robotics park on Monday.",
    "It covers 56.39 sq km and cost 3.2 billion yuan.",
    'Officials said the {1}park{/1} will host {2}120 companies{/2}. "We are ready," said Dr. Fang.',
    "{1}The {2}new{/2} bridge{/1} opened{3} at 9:30 a.m. on {4}Monday{/4}.",
    "Write {1}name{2} to {3} and see https://gdd.example.org/park or a@b.example.",
]


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    root = tmp_path_factory.mktemp("engine-sentences")
    packages = Packages(root / "packages")
    packages.install_file(build_argos_package(root, "en", "zh", "1.0"))
    return packages


@pytest.fixture
def translator(packages: Packages) -> ArgosTranslator:
    """A fresh translator (its own model) so a test may wrap the model."""
    return ArgosTranslator(
        Engines(packages, EngineOptions()).packages.find("en", "zh-Hans"),  # type: ignore[arg-type]
        packages,
        EngineOptions(beam_size=2),
    )


@pytest.fixture
def processor(packages: Packages) -> spm.SentencePieceProcessor:
    package = packages.find("en", "zh-Hans")
    assert package is not None
    return spm.SentencePieceProcessor(model_file=str(package.path / "sentencepiece.model"))


@dataclass
class Call:
    inputs: list[list[str]]
    options: dict[str, Any]
    results: list[Any]


class CountingModel:
    """The real CTranslate2 translator, recording each translate_batch call; ``attention``
    may replace the attention it returns (one matrix per input)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls: list[Call] = []
        self.attention: list[list[list[float]]] | None = None

    def translate_batch(self, inputs: list[list[str]], **options: Any) -> list[Any]:
        results = self.model.translate_batch(inputs, **options)
        if self.attention is not None:
            results = [
                Result(r.hypotheses, r.scores, [attention])
                for r, attention in zip(results, self.attention, strict=True)
            ]
        self.calls.append(Call([list(i) for i in inputs], options, list(results)))
        return results


@dataclass
class Result:
    hypotheses: list[list[str]]
    scores: list[float]
    attention: list[list[list[float]]]


def counting(translator: ArgosTranslator) -> CountingModel:
    translator._load()
    wrapper = CountingModel(translator._model)
    translator._model = wrapper
    return wrapper


def well_nested(text: str, paired: set[str]) -> bool:
    stack: list[str] = []
    for token in placeholder_ids(text):
        pid = token.lstrip("/")
        if pid not in paired:
            continue
        if token.startswith("/"):
            if not stack or stack.pop() != pid:
                return False
        else:
            stack.append(pid)
    return not stack


def assert_placeholders_kept(source: str, target: str) -> None:
    assert Counter(placeholder_ids(target)) == Counter(placeholder_ids(source)), (source, target)
    paired = {token[1:] for token in placeholder_ids(source) if token.startswith("/")}
    assert well_nested(target, paired), (source, target)


# --- (a) one whole sentence per model input ------------------------------------------------


def test_each_sentence_is_one_model_input_whatever_its_tags(
    translator: ArgosTranslator, processor: spm.SentencePieceProcessor
) -> None:
    model = counting(translator)
    sources = SENTENCES + ["{1}", "{1}{2}{/1}"]  # the last two have no text
    out = translator.translate(sources)
    assert len(out) == len(sources)
    (call,) = model.calls
    assert len(call.inputs) == len(SENTENCES)
    for source, pieces in zip(SENTENCES, call.inputs, strict=True):
        whole = detag(source).text
        assert pieces == processor.encode(whole, out_type=str), "the whole sentence's tokens"
        assert decode(pieces) == whole
    assert call.options["return_attention"] is True and call.options["return_scores"] is True
    assert call.options["batch_type"] == "tokens"
    assert call.options["max_batch_size"] == translator.options.max_batch_tokens
    assert [o.text for o in out[-2:]] == ["{1}", "{1}{2}{/1}"] and out[-1].score == 1.0
    for source, translated in zip(sources, out, strict=True):
        assert_placeholders_kept(source, translated.text)
        assert 0 < translated.score <= 1
    assert not {"argostranslate.translate", "stanza", "torch"} & set(sys.modules)


def test_no_call_at_all_without_text(translator: ArgosTranslator) -> None:
    model = counting(translator)
    assert [o.text for o in translator.translate(["{1}", "{2}{3}"])] == ["{1}", "{2}{3}"]
    assert translator.translate([]) == []
    assert model.calls == []


def test_a_glossary_term_is_read_by_the_model_and_replaced_in_its_output(
    translator: ArgosTranslator,
) -> None:
    model = counting(translator)
    source = "The {1}Guangzhou Development District{/1} opened a park on Monday."
    terms = [Term("guangzhou development district", "广州开发区"), Term("Monday", "星期一")]
    (out,) = translator.translate([source], terms)
    assert "Guangzhou Development District" in decode(model.calls[0].inputs[0])
    assert out.text.count("广州开发区") == 1 and out.text.count("星期一") == 1
    inside = out.text[out.text.index("{1}") : out.text.index("{/1}")]
    assert "广州开发区" in inside, "the term stays inside the tag around it"
    assert_placeholders_kept(source, out.text)


# --- (b) the demo content -------------------------------------------------------------------


EXTRA_BODIES = [
    '<p>The <a href="https://a.example/x"><strong>new</strong> bridge</a> opened<br>'
    'today, <em>says <img src="a.png" alt="">Li</em>. Run <code>make all</code> now.</p>',
    "<p>See <a href='https://b.example'><img src='b.png' alt='map'></a> and "
    "<strong>1,200</strong> <em>firms</em><strong>.</strong></p>",
]


def demo_articles() -> Iterator[tuple[str, str | None, str]]:
    content = json.loads(DEMO.read_text(encoding="utf-8"))
    for article in content["articles"]:
        yield article["title"], article.get("summary"), article["body_html"]
    for body in EXTRA_BODIES:
        yield "Extra", None, body


def tag_counts(html: str) -> Counter[str]:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return Counter(el.tag for el in root.iter() if isinstance(el.tag, str))


def test_every_demo_segment_keeps_its_placeholders_and_its_html(
    translator: ArgosTranslator,
) -> None:
    checked = 0
    for title, summary, body_html in demo_articles():
        pieces = cut(title, summary, body_html)
        sources = [segment.source for segment in pieces.segments]
        out = translator.translate(sources)
        targets = {}
        for segment, translated in zip(pieces.segments, out, strict=True):
            assert_placeholders_kept(segment.source, translated.text)
            targets[segment.key] = translated.text
            checked += bool(placeholder_ids(segment.source))
        html = reassemble(pieces.body, targets)
        assert tag_counts(html) == tag_counts(body_html), (body_html, html)
    assert checked >= 25, "the demo content has tagged sentences to check"


# --- (c) the attention decides where tags go -----------------------------------------------


def test_the_output_is_the_projection_of_the_attention_the_model_returned(
    translator: ArgosTranslator,
) -> None:
    model = counting(translator)
    out = translator.translate(SENTENCES)
    (call,) = model.calls
    for source, result, translated in zip(SENTENCES, call.results, out, strict=True):
        prepared = translator.prepare(source)
        target = result.hypotheses[0]
        aligned = alignment(result.attention[0], prepared.pieces, len(target))
        assert len(result.attention[0]) == len(target), "no row for </s>"
        assert len(result.attention[0][0]) == len(prepared.pieces), "no column for </s>"
        expected = project(prepared.pieces, prepared.spans, target, aligned, spaced_target=False)
        assert translated.text == expected


def one_hot(rows: int, columns: int, column_of: Sequence[int]) -> list[list[float]]:
    return [[1.0 if c == column_of[r] else 0.0 for c in range(columns)] for r in range(rows)]


def test_a_different_attention_moves_the_tags(translator: ArgosTranslator) -> None:
    source = "The {1}city council{/1} approved the new budget on {2}Tuesday{/2}."
    prepared = translator.prepare(source)
    council, tuesday = prepared.spans
    model = counting(translator)
    translator.translate([source])
    (result,) = model.calls[0].results
    target: list[str] = result.hypotheses[0]
    rows, columns = len(target), len(prepared.pieces)
    tagged = set(range(council.start, council.end)) | set(range(tuesday.start, tuesday.end))
    others = [c for c in range(columns) if c not in tagged]
    middle = [others[i % len(others)] for i in range(rows - 2)]
    first_word, last_word = decode(target[:1]), decode(target)[len(decode(target[:-1])) :]

    # The first target token attends to "city", the last to "Tuesday"; then the reverse.
    model.attention = [one_hot(rows, columns, [council.start, *middle, tuesday.start])]
    (forward,) = translator.translate([source])
    model.attention = [one_hot(rows, columns, [tuesday.start, *middle, council.start])]
    (backward,) = translator.translate([source])

    # A tag covers the word its token belongs to (a Latin word may be several tokens).
    def wrapped(text: str, first: str, last: str) -> None:
        opening = re.match(rf"\{{{first}\}}([^{{}}]*)\{{/{first}\}}", text)
        closing = re.search(rf"\{{{last}\}}([^{{}}]*)\{{/{last}\}}$", text)
        assert opening and opening.group(1).startswith(first_word), text
        assert closing and closing.group(1).endswith(last_word), text

    wrapped(forward.text, "1", "2")
    wrapped(backward.text, "2", "1")
    for out in (forward, backward):
        assert_placeholders_kept(source, out.text)
        assert re.sub(r"\{/?\d+\}", "", out.text) == decode(target)


# --- SentencePiece's own offsets and decoding ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The city council approved the new budget on Tuesday.",
        "GUANGZHOU, Feb. 19 -- The \ufb01rm opened  \uff15\uff16 parks\u2026 caf\u00e9 cafe\u0301",
        "市议会周二批准了新的预算。 Hello   world",
        "Fullwidth\uff01 and \u00bd, \u2460 done",
    ],
)
def test_offsets_computed_from_pieces_equal_sentencepieces(
    processor: spm.SentencePieceProcessor, text: str
) -> None:
    encoded = processor.encode(text, out_type="offset_mapping")
    assert piece_offsets(text, encoded["pieces"]) == [tuple(o) for o in encoded["offsets"]]


def test_without_offset_mapping_the_engine_gives_the_same_text(
    translator: ArgosTranslator, packages: Packages
) -> None:
    expected = [o.text for o in translator.translate(SENTENCES)]
    fallback = ArgosTranslator(translator.package, packages, translator.options)
    fallback._load()
    fallback._offset_mapping = False  # sentencepiece before 0.2.1
    assert [o.text for o in fallback.translate(SENTENCES)] == expected


def test_decoding_equals_sentencepieces_on_real_output(
    translator: ArgosTranslator, processor: spm.SentencePieceProcessor
) -> None:
    model = counting(translator)
    out = translator.translate(SENTENCES)
    for result, translated in zip(model.calls[0].results, out, strict=True):
        target = result.hypotheses[0]
        assert decode(target) == processor.decode_pieces(target)
        plain = translated.text
        for token in set(placeholder_ids(plain)):
            plain = plain.replace("{" + token + "}", "")
        assert plain == processor.decode_pieces(target)
