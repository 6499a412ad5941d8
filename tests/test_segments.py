"""Segmentation for machine translation: sentence splitting, placeholders, lossless
reassembly, and well-formed HTML from whatever a translator sends back."""

from __future__ import annotations

import html
import random
import re
from html.parser import HTMLParser

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.placeholders import placeholder_ids
from feedsvc.sanitize import clean_html
from feedsvc.segments import (
    SourceSegment,
    reassemble,
    render_text,
    segment_html,
    segment_text,
    split_sentences,
)

A = '<a href="https://x.example/" rel="noopener noreferrer">'
IMG = '<img src="https://i.example/p.jpg" alt="P">'


def canon(markup: str) -> list[tuple[str, ...]]:
    """The "lossless" yardstick: the lxml.html tree, comments dropped, attributes sorted,
    each text node with runs of ASCII whitespace collapsed to one space."""
    events: list[tuple[str, ...]] = []

    def text(value: str | None) -> None:
        if not value:
            return
        if events and events[-1][0] == "text":
            events[-1] = ("text", events[-1][1] + value)
        else:
            events.append(("text", value))

    def walk(el: lxml.html.HtmlElement) -> None:
        if not isinstance(el.tag, str):
            return
        events.append(("start", el.tag, repr(sorted(el.attrib.items()))))
        text(el.text)
        for child in el:
            walk(child)
            text(child.tail)
        events.append(("end", el.tag))

    walk(lxml.html.fragment_fromstring(markup, create_parent="div"))
    return [("text", re.sub(r"[ \t\n\r\f]+", " ", e[1])) if e[0] == "text" else e for e in events]


class _Balance(HTMLParser):
    """Fails on an end tag that does not close the innermost open element."""

    VOID = {"br", "img", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()


def well_formed_tags(markup: str) -> list[str]:
    checker = _Balance()
    checker.feed(markup)
    checker.close()
    assert checker.stack == [], f"left open: {checker.stack}"
    return checker.tags


# Each expected segment: its source, or (source, placeholders); a bare source means none.
CASES = [
    pytest.param(
        "<p>Dr. Fang met Mr. Li and Ms. Wu on Feb. 19. They talked.</p>",
        ["Dr. Fang met Mr. Li and Ms. Wu on Feb. 19.", "They talked."],
        id="abbreviations-titles-months",
    ),
    pytest.param(
        "<p>Prof. Chen of St. Mary's said approx. 300 people came, e.g. students. "
        "Sept. rains were heavy.</p>",
        [
            "Prof. Chen of St. Mary's said approx. 300 people came, e.g. students.",
            "Sept. rains were heavy.",
        ],
        id="abbreviations-prof-st-approx-eg",
    ),
    pytest.param(
        "<p>U.S. officials said the U.K. and U.N. agreed. The talks ended at 5 p.m. Beijing "
        "time.</p>",
        [
            "U.S. officials said the U.K. and U.N. agreed.",
            "The talks ended at 5 p.m. Beijing time.",
        ],
        id="initialisms-mid-sentence",
    ),
    pytest.param(
        "<p>Exports to the U.S. The rise was small. He joined Acme Inc. The firm agreed. "
        "The U.S. President met Sen. Wang at 9 a.m. Monday.</p>",
        [
            "Exports to the U.S.",
            "The rise was small.",
            "He joined Acme Inc.",
            "The firm agreed.",
            "The U.S. President met Sen. Wang at 9 a.m. Monday.",
        ],
        id="initialism-or-suffix-ending-a-sentence",
    ),
    pytest.param(
        "<p>The No. 2 park beat Tianhe vs. Nansha. Sammy Davis Jr. sang. Guangzhou Metro Co. "
        "Ltd. Chairman Li spoke.</p>",
        [
            "The No. 2 park beat Tianhe vs. Nansha.",
            "Sammy Davis Jr. sang.",
            "Guangzhou Metro Co. Ltd. Chairman Li spoke.",
        ],
        id="no-vs-jr-co-ltd",
    ),
    pytest.param(
        "<p>The zone covers 56.39 sq km. GDP hit 3.2 billion yuan, up 12.5% year on year.</p>",
        ["The zone covers 56.39 sq km.", "GDP hit 3.2 billion yuan, up 12.5% year on year."],
        id="decimals-units-percent",
    ),
    pytest.param(
        "<p>More than 1,200 firms joined in 2025–2026, opening at 9:30 on 5G, G20 and "
        "COVID-19 work in the 1990s style.</p>",
        [
            "More than 1,200 firms joined in 2025–2026, opening at 9:30 on 5G, G20 and "
            "COVID-19 work in the 1990s style."
        ],
        id="numbers-protected-unless-part-of-a-word",
    ),
    pytest.param(
        "<p>Visit https://gdd.example.org/en/news?id=7&amp;lang=en. Or write to "
        "press@gdd.example.org (www.gdd.example.org).</p>",
        [
            "Visit https://gdd.example.org/en/news?id=7&lang=en.",
            "Or write to press@gdd.example.org (www.gdd.example.org).",
        ],
        id="urls-and-emails",
    ),
    pytest.param(
        '<p>"Done," she said. He said: "It works." Then he left.</p>',
        ['"Done," she said.', 'He said: "It works."', "Then he left."],
        id="straight-quotes",
    ),
    pytest.param(
        "<p>“It works.” Then he left. ‘Yes,’ she said.</p>",
        ["“It works.”", "Then he left.", "‘Yes,’ she said."],
        id="curly-quotes",
    ),
    pytest.param(
        '<p>Why now? "Because it\'s time!" the mayor said. What a day! Really?</p>',
        ["Why now?", '"Because it\'s time!" the mayor said.', "What a day!", "Really?"],
        id="question-and-exclamation",
    ),
    pytest.param(
        "<p>Wait... Then it rained… and stopped. The end.</p>",
        ["Wait...", "Then it rained… and stopped.", "The end."],
        id="ellipses",
    ),
    pytest.param(
        "<p>GUANGZHOU, Feb. 19 (Nanfang Plus) -- The district unveiled a plan on Wednesday. "
        "It covers Huangpu.</p>",
        [
            "GUANGZHOU, Feb. 19 (Nanfang Plus) -- The district unveiled a plan on Wednesday.",
            "It covers Huangpu.",
        ],
        id="dateline",
    ),
    pytest.param(
        f"<p>Read {A}<strong>the report</strong> now</a>.</p>",
        [("Read {1}{2}the report{/2} now{/1}.", {"1": A, "2": "<strong>"})],
        id="nested-inline",
    ),
    pytest.param(
        f"<p>First. {A}Second one. Third one.</a> Fourth.</p>",
        ["First.", ("{1}Second one. Third one.{/1}", {"1": A}), "Fourth."],
        id="link-holding-two-sentences",
    ),
    pytest.param(
        f"<p>He {A}left. She</a> stayed. End.</p>",
        [("He {1}left. She{/1} stayed.", {"1": A}), "End."],
        id="link-across-a-sentence-boundary",
    ),
    pytest.param(
        f"<p>{A}Huang</a>pu District grew.</p>",
        [("{1}Huang{/1}pu District grew.", {"1": A})],
        id="link-inside-a-word",
    ),
    pytest.param(
        "<p>Run <code>pip install x&lt;1.2</code> first. Then restart.</p>",
        [("Run {1} first.", {"1": "<code>pip install x&lt;1.2</code>"}), "Then restart."],
        id="code-protected",
    ),
    pytest.param(
        '<p>The logo <img src="https://i.example/a.png" alt="Logo &amp; mark"> appears.</p>',
        [
            (
                "The logo {1} appears.",
                {"1": '<img src="https://i.example/a.png" alt="Logo &amp; mark">'},
            ),
            "Logo & mark",
        ],
        id="img-in-paragraph",
    ),
    pytest.param(
        "<ul>\n<li>First item. Second.</li>\n<li>Third <em>item</em></li>\n</ul>",
        ["First item.", "Second.", ("Third {1}item{/1}", {"1": "<em>"})],
        id="list",
    ),
    pytest.param(
        "<ol><li><p>Para in item.</p></li><li>Intro text<ul><li>Nested</li></ul>after</li></ol>",
        ["Para in item.", "Intro text", "Nested", "after"],
        id="list-items-with-blocks",
    ),
    pytest.param(
        "<blockquote>\n<p>One. Two.</p>\n<p>Three.</p>\n</blockquote>",
        ["One.", "Two.", "Three."],
        id="blockquote-with-paragraphs",
    ),
    pytest.param(
        "<blockquote>Direct text. <cite>Li</cite><p>Para.</p></blockquote>",
        ["Direct text.", ("{1}Li{/1}", {"1": "<cite>"}), "Para."],
        id="blockquote-text-beside-a-block",
    ),
    pytest.param(
        f"<figure>{IMG}<figcaption>Officials at the ceremony on Jan. 14.</figcaption></figure>",
        ["Officials at the ceremony on Jan. 14.", "P"],
        id="figure-with-figcaption",
    ),
    pytest.param(
        f"<figure>{IMG}</figure><hr><p>Text.</p><p>{IMG}</p>",
        ["Text.", "P", "P"],
        id="text-free-elements",
    ),
    pytest.param(
        "<table><caption>Output by year</caption><thead><tr><th>Year</th><th>Output</th></tr>"
        "</thead><tbody><tr><td>2025</td><td>3.2 billion yuan</td></tr></tbody></table>",
        ["Output by year", "Year", "Output", "3.2 billion yuan"],
        id="table",
    ),
    pytest.param(
        "<h2>Huangpu grows. Fast.</h2><h3>Q&amp;A with AT&amp;T: 3 &lt; 5</h3>",
        ["Huangpu grows.", "Fast.", "Q&A with AT&T: 3 < 5"],
        id="headings-and-entities",
    ),
    pytest.param(
        "<p>Reporter: Li Wen<br>\nEditor: Zhang San</p>",
        ["Reporter: Li Wen", "Editor: Zhang San"],
        id="br-in-a-block-ends-a-sentence",
    ),
    pytest.param(
        "<p><strong>Line one<br>line two</strong> ends.</p>",
        [("{1}Line one{2}line two{/1} ends.", {"1": "<strong>", "2": "<br>"})],
        id="br-inside-inline-is-a-placeholder",
    ),
    pytest.param(
        "<p>Use {name} and {{x}} in templates.</p>",
        [
            (
                "Use {1}name{2} and {3}x{4} in templates.",
                {"1": "{", "2": "}", "3": "{{", "4": "}}"},
            )
        ],
        id="literal-braces",
    ),
    pytest.param(
        "<p>黄埔区今年增长迅速。企业数量超过1200家！你知道吗？</p>",
        ["黄埔区今年增长迅速。", "企业数量超过1200家！", "你知道吗？"],
        id="chinese",
    ),
    pytest.param(
        "<p></p><p> </p><p>&nbsp;</p><p>Real text.</p>",
        ["Real text."],
        id="empty-paragraphs",
    ),
    pytest.param(
        "<p>Mr.&nbsp;Li paid 10&nbsp;yuan. Then&nbsp;he left.&nbsp; Bye.</p>",
        ["Mr.\xa0Li paid 10\xa0yuan.", "Then\xa0he left.", "Bye."],
        id="non-breaking-spaces",
    ),
    pytest.param(
        "<p>\n  Lots   of\n  space.   Next\tone.  </p>",
        ["Lots of space.", "Next one."],
        id="whitespace-normalized",
    ),
    pytest.param(
        "<pre>code  here.\n  More.</pre><p>After.</p>",
        ["After."],
        id="pre-skipped",
    ),
    pytest.param(
        '<p><abbr title="Guangzhou Development District">GDD</abbr> opened on '
        '<time datetime="2026-01-15">Jan. 15</time>, said <cite>Nanfang Plus</cite>.</p>',
        [
            (
                "{1}GDD{/1} opened on {2}Jan. 15{/2}, said {3}Nanfang Plus{/3}.",
                {
                    "1": '<abbr title="Guangzhou Development District">',
                    "2": '<time datetime="2026-01-15">',
                    "3": "<cite>",
                },
            ),
            "Guangzhou Development District",
        ],
        id="abbr-time-cite",
    ),
    pytest.param(
        "Loose text. More <b>bold</b>.<p>Para.</p>",
        ["Loose text.", ("More {1}bold{/1}.", {"1": "<b>"}), "Para."],
        id="text-outside-any-block",
    ),
    pytest.param(
        f"<p>See {A}page 5</a> or https://x.example/5.</p>",
        [
            (
                "See {1}page 5{/1} or https://x.example/5.",
                {"1": '<a href="https://x.example/" rel="noopener noreferrer">'},
            )
        ],
        id="number-inside-link-and-url",
    ),
    pytest.param(
        "<p>CO<sub>2</sub> fell for the 5<sup>th</sup> time.</p>",
        [("CO{1}2{/1} fell for the 5{2}th{/2} time.", {"1": "<sub>", "2": "<sup>"})],
        id="numbers-glued-to-words-across-tags",
    ),
    pytest.param(
        "<p>Li said <q>it works. It does.</q> Then <em>he left.</em> Bye.</p>",
        [
            ("Li said {1}it works. It does.{/1}", {"1": "<q>"}),
            ("Then {1}he left.{/1}", {"1": "<em>"}),
            "Bye.",
        ],
        id="boundaries-inside-inline-elements-ignored",
    ),
]


@pytest.mark.parametrize(("markup", "expected"), CASES)
def test_segments_and_lossless_reassembly(
    markup: str, expected: list[str | tuple[str, dict[str, str]]]
) -> None:
    segmented = segment_html(markup)
    wanted = [(e, {}) if isinstance(e, str) else e for e in expected]
    assert [(s.source, s.placeholders) for s in segmented.segments] == wanted
    assert canon(reassemble(segmented, {})) == canon(markup)
    same = {s.key: s.source for s in segmented.segments}
    assert reassemble(segmented, same) == reassemble(segmented, {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He left. She stayed.", ["He left.", "She stayed."]),
        ("Sanctions on the U.S. The move hurt.", ["Sanctions on the U.S.", "The move hurt."]),
        ("U.S. officials met U.S. President Li.", ["U.S. officials met U.S. President Li."]),
        ("It opens at 9 a.m. The queue is long.", ["It opens at 9 a.m.", "The queue is long."]),
        (
            "John F. Kennedy spoke. Plan B. It failed.",
            ["John F. Kennedy spoke.", "Plan B.", "It failed."],
        ),
        ("Prices rose 3.2 percent. Sales fell.", ["Prices rose 3.2 percent.", "Sales fell."]),
        ("See Fig. 3 and No. 5, i.e. Huangpu.", ["See Fig. 3 and No. 5, i.e. Huangpu."]),
        ('"Is it?" he asked. "Yes."', ['"Is it?" he asked.', '"Yes."']),
        ("Done (at last.) Next one.", ["Done (at last.)", "Next one."]),
        ("你好。 Hello there. 再见！", ["你好。", "Hello there.", "再见！"]),
        ("  ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_keys_count_blocks_with_segments_only() -> None:
    segmented = segment_html("<h2>Title.</h2><p></p><ul><li>A one. B two.</li></ul><p>2025</p>")
    assert [s.key for s in segmented.segments] == ["body.0.0", "body.1.0", "body.1.1"]
    assert "Title" not in segmented.skeleton


def test_empty_body() -> None:
    assert segment_html("").segments == []
    assert reassemble(segment_html(""), {}) == ""


# --- targets ---------------------------------------------------------------------------

CLICK = f"<p>Click {A}here</a> for 5 tips.</p>"  # "Click {1}here{/1} for 5 tips."


def translated(markup: str, target: str) -> str:
    segmented = segment_html(markup)
    segment = segmented.segments[0]  # the sentence; the image's alt is one more segment
    result = reassemble(segmented, {segment.key: target})
    well_formed_tags(result)
    return result


def test_reordered_placeholders() -> None:
    markup = f"<p>Photo {IMG} by <strong>Li</strong>.</p>"
    assert segment_html(markup).segments[0].source == "Photo {1} by {2}Li{/2}."
    assert translated(markup, "{2}x{/2} y {1}") == f"<p><strong>x</strong> y {IMG}</p>"


def test_missing_closing_placeholder_is_closed() -> None:
    assert translated(CLICK, "点击{1}这里获取5条建议") == f"<p>点击{A}这里获取5条建议</a></p>"


def test_misnested_placeholders_stay_well_formed() -> None:
    markup = f"<p>{A}a <strong>b</strong></a> c.</p>"
    assert translated(markup, "{1}a {2}b{/1} c{/2}") == f"<p>{A}a <strong>b</strong></a> c</p>"


def test_unknown_duplicate_and_stray_placeholders_dropped() -> None:
    result = translated(CLICK, "{7}x{/9} {1}here{/1}{1} for {/2}5{2} tips.")
    assert result == f"<p>x {A}here</a> for 5 tips.</p>"


def test_markup_in_a_target_is_text() -> None:
    result = translated(CLICK, "<script>alert(1)</script> & {1}x{/1} {x} {}")
    assert result == f"<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; {A}x</a> {{x}} {{}}</p>"
    assert "script" not in well_formed_tags(result)


def test_missing_keys_keep_source_and_foreign_keys_are_ignored() -> None:
    segmented = segment_html("<p>One is here. Two is there.</p>")
    result = reassemble(segmented, {"body.0.0": "一。", "title": "x", "body.9.9": "y"})
    assert result == "<p>一。 Two is there.</p>"


@pytest.mark.parametrize(
    "target",
    ["{/1}{/2}", "{2}{1}", "{1}{1}{1}", "{1}{/1}{/1}", "{/1}x{1}", "{1}{2}{/1}{/2}", "", "{0}{99}"],
)
def test_broken_targets_give_well_formed_html(target: str) -> None:
    markup = f"<p>{A}a <em>b</em></a> {IMG} and 7.</p>"
    assert placeholder_ids(segment_html(markup).segments[0].source) == [
        "1", "2", "/2", "/1", "3"
    ]  # fmt: skip
    result = translated(markup, target)
    assert result.startswith("<p>") and result.endswith("</p>")


def test_placeholder_ids() -> None:
    assert placeholder_ids("{1}a {2}b{/2}{/1} {3} {x} {/4}") == ["1", "2", "/2", "/1", "3", "/4"]


def test_title_and_summary() -> None:
    title = segment_text(
        "title", "  GDD signs 23 deals worth 8.6 billion yuan\n at www.gdd.example.org "
    )
    assert title == SourceSegment(
        "title", "GDD signs 23 deals worth 8.6 billion yuan at www.gdd.example.org", {}
    )
    assert render_text(title, title.source) == (
        "GDD signs 23 deals worth 8.6 billion yuan at www.gdd.example.org"
    )
    assert (
        render_text(title, "黄埔签署23项协议{9}，价值8.6亿元{/1}")
        == "黄埔签署23项协议，价值8.6亿元"
    )
    braces = segment_text("summary", "Write {name} to a@b.example; it is <fine> & {ok}.")
    assert braces.source == "Write {1}name{2} to a@b.example; it is <fine> & {3}ok{4}."
    assert render_text(braces, braces.source) == "Write {name} to a@b.example; it is <fine> & {ok}."


# --- properties ------------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "Huangpu", "the", "U.S.", "Dr.", "Feb.", "19", "3.2", "12.5%", "1,200", "5G", "said.",
        "It", "end.", "Why?", "wow!", '"quoted."', "{", "}}", "&", "<", ">", "\xa0", "。", "黄埔",
        "www.x.example", "a@b.example", "https://x.example/?a=1&b=2", "...", "—", "\n", "  ",
    ]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_WORDS, st.just(" ")), max_size=8).map(
    lambda words: html.escape("".join(words), quote=False)
)
_PAIRED = st.sampled_from(
    [
        ("a", ' href="https://x.example/p?q=1&amp;r=2"'),
        ("abbr", ' title="Guangzhou &amp; Co"'),
        ("time", ' datetime="2026-01-15"'),
        *[(tag, "") for tag in "strong em b i u s sub sup cite q span".split()],
    ]
)
_LEAF = st.one_of(
    _TEXT,
    st.just("<br>"),
    st.just('<img src="https://i.example/a.png" alt="A &amp; B">'),
    _TEXT.map(lambda text: f"<code>{text}</code>"),
)


def _wrap(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    joined = st.lists(children, min_size=1, max_size=4).map("".join)
    return st.one_of(
        joined,
        st.tuples(_PAIRED, joined).map(lambda t: f"<{t[0][0]}{t[0][1]}>{t[1]}</{t[0][0]}>"),
    )


_INLINE = st.recursive(_LEAF, _wrap, max_leaves=12)
_BLOCK = st.tuples(
    st.sampled_from(
        ["<p>{}</p>", "<h2>{}</h2>", "<ul><li>{}</li></ul>", "<blockquote><p>{}</p></blockquote>",
         "<figure><figcaption>{}</figcaption></figure>", "<table><tr><td>{}</td></tr></table>",
         "{}"]
    ),
    _INLINE,
).map(lambda t: t[0].format(t[1]))  # fmt: skip
_BODY = st.lists(_BLOCK, min_size=1, max_size=3).map(lambda blocks: clean_html("".join(blocks)))


@settings(max_examples=300, deadline=None)
@given(_BODY)
def test_reassembly_is_lossless(markup: str) -> None:
    segmented = segment_html(markup)
    untouched = reassemble(segmented, {})
    assert canon(untouched) == canon(markup)
    assert reassemble(segmented, {s.key: s.source for s in segmented.segments}) == untouched
    for segment in segmented.segments:
        ids = [int(i) for i in placeholder_ids(segment.source) if not i.startswith("/")]
        assert ids == list(range(1, len(segment.placeholders) + 1))


@settings(max_examples=200, deadline=None)
@given(_BODY, st.randoms(use_true_random=False))
def test_shuffled_placeholders_stay_well_formed(markup: str, rnd: random.Random) -> None:
    segmented = segment_html(markup)
    targets = {}
    for segment in segmented.segments:
        tokens = re.findall(r"\{/?\d+\}", segment.source) + ["<b>", "&", "{9}", "{/1}"]
        rnd.shuffle(tokens)
        targets[segment.key] = " x ".join(tokens)
    result = reassemble(segmented, targets)
    well_formed_tags(result)


def test_attribute_segments_keys_and_translation() -> None:
    markup = (
        '<p>The park <img src="p.jpg" alt="The new park"> opened. '
        '<abbr title="Guangzhou Development District">GDD</abbr> said.</p>'
        '<figure><img src="q.jpg" alt="The new park" title="Photo: Li"></figure>'
        '<pre title="kept as is">x</pre>'
    )
    segmented = segment_html(markup)
    attributes = [(s.key, s.source) for s in segmented.segments if s.key.startswith("attr.")]
    assert attributes == [
        ("attr.0.img.alt", "The new park"),
        ("attr.1.abbr.title", "Guangzhou Development District"),
        ("attr.2.img.alt", "The new park"),
        ("attr.3.img.title", "Photo: Li"),
    ]
    result = reassemble(
        segmented,
        {"attr.0.img.alt": "新公园", "attr.3.img.title": "图：李", "body.0.0": "公园{1}开放。"},
    )
    tree = lxml.html.fragment_fromstring(result, create_parent="div")
    assert [img.get("alt") for img in tree.iter("img")] == ["新公园", "新公园"]
    assert [img.get("title") for img in tree.iter("img")] == [None, "图：李"]
    assert tree.find(".//abbr").get("title") == "Guangzhou Development District"  # no target
    assert tree.find(".//pre").get("title") == "kept as is"


def test_a_slot_marker_inside_an_attribute_stays_text() -> None:
    markup = '<p>One <img src="x.png?a=&lt;!--seg:body.0.0--&gt;" alt="x"> here. Two.</p>'
    segmented = segment_html(markup)
    result = reassemble(segmented, {"body.0.0": '" onerror="alert(1) {1}', "body.0.1": "二"})
    tree = lxml.html.fragment_fromstring(result, create_parent="div")
    assert tree.find(".//img").get("src") == "x.png?a=<!--seg:body.0.0-->"
    assert tree.find(".//img").get("onerror") is None
