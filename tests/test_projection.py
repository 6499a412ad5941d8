"""Detag and project: placeholders carried across a translation by word alignment.

Every case is hand-made: source pieces, target pieces and which source piece each target
piece came from, as a model's attention would say."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.engine import Term
from feedsvc.engine.projection import (
    Detagged,
    Tag,
    alignment,
    decode,
    detag,
    find_terms,
    piece_offsets,
    piece_surfaces,
    project,
    spaced,
    term_spans,
    token_spans,
)
from feedsvc.placeholders import placeholder_ids
from feedsvc.segments import segment_html, segment_text

Pair = tuple[str, str | None]  # (target piece, the source piece it came from, or None)


def pieces_of(text: str) -> list[str]:
    """A word-level stand-in for SentencePiece: words and punctuation, ▁ for a space."""
    return [
        ("\u2581" + piece.strip()) if index == 0 or piece[0] == " " else piece
        for index, piece in enumerate(re.findall(r" ?\w+| ?[^\w\s]", text))
    ]


def translate(
    source: str,
    pairs: Sequence[Pair],
    *,
    spaced_target: bool = True,
    terms: Sequence[Term] = (),
    pieces: Sequence[str] | None = None,
) -> str:
    """Project ``source``'s tags onto the target pieces of ``pairs``; a source piece is
    named by its text, "#2" after it for its second occurrence."""
    detagged = detag(source)
    source_pieces = list(pieces) if pieces is not None else pieces_of(detagged.text)
    assert decode(source_pieces) == detagged.text, "the pieces spell the detagged text"
    offsets = piece_offsets(detagged.text, source_pieces)
    named: dict[str, int] = {}
    seen: Counter[str] = Counter()
    for index, piece in enumerate(source_pieces):
        seen[piece] += 1
        named[piece if seen[piece] == 1 else f"{piece}#{seen[piece]}"] = index
    aligned = [None if name is None else named[name] for _, name in pairs]
    matches = find_terms(detagged, terms)
    return project(
        source_pieces,
        token_spans(detagged, source_pieces, offsets),
        [piece for piece, _ in pairs],
        aligned,
        spaced_target=spaced_target,
        terms=term_spans(detagged, matches, source_pieces, offsets),
    )


def well_nested(text: str) -> bool:
    stack: list[str] = []
    for token in placeholder_ids(text):
        if token.startswith("/"):
            if not stack or stack.pop() != token[1:]:
                return False
        else:
            stack.append(token)
    return True


def paired_ids(source: str) -> set[str]:
    return {token[1:] for token in placeholder_ids(source) if token.startswith("/")}


def check(source: str, target: str) -> None:
    """Every placeholder of the source exactly once, paired ones well nested."""
    assert Counter(placeholder_ids(target)) == Counter(placeholder_ids(source)), target
    paired = paired_ids(source)
    only_paired = " ".join(f"{{{t}}}" for t in placeholder_ids(target) if t.lstrip("/") in paired)
    assert well_nested(only_paired), target


# --- detag -------------------------------------------------------------------------------


def test_detag_gives_the_sentence_and_character_spans() -> None:
    detagged = detag("The district opened a {1}new park{/1} on Monday.")
    assert detagged.text == "The district opened a new park on Monday."
    (tag,) = detagged.tags
    assert (tag.opening, tag.closing) == ("{1}", "{/1}")
    assert detagged.text[tag.start : tag.end] == "new park"


def test_detag_leaves_no_double_or_edge_space_where_a_void_tag_was() -> None:
    detagged = detag("{3} Photo {1} shows the {2}.")
    assert detagged.text == "Photo shows the ."
    photo, void, last = detagged.tags
    assert (photo.start, photo.attach) == (0, "before")  # "{3} Photo": sticks to Photo
    assert (void.start, void.attach) == (6, "after")  # spaces both sides: after "Photo"
    assert (last.start, last.attach) == (16, "before")  # glued to the full stop


def test_detag_trims_spaces_inside_a_pair_and_keeps_nesting() -> None:
    detagged = detag("{1} The {2}new{/2} bridge {/1} opened {3}")
    assert detagged.text == "The new bridge opened"
    outer, inner, void = detagged.tags
    assert detagged.text[outer.start : outer.end] == "The new bridge"
    assert detagged.text[inner.start : inner.end] == "new"
    assert (outer.parent, inner.parent, void.parent) == (None, 0, None)
    assert void.start == len(detagged.text)


def test_detag_glued_tokens_stick_to_their_word() -> None:
    # Literal braces are standalone placeholders: "{name}" is "{1}name{2}".
    detagged = detag("Write {1}name{2} to the file.")
    assert detagged.text == "Write name to the file."
    assert [(t.start, t.attach) for t in detagged.tags] == [(6, "before"), (10, "after")]


def test_detag_escaped_braces_are_text_and_odd_tokens_are_kept() -> None:
    assert detag("Use {{1}} here.") == Detagged("Use {{1}} here.", ())
    odd = detag("a {/2} b {1}c")
    assert odd.text == "a b c"
    assert [(t.opening, t.closing) for t in odd.tags] == [("{/2}", None), ("{1}", None)]


def test_detag_of_real_segment_sources() -> None:
    segmented = segment_html(
        '<p>Officials said the <a href="https://gdd.example.org/park">park</a> will host '
        "<strong>120 companies</strong>. Line one<em>a<br>b</em> and <code>x = 1</code> "
        'plus <img src="a.png" alt=""> here.</p>'
    )
    sources = [s.source for s in segmented.segments if s.key.startswith("body")]
    first, second = (detag(source) for source in sources)
    assert first.text == "Officials said the park will host 120 companies."
    assert [first.text[t.start : t.end] for t in first.tags] == ["park", "120 companies"]
    assert second.text == "Line onea b and plus here."  # <br> between letters: a space
    em, br, code, img = second.tags
    assert second.text[em.start : em.end] == "a b" and br.parent == 0
    assert (code.closing, img.closing) == (None, None)
    assert second.text[code.start - 4 : code.start] == "and " and code.attach == "after"
    title = detag(segment_text("title", "Write {name} now").source)
    assert title.text == "Write name now" and len(title.tags) == 2


# --- pieces, offsets, decoding, attention ------------------------------------------------


def test_piece_offsets_follow_sentencepiece_through_nfkc() -> None:
    text = "The \ufb01rm opened  \uff15\uff16 parks\u2026"
    pieces = ["\u2581The", "\u2581", "fi", "rm", "\u2581opened", "\u258156", "\u2581parks"]
    pieces += [".", ".", "."]
    offsets = piece_offsets(text, pieces)
    assert offsets[:4] == [(0, 3), (3, 4), (4, 5), (5, 7)]  # "ﬁ" is one character
    assert offsets[4] == (7, 14)  # the piece includes its space
    assert offsets[5] == (14, 18)  # two spaces and two full-width digits
    assert offsets[7:] == [(24, 24), (24, 24), (24, 25)]  # "…": only the last piece covers it


def test_decoding_is_sentencepieces() -> None:
    assert decode(["\u2581", "\u2581Le", "\u2581pont", "."]) == "Le pont."
    assert decode(["<s>", "\u2581a", "<unk>", "b", "</s>"]) == "a \u2047 b"
    surfaces, inside = piece_surfaces(["\u2581x", "<0xE5>", "<0x8C>", "<0x97>", "y"])
    assert "".join(surfaces) == "x\u5317y" and inside == [False, False, True, True, False]


def test_alignment_is_the_most_attended_source_token() -> None:
    source = ["\u2581The", "\u2581", "bridge", "."]
    attention = [
        [0.7, 0.1, 0.1, 0.05, 0.05],  # The
        [0.1, 0.6, 0.2, 0.05, 0.05],  # the blank "▁" never wins: "bridge" does
        [0.1, 0.0, 0.1, 0.1, 0.7],  # mostly </s> (the fifth column): unaligned
        [0.0, 0.0, 0.1, 0.8, 0.1],
        [0.9, 0.0, 0.0, 0.0, 0.1],  # a row past the target (the </s> step): ignored
    ]
    assert alignment(attention, source, 4) == [0, 2, None, 3]
    with_bos = [[0.5, 0.1, 0.0, 0.4, 0.0], [0.0, 0.1, 0.0, 0.2, 0.7]]
    assert alignment(with_bos, source, 2, leading=1) == [None, 3]
    assert alignment([[0.2, 0.0]], source, 1) == [0], "a truncated source: what is there"
    assert alignment([[0.0, 1.0, 0.0, 0.0]], source, 1) == [None], "only the blank piece"


# --- projection --------------------------------------------------------------------------


def test_no_tags_gives_the_decoded_target() -> None:
    pairs = [("\u2581Le", "\u2581The"), ("\u2581pont", "\u2581bridge"), (".", ".")]
    assert translate("The bridge.", pairs) == "Le pont."


def test_a_tag_around_one_word_keeps_the_space_outside() -> None:
    pairs: list[Pair] = [
        ("\u2581Le", "\u2581The"),
        ("\u2581pont", "\u2581bridge"),
        ("\u2581a", "\u2581opened"),
        ("\u2581ouvert", "\u2581opened"),
        ("\u2581lundi", "\u2581Monday"),
        (".", "."),
    ]
    target = translate("The {1}bridge{/1} opened on Monday.", pairs)
    assert target == "Le {1}pont{/1} a ouvert lundi."


def test_on_monday_moves_before_the_verb_in_chinese() -> None:
    pairs: list[Pair] = [
        ("\u2581桥", "\u2581bridge"),
        ("周一", "\u2581Monday"),
        ("开通", "\u2581opened"),
        ("了", "\u2581opened"),
        ("。", "."),
    ]
    target = translate("The bridge opened {1}on Monday{/1}.", pairs, spaced_target=False)
    assert target == "桥{1}周一{/1}开通了。"


def test_a_link_around_a_name_follows_the_name() -> None:
    pairs: list[Pair] = [
        ("\u2581方", "\u2581Fang"),
        ("博士", "\u2581Dr"),
        ("说", "\u2581said"),
        ("。", "."),
    ]
    source = '"We are ready," said {1}Dr. Fang{/1}.'
    target = translate(source, pairs, spaced_target=False)
    assert target == "{1}方博士{/1}说。"


def test_nested_tags_reorder_inside_their_parent() -> None:
    pairs: list[Pair] = [
        ("\u2581新", "\u2581new"),
        ("桥", "\u2581bridge"),
        ("开通", "\u2581opened"),
        ("了", "\u2581opened"),
    ]
    target = translate("{1}The {2}new{/2} bridge{/1} opened", pairs, spaced_target=False)
    assert target == "{1}{2}新{/2}桥{/1}开通了"


def test_a_child_projected_outside_its_parent_is_clamped_into_it() -> None:
    pairs: list[Pair] = [
        ("\u2581新", "\u2581new"),
        ("桥", "\u2581bridge"),
        ("大", "\u2581big"),  # past the sibling's word: outside what its parent keeps
        ("桥", "\u2581bridge"),
    ]
    source = "{1}new {2}big{/2}{/1} {3}bridge{/3}"
    target = translate(source, pairs, spaced_target=False)
    check(source, target)
    # The parent keeps 新 (its sibling keeps the rest); the child stays inside it.
    assert target == "{1}{2}新{/2}{/1}{3}桥大桥{/3}"


def test_adjacent_tags_keep_their_order_when_nothing_moves() -> None:
    pairs: list[Pair] = [
        ("\u2581更多", "\u2581More"),
        ("照片", "\u2581photos"),
        ("见", "\u2581in"),
        ("广州", "\u2581Guangzhou"),
        ("日报", "\u2581Daily"),
        ("网上", "\u2581online"),
        ("专题", "\u2581feature"),
        ("。", "."),
    ]
    source = "More photos in the {1}Guangzhou Daily{/1} {2}online feature{/2}."
    target = translate(source, pairs, spaced_target=False)
    assert target == "更多照片见{1}广州日报{/1}{2}网上专题{/2}。"


def test_adjacent_tags_swap_with_their_words() -> None:
    pairs: list[Pair] = [
        ("\u2581the", "\u2581the"),
        ("\u2581feature", "\u2581feature"),
        ("\u2581online", "\u2581online"),
        ("\u2581of", None),
        ("\u2581the#2", None),
        ("\u2581Daily", "\u2581Daily"),
    ]
    pairs = [(piece.split("#")[0], name) for piece, name in pairs]
    target = translate("the {1}Daily{/1} {2}online feature{/2}", pairs)
    assert target == "the {2}feature online{/2} of the {1}Daily{/1}"


def test_a_tag_around_the_whole_sentence_gets_the_whole_target() -> None:
    pairs: list[Pair] = [
        ("\u2581桥", "\u2581bridge"),
        ("开通", "\u2581opened"),
        ("了", None),
        ("。", None),  # neither is aligned with anything inside the tag
    ]
    target = translate("{1}The bridge opened.{/1}", pairs, spaced_target=False)
    assert target == "{1}桥开通了。{/1}"


def test_a_line_break_stays_after_the_word_it_followed() -> None:
    pairs: list[Pair] = [
        ("\u2581第二", "\u2581second"),
        ("行", "\u2581line#2"),
        ("，", None),
        ("第一", "\u2581First"),
        ("行", "\u2581line"),
    ]
    target = translate("First line{2}second line", pairs, spaced_target=False)
    assert detag("First line{2}second line").text == "First line second line"
    assert target == "第二行，第一行{2}"


def test_an_image_sticks_to_the_word_it_was_glued_to() -> None:
    pairs: list[Pair] = [
        ("\u2581Die", "\u2581The"),
        ("\u2581Karte", "\u2581map"),
        ("\u2581zeigt", "\u2581shows"),
        ("\u2581Routen", "\u2581routes"),
    ]
    target = translate("The map shows {2}routes", pairs)
    assert target == "Die Karte zeigt {2}Routen"
    moved = [pairs[0], pairs[3], pairs[2], pairs[1]]  # the glued word moved to the front
    assert translate("The map shows {2}routes", moved) == "Die {2}Routen zeigt Karte"


def test_a_span_aligned_with_nothing_is_placed_not_dropped() -> None:
    pairs: list[Pair] = [
        ("\u2581Le", "\u2581The"),
        ("\u2581parc", None),
        ("\u2581ouvre", "\u2581opens"),
    ]
    target = translate("The {1}park{/1} opens", pairs)
    # The word after the target of "The", the word before the tag.
    assert target == "Le {1}parc{/1} ouvre"


def test_crossing_projections_are_cut_apart() -> None:
    pairs: list[Pair] = [
        ("\u2581A", "\u2581red"),
        ("\u2581B", "\u2581red"),
        ("\u2581C", "\u2581car"),
        ("\u2581D", "\u2581red"),  # "red" also aligned past "car": the spans would cross
        ("\u2581E", "\u2581car"),
    ]
    target = translate("{1}red{/1} {2}car{/2}", pairs)
    check("{1}red{/1} {2}car{/2}", target)
    # Cut where most aligned tokens stay with their own tag: A B | C D E.
    assert target == "{1}A B{/1} {2}C D E{/2}"


def test_tags_only_at_word_boundaries_in_spaced_languages() -> None:
    pairs: list[Pair] = [
        ("\u2581Die", "\u2581The"),
        ("\u2581neue", "\u2581new"),
        ("\u2581Brück", "\u2581bridge"),
        ("e", None),  # the rest of the word "Brücke"
        (".", "."),
    ]
    target = translate("The new {1}bridge{/1}.", pairs)
    assert target == "Die neue {1}Brücke{/1}."


def test_any_token_boundary_will_do_in_chinese() -> None:
    pairs: list[Pair] = [("\u2581大", "\u2581big"), ("桥", "\u2581bridge")]
    assert translate("big {1}bridge{/1}", pairs, spaced_target=False) == "大{1}桥{/1}"
    assert spaced("zh") is False and spaced("zh-Hans") is False and spaced("fr") is True


def test_an_empty_pair_and_a_linked_image_stay_whole() -> None:
    pairs: list[Pair] = [("\u2581见", "\u2581See"), ("地图", "\u2581map")]
    target = translate("See {1}{/1}the {2}{3}{/2} map", pairs, spaced_target=False)
    check("See {1}{/1}the {2}{3}{/2} map", target)
    assert "{2}{3}{/2}" in target and "{1}{/1}" in target


def test_a_point_inside_a_sibling_span_steps_out() -> None:
    pairs: list[Pair] = [
        ("\u2581x", "\u2581one"),
        ("\u2581y", "\u2581end"),  # the void's word lands inside the paired span
        ("\u2581z", "\u2581two"),
    ]
    target = translate("{1}one two{/1} end{2}", pairs)
    assert target == "{1}x y z{/1}{2}"


def test_braces_the_model_wrote_never_become_placeholders() -> None:
    pairs: list[Pair] = [("\u2581{", None), ("1", "\u2581bridge"), ("}", None)]
    assert translate("The bridge", pairs) == "1"


# --- glossary terms ------------------------------------------------------------------------


def test_glossary_terms_replace_the_words_aligned_with_them() -> None:
    pairs: list[Pair] = [
        ("\u2581广州", "\u2581Guangzhou"),
        ("发展", "\u2581Development"),
        ("区", "\u2581District"),
        ("开放", "\u2581opened"),
        ("了", None),
        ("园区", "\u2581park"),
    ]
    terms = [
        Term("Development District", "WRONG"),  # shorter: loses to the longer term
        Term("Guangzhou Development District", "广州开发区"),
    ]
    target = translate(
        "The Guangzhou Development District opened a {1}park{/1}",
        pairs,
        spaced_target=False,
        terms=terms,
    )
    assert target == "广州开发区开放了{1}园区{/1}"


def test_do_not_translate_keeps_the_source_spelling_whole_words_only() -> None:
    pairs: list[Pair] = [
        ("\u2581据", None),
        ("南方", "\u2581nanfang"),
        ("+", "\u2581plus"),
        ("报道", "\u2581reports"),
        ("，", None),
        ("plus", "\u2581pluses"),
    ]
    source = "nanfang plus reports pluses"
    terms = [Term("Nanfang Plus", "Nanfang Plus", do_not_translate=True), Term("plus", "加")]
    target = translate(source, pairs, spaced_target=False, terms=terms)
    assert target == "据nanfang plus报道，plus", "as written in the source; not in 'pluses'"


def test_a_term_aligned_with_nothing_is_still_inserted() -> None:
    pairs: list[Pair] = [("\u2581Le", "\u2581The"), ("\u2581ouvre", "\u2581opens")]
    target = translate("The GDD opens", pairs, terms=[Term("GDD", "ZDG")])
    assert target == "Le ZDG ouvre"


def test_terms_never_cut_across_a_tag() -> None:
    detagged = detag("Guangzhou {1}Development District{/1} and Development District")
    matches = find_terms(detagged, [Term("Guangzhou Development", "x"), Term("district", "y")])
    found = [(detagged.text[m.start : m.end], m.text) for m in matches]
    assert found == [("District", "y"), ("District", "y")]


def test_a_term_inside_a_link_stays_inside_it() -> None:
    pairs: list[Pair] = [
        ("\u2581访问", "\u2581Visit"),
        ("广州", "\u2581Guangzhou"),
        ("日报", "\u2581Daily"),
    ]
    target = translate(
        "Visit {1}Guangzhou Daily{/1}",
        pairs,
        spaced_target=False,
        terms=[Term("Guangzhou Daily", "《广州日报》")],
    )
    assert target == "访问{1}《广州日报》{/1}"


# --- properties --------------------------------------------------------------------------

WORDS = ["the", "bridge", "opened", "on", "Monday", "park", "city", ".", ","]


@st.composite
def sources(draw: st.DrawFn) -> str:
    """A sentence with random paired, empty and void placeholders, well nested."""
    parts: list[str] = []
    stack: list[int] = []
    next_id = 1
    for _ in range(draw(st.integers(1, 14))):
        action = draw(st.sampled_from(["word", "word", "open", "close", "void"]))
        if action == "open":
            stack.append(next_id)
            parts.append(f"{{{next_id}}}")
            next_id += 1
        elif action == "close" and stack:
            parts.append(f"{{/{stack.pop()}}}")
        elif action == "void":
            parts.append(f"{{{next_id}}}")
            next_id += 1
        else:
            parts.append(draw(st.sampled_from(WORDS)))
        parts.append(draw(st.sampled_from(["", " "])))
    parts.extend(f"{{/{pid}}}" for pid in reversed(stack))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(
    source=sources(),
    target=st.lists(
        st.sampled_from(["\u2581le", "\u2581pont", "ouv", "ert", "。", "桥"]), max_size=9
    ),
    data=st.data(),
    spaced_target=st.booleans(),
)
def test_every_tag_comes_back_once_and_well_nested(
    source: str, target: list[str], data: st.DataObject, spaced_target: bool
) -> None:
    detagged = detag(source)
    pieces = pieces_of(detagged.text)
    aligned = data.draw(
        st.lists(
            st.one_of(st.none(), st.integers(0, max(len(pieces) - 1, 0))),
            min_size=len(target),
            max_size=len(target),
        )
    )
    offsets = piece_offsets(detagged.text, pieces)
    spans = token_spans(detagged, pieces, offsets)
    projected = project(pieces, spans, target, aligned, spaced_target=spaced_target)
    check(source, projected)
    assert re.sub(r"\{/?\d+\}", "", projected) == decode(target)


@settings(max_examples=200, deadline=None)
@given(
    source=sources(),
    target=st.lists(st.sampled_from(["\u2581le", "\u2581pont", "ouv", "ert", "。"]), max_size=9),
    words=st.lists(st.sampled_from(WORDS[:7]), max_size=3),
    data=st.data(),
)
def test_glossary_terms_never_cost_a_tag(
    source: str, target: list[str], words: list[str], data: st.DataObject
) -> None:
    detagged = detag(source)
    pieces = pieces_of(detagged.text)
    aligned = data.draw(
        st.lists(
            st.one_of(st.none(), st.integers(0, max(len(pieces) - 1, 0))),
            min_size=len(target),
            max_size=len(target),
        )
    )
    offsets = piece_offsets(detagged.text, pieces)
    terms = [Term(word, "<" + word.upper() + ">") for word in words]
    matches = find_terms(detagged, terms)
    projected = project(
        pieces,
        token_spans(detagged, pieces, offsets),
        target,
        aligned,
        terms=term_spans(detagged, matches, pieces, offsets),
    )
    check(source, projected)
    wanted = Counter(match.text for match in matches)
    assert {text: projected.count(text) for text in wanted} == wanted, "each term, once a match"


def test_tags_are_in_source_order_in_the_detagged_result() -> None:
    tags = detag("{1}a {2}b{/2}{3}{/1} {4}").tags
    assert [t.opening for t in tags] == ["{1}", "{2}", "{3}", "{4}"]
    assert tags[2] == Tag("{3}", None, 3, 3, 0, "after")


@pytest.mark.parametrize("spaced_target", [True, False])
def test_a_target_without_tokens_still_gets_every_tag(spaced_target: bool) -> None:
    target = translate("{1}The {2}bridge{/2}{/1}{3}", [], spaced_target=spaced_target)
    assert target == "{1}{2}{/2}{/1}{3}"
