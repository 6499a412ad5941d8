"""QA checks on translated segments: each code raised where it should be and only there."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.qa import CODES, MESSAGES, Issue, Term, check, glossary_hits, message

A = '<a href="https://x.example/" rel="noopener noreferrer">'
IMG = '<img src="https://i.example/p.jpg" alt="P">'
PARK = "Officials said the {1}park{/1} will host {2}{3} companies{/2}."
PARK_PH = {"1": A, "2": "<strong>", "3": "120"}
PARK_ZH = "官员表示，该{1}园区{/1}将容纳{2}{3}家企业{/2}。"
PARK_FR = "Les responsables ont déclaré que le {1}parc{/1} accueillera {2}{3} entreprises{/2}."
SHARES = "Shares of the carmaker rose {1} percent to {2} yuan on Tuesday."
SHARES_PH = {"1": "3.2", "2": "56.39"}
RATES = "The central bank cut interest rates on Friday."
RATES_ZH = "央行周五下调了利率。"
RATES_FR = "La banque centrale a abaissé ses taux vendredi."
VISIT = "The prime minister will visit the border region next week."
STATE_COUNCIL = Term("State Council", "国务院")
IPHONE = Term("iPhone", "iPhone", do_not_translate=True)
REUTERS = Term("Reuters", "Reuters", do_not_translate=True)
BCE = Term("European Central Bank", "Banque centrale européenne")


class Case(NamedTuple):
    code: str
    raised: bool
    source: str
    target: str
    placeholders: dict[str, str] = {}
    terms: tuple[Term, ...] = ()
    lang: str = "zh-Hans"


CASES = {
    # empty
    "empty/zh-blank": Case("empty", True, RATES, "  "),
    "empty/fr-only-placeholders": Case(
        "empty", True, "{1}Read the full report{/1} online.", "{1}{/1}", {"1": A}, lang="fr"
    ),
    "empty/zh-translated": Case("empty", False, RATES, RATES_ZH),
    "empty/fr-translated": Case("empty", False, RATES, RATES_FR, lang="fr"),
    # too_long: past three times the source and 500 characters, nothing else is checked
    "too_long/pasted-twice-over": Case("too_long", True, RATES, "央" * (3 * len(RATES) + 501)),
    "too_long/at-the-limit": Case("too_long", False, RATES, "央" * (3 * len(RATES) + 500)),
    # not_text: controls (tab and newline aside), C1, bidi overrides, noncharacters
    "not_text/carriage-return": Case("not_text", True, RATES, RATES_ZH + "\r"),
    "not_text/bidi-override": Case("not_text", True, RATES, "\u202e" + RATES_ZH),
    "not_text/newline-and-tab": Case("not_text", False, RATES, RATES_ZH + "\n\t"),
    # placeholder_missing
    "missing/zh-link-dropped": Case(
        "placeholder_missing", True, PARK, "官员表示，该园区将容纳{2}{3}家企业{/2}。", PARK_PH
    ),
    "missing/fr-bold-dropped": Case(
        "placeholder_missing",
        True,
        PARK,
        "Les responsables ont déclaré que le {1}parc{/1} accueillera {3} entreprises.",
        PARK_PH,
        lang="fr",
    ),
    "missing/zh-all-present": Case("placeholder_missing", False, PARK, PARK_ZH, PARK_PH),
    "missing/fr-number-typed-out": Case(
        "placeholder_missing",
        False,
        PARK,
        "Les responsables ont déclaré que le {1}parc{/1} accueillera {2}120 entreprises{/2}.",
        PARK_PH,
        lang="fr",
    ),
    # value_typed: the same typed-out number is reported as typed, not as missing
    "typed/fr-number-typed-out": Case(
        "value_typed",
        True,
        PARK,
        "Les responsables ont déclaré que le {1}parc{/1} accueillera {2}120 entreprises{/2}.",
        PARK_PH,
        lang="fr",
    ),
    "typed/zh-scaled-number": Case(
        "value_typed",
        True,
        "The agreements are worth {1} billion yuan.",
        "这批协议价值86亿元。",
        {"1": "8.6"},
    ),
    "typed/zh-all-present": Case("value_typed", False, PARK, PARK_ZH, PARK_PH),
    "typed/zh-other-number": Case(
        "value_typed", False, "It covers {1} sq km.", "公园占地56.39平方公里。", {"1": "12"}
    ),
    # placeholder_extra
    "extra/zh-unknown-id": Case(
        "placeholder_extra",
        True,
        PARK,
        "官员表示，该{1}园区{/1}将容纳{2}{3}家企业{/2}{4}。",
        PARK_PH,
    ),
    "extra/fr-link-twice": Case(
        "placeholder_extra",
        True,
        PARK,
        "Selon les {1}responsables{/1}, le {1}parc{/1} accueillera {2}{3} entreprises{/2}.",
        PARK_PH,
        lang="fr",
    ),
    "extra/zh-exact": Case("placeholder_extra", False, PARK, PARK_ZH, PARK_PH),
    "extra/fr-exact": Case("placeholder_extra", False, PARK, PARK_FR, PARK_PH, lang="fr"),
    # tag_order
    "order/zh-crossing": Case(
        "tag_order", True, PARK, "官员表示，该{1}园区将容纳{2}{/1}{3}家企业{/2}。", PARK_PH
    ),
    "order/fr-closing-first": Case(
        "tag_order",
        True,
        PARK,
        "Les responsables ont déclaré que le {/1}parc{1} accueillera {2}{3} entreprises{/2}.",
        PARK_PH,
        lang="fr",
    ),
    "order/zh-reordered": Case(
        "tag_order",
        False,
        "The {1}ministry{/1} approved the plan for {2}Shenzhen{/2}.",
        "{2}深圳{/2}的方案获{1}该部{/1}批准。",
        {"1": A, "2": "<strong>"},
    ),
    "order/fr-nested": Case("tag_order", False, PARK, PARK_FR, PARK_PH, lang="fr"),
    # links
    "links/zh-url-changed": Case(
        "links",
        True,
        "Details: https://gdd.example.org/park.",
        "详情：https://gdd.example.org/parks。",
    ),
    "links/zh-url-kept": Case(
        "links",
        False,
        "Details: https://gdd.example.org/park.",
        "详情：https://gdd.example.org/park。",
    ),
    # numbers
    "numbers/zh-digits-swapped": Case(
        "numbers", True, SHARES, "这家汽车制造商的股价周二上涨{1}%，至56.93元。", SHARES_PH
    ),
    "numbers/fr-wrong-year": Case(
        "numbers",
        True,
        "The company cut 1,200 jobs in 2023.",
        "L'entreprise a supprimé 1\u202f200 emplois en 2024.",
        lang="fr",
    ),
    "numbers/zh-typed-and-fullwidth": Case(
        "numbers", False, SHARES, "这家汽车制造商的股价周二上涨３.２%，至{2}元。", SHARES_PH
    ),
    "numbers/zh-scale-and-date": Case(
        "numbers",
        False,
        "The fund raised 1.2 billion dollars on Feb. 19, up from 450 million in 2023.",
        "该基金于2月19日筹集了12亿美元，高于2023年的4.5亿美元。",
    ),
    "numbers/fr-grouping-and-decimal-comma": Case(
        "numbers",
        False,
        "The company cut 1,200 jobs in 2023, or 3.5 percent of its staff.",
        "L'entreprise a supprimé 1 200 emplois en 2023, soit 3,5 % de ses effectifs.",
        lang="fr",
    ),
    # glossary
    "glossary/zh-term-not-used": Case(
        "glossary",
        True,
        "The State Council approved the plan on Monday.",
        "国家委员会周一批准了该计划。",
        terms=(STATE_COUNCIL,),
    ),
    "glossary/fr-dnt-case-changed": Case(
        "glossary",
        True,
        "The iPhone maker reported record sales.",
        "Le fabricant de l'Iphone a annoncé des ventes record.",
        terms=(IPHONE,),
        lang="fr",
    ),
    "glossary/zh-term-used": Case(
        "glossary",
        False,
        "The State Council approved the plan on Monday.",
        "国务院周一批准了该计划。",
        terms=(STATE_COUNCIL,),
    ),
    "glossary/fr-term-any-case": Case(
        "glossary",
        False,
        "The European Central Bank kept rates unchanged.",
        "La banque centrale européenne a maintenu ses taux inchangés.",
        terms=(BCE,),
        lang="fr",
    ),
    # untranslated
    "untranslated/zh-english-left": Case(
        "untranslated", True, VISIT, "总理下周将visit the border region。"
    ),
    "untranslated/fr-identical": Case("untranslated", True, VISIT, VISIT, lang="fr"),
    "untranslated/zh-dnt-and-acronyms": Case(
        "untranslated",
        False,
        "Reuters said NATO and the EU met in Brussels.",
        "Reuters称，NATO和EU在布鲁塞尔举行了会晤。",
        terms=(REUTERS,),
    ),
    "untranslated/fr-translated": Case(
        "untranslated",
        False,
        VISIT,
        "Le Premier ministre se rendra dans la région frontalière la semaine prochaine.",
        lang="fr",
    ),
    # length
    "length/zh-too-short": Case(
        "length",
        True,
        "The central bank said on Friday it would cut its benchmark lending rate by a quarter "
        "point.",
        "央行降息。",
    ),
    "length/fr-too-long": Case(
        "length",
        True,
        "Markets fell sharply on Monday.",
        "Les marchés boursiers ont fortement chuté lundi, les investisseurs s'inquiétant de la "
        "hausse des taux, de l'inflation persistante et du ralentissement de la croissance.",
        lang="fr",
    ),
    "length/zh-usual": Case("length", False, RATES, RATES_ZH),
    "length/fr-short-source": Case(
        "length", False, "Live updates.", "Suivez toute l'actualité en direct.", lang="fr"
    ),
    # whitespace
    "whitespace/zh-trailing": Case("whitespace", True, RATES, RATES_ZH + " "),
    "whitespace/fr-leading": Case("whitespace", True, RATES, " " + RATES_FR, lang="fr"),
    "whitespace/zh-none": Case("whitespace", False, RATES, RATES_ZH),
    "whitespace/fr-same": Case("whitespace", False, RATES + " ", RATES_FR + " ", lang="fr"),
    # punctuation
    "punctuation/zh-question-to-statement": Case(
        "punctuation", True, "Will the central bank cut rates again?", "央行会再次降息吗。"
    ),
    "punctuation/fr-full-stop-lost": Case(
        "punctuation", True, RATES, RATES_FR.rstrip("."), lang="fr"
    ),
    "punctuation/fr-headline-gains-one": Case(
        "punctuation",
        True,
        "Central bank cuts rates",
        "La banque centrale abaisse ses taux.",
        lang="fr",
    ),
    "punctuation/zh-cjk-question-mark": Case(
        "punctuation", False, "Will the central bank cut rates again?", "央行会再次降息吗？"
    ),
    "punctuation/zh-inside-quotes": Case(
        "punctuation", False, 'He said: "We will not give up."', "他说：“我们不会放弃。”"
    ),
    "punctuation/fr-spaced-question-mark": Case(
        "punctuation",
        False,
        "Is the recovery real?",
        "La reprise est-elle réelle\u202f?",
        lang="fr",
    ),
}


def codes(case: Case) -> list[str]:
    issues = check(case.source, case.target, case.placeholders, case.terms, "en", case.lang)
    return [issue.code for issue in issues]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_check(case: Case) -> None:
    assert (case.code in codes(case)) is case.raised


def test_every_code_has_a_positive_and_a_negative_case() -> None:
    covered = {(case.code, case.raised) for case in CASES.values()}
    assert covered == {(code, raised) for code in CODES for raised in (True, False)}
    assert set(MESSAGES) == set(CODES)


def test_good_translation_with_link_bold_number_and_term_has_no_issues() -> None:
    source = (
        "The {1}State Council{/1} said on Tuesday that the {2}Greater Bay Area{/2} attracted "
        "{3} foreign companies in 2024, {4}Reuters{/4} reported."
    )
    placeholders = {
        "1": '<a href="https://www.gov.cn/">',
        "2": "<strong>",
        "3": "1,200",
        "4": "<em>",
    }
    target = (
        "据{4}Reuters{/4}报道，{1}国务院{/1}周二表示，"
        "{2}粤港澳大湾区{/2}在2024年吸引了{3}家外国企业。"
    )
    terms = [STATE_COUNCIL, Term("Greater Bay Area", "粤港澳大湾区"), REUTERS]
    assert check(source, target, placeholders, terms) == []


def test_details_and_severity() -> None:
    [missing, numbers] = check(SHARES, "这家汽车制造商的股价周二上涨{1}%，至56.93元。", SHARES_PH)
    assert missing == Issue("placeholder_missing", {"placeholders": "{2}"}, "error")
    assert numbers == Issue("numbers", {"missing": "56.39", "extra": "56.93"})
    assert message(numbers) == "The numbers differ from the source (missing: 56.39; extra: 56.93)."
    [order] = check(PARK, "官员表示，该{1}园区将容纳{2}{/1}{3}家企业{/2}。", PARK_PH)
    assert order.severity == "error"
    assert order.params == {"placeholders": "{1}…{/1}, {2}…{/2}"}
    [empty] = check(RATES, "", {})
    assert empty == Issue("empty", {}, "error")  # reported alone


def test_only_structure_problems_and_empty_are_errors_value_typed_warns() -> None:
    """Issue 12 changed the severities: a typed-out value (``value_typed``) was an error
    and is now a warning a translator may dismiss; only placeholder_missing,
    placeholder_extra, tag_order and empty still block a save."""
    severities = {
        issue.code: issue.severity
        for case in CASES.values()
        if case.raised
        for issue in check(case.source, case.target, case.placeholders, case.terms, "en", case.lang)
    }
    assert set(severities) == set(CODES)
    errors = {code for code, severity in severities.items() if severity == "error"}
    assert errors == {
        "empty",
        "too_long",
        "not_text",
        "placeholder_missing",
        "placeholder_extra",
        "tag_order",
    }
    [typed] = check(
        "The agreements are worth {1} billion yuan.", "这批协议价值86亿元。", {"1": "8.6"}
    )
    assert typed == Issue("value_typed", {"placeholders": "{1}"}, "warning")


def test_messages_render_for_every_code() -> None:
    for code in CODES:
        text = message(Issue(code, {}))
        assert text.endswith(".") and "{" not in text


def test_glossary_hits_longest_first_whole_words_outside_placeholders() -> None:
    terms = [Term("central bank", "央行"), BCE, Term("bank", "银行"), Term("rate", "利率")]
    source = "The {1}European Central Bank{/1} and the central bank of {2} left rates alone."
    assert glossary_hits(source, terms) == [BCE, terms[0]]  # "rates" is not "rate"
    assert glossary_hits("See {12} for the bank", [Term("12", "十二")]) == []


PAIRED = ["<strong>", "<em>", A]
STANDALONE = [
    "<br>",
    IMG,
    "120",
    "56.39",
    "1,200",
    "https://x.example/a?b=2",
    "news@x.example",
    "{",
]
WORDS = st.sampled_from(
    ["Officials said ", " the park ", " 3.2 billion", "Reuters", " 1,200 ", "?", ".", " "]
)


@st.composite
def segments(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """Well-formed placeholder structure around arbitrary (even brace-laden) text."""
    placeholders: dict[str, str] = {}

    def node(depth: int) -> str:
        kind = draw(st.sampled_from(["text", "text", "standalone", "paired"][: 4 - (depth > 2)]))
        if kind == "text":
            return draw(st.one_of(WORDS, st.text(max_size=15)))
        pid = str(len(placeholders) + 1)
        if kind == "standalone":
            placeholders[pid] = draw(st.sampled_from(STANDALONE))
            return "{" + pid + "}"
        placeholders[pid] = draw(st.sampled_from(PAIRED))
        inner = "".join(node(depth + 1) for _ in range(draw(st.integers(0, 3))))
        return "{" + pid + "}" + inner + "{/" + pid + "}"

    return "".join(node(0) for _ in range(draw(st.integers(0, 5)))), placeholders


TERMS = st.lists(
    st.builds(
        Term,
        st.one_of(st.sampled_from(["park", "Reuters", "the park", "1,200"]), st.text(max_size=8)),
        st.text(max_size=8),
        st.booleans(),
    ),
    max_size=3,
)


@given(segments(), TERMS, st.sampled_from(["fr", "de", "es", "en", "pt-BR", "sr-Latn"]))
def test_source_as_target_never_fails_nor_breaks_placeholders(
    segment: tuple[str, dict[str, str]], terms: list[Term], lang: str
) -> None:
    source, placeholders = segment
    issues = check(source, source, placeholders, terms, "en", lang)
    assert not {i.code for i in issues} & {"placeholder_missing", "placeholder_extra", "tag_order"}
    assert all(isinstance(message(issue), str) for issue in issues)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("Visit https://gdd.example.org/park.", "访问https://gdd.example.org/park。", []),
        ("Write to press@gdd.example.org.", "请致信press@gdd.example.org。", []),
        ("Visit https://gdd.example.org/park.", "访问 https://gdd.example.org/parks 。", ["links"]),
        ("Visit www.gdd.example.org or a@b.example.", "访问www.gdd.example.org。", ["links"]),
        ("No link here.", "这里没有链接。", []),
    ],
)
def test_links_survive(source: str, target: str, expected: list[str]) -> None:
    codes = [i.code for i in check(source, target, {}) if i.code == "links"]
    assert codes == expected
