"""Target-language typography: full-width punctuation and sentence gaps for zh and ja,
everything else untouched. The tables are the specification; the properties guard the
rules' edges (a second pass, placeholders, other languages)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.placeholders import LONE_TOKEN
from feedsvc.typography import punctuate, sentence_gap

PUNCTUATE = [
    # -- marks between CJK characters ------------------------------------------------
    ("北京,上海", "zh-Hans", "北京，上海"),
    ("北京,上海", "zh-CN", "北京，上海"),
    ("北京,上海", "zh-Hant", "北京，上海"),
    ("北京,上海", "ja", "北京、上海"),
    ("北京,上海", "zh_TW", "北京，上海"),
    ("他说:", "zh", "他说："),
    ("注意;小心", "zh-Hans", "注意；小心"),
    ("太好了!", "zh-Hans", "太好了！"),
    ("是吗?", "zh-Hant", "是吗？"),
    ("真的吗?!", "zh", "真的吗？！"),
    ("本当ですか?", "ja", "本当ですか？"),
    ("カタカナ,ひらがな", "ja-JP", "カタカナ、ひらがな"),
    ("他走了.", "zh", "他走了。"),
    ("他走了.她来了.", "zh-Hans", "他走了。她来了。"),
    ("今日は晴れです.", "ja", "今日は晴れです。"),
    # -- spaces around a converted mark ------------------------------------------------
    ("北京 , 上海", "zh", "北京，上海"),
    ("他说 :", "zh", "他说："),
    ("他走了. 她来了", "zh", "他走了。她来了"),
    ("据 (新华社) 报道", "zh", "据（新华社）报道"),
    ('他说 "你好" 然后', "zh-Hans", "他说“你好”然后"),
    # -- a mark between a Latin word or number and CJK ---------------------------------
    ("使用C++,例如", "zh", "使用C++，例如"),
    ("增长3.2%,达到1,200家", "zh", "增长3.2%，达到1,200家"),
    ("苹果 iPhone,三星", "zh", "苹果 iPhone，三星"),
    ("网址:https://a.example/x", "zh", "网址：https://a.example/x"),
    # -- brackets: only around CJK content ---------------------------------------------
    ("(新华社)", "zh-CN", "（新华社）"),
    ("据路透社(Reuters)报道", "zh", "据路透社(Reuters)报道"),
    ("(中国(北京))", "zh", "（中国（北京））"),
    ("(iPhone 16 发布)", "zh", "（iPhone 16 发布）"),
    ("(新华社),北京", "zh", "（新华社），北京"),
    ("(新华社", "zh", "(新华社"),
    # -- quotation marks by script -----------------------------------------------------
    ('"你好"', "zh-Hans", "“你好”"),
    ('"你好"', "zh-SG", "“你好”"),
    ('"你好"', "zh", "“你好”"),
    ('"你好"', "zh-Hant", "「你好」"),
    ('"你好"', "zh-TW", "「你好」"),
    ('"你好"', "zh-HK", "「你好」"),
    ('"你好"', "zh-Hans-HK", "“你好”"),
    ('"こんにちは"', "ja", "「こんにちは」"),
    ('他说:"你好!"', "zh-Hans", "他说：“你好！”"),
    ('他说:"你好!"', "ja", "他说：「你好！」"),
    ("“北京”", "zh-Hant", "「北京」"),
    ("“北京”", "zh-Hans", "“北京”"),
    ("“他说‘好’”", "zh-Hant", "「他说『好』」"),
    ("“彼は‘はい’と言った”", "ja", "「彼は『はい』と言った」"),
    ("‘好’", "zh-TW", "「好」"),
    ('"他说"', "zh-Hans", "“他说”"),
    ('“他说"好"”', "zh-Hans", "“他说‘好’”"),
    ('「他说"好"」', "zh-Hant", "「他说『好』」"),
    ("他说“好”,然后", "zh", "他说“好”，然后"),
    ('他说"OK"', "zh-Hans", '他说"OK"'),
    ("“OK”", "zh-Hant", "“OK”"),
    ("Xi’s 计划", "zh-Hant", "Xi’s 计划"),
    # -- ellipsis ----------------------------------------------------------------------
    ("等等...", "zh", "等等……"),
    ("...等等", "zh", "……等等"),
    ("等等 ... 然后", "zh", "等等……然后"),
    ("それは...", "ja", "それは……"),
    ("等等……", "zh", "等等……"),
    ("等等…", "zh", "等等…"),
    ("等等..", "zh", "等等.."),
    # -- placeholders are transparent and never altered --------------------------------
    ("中国{1},{/1}美国", "zh", "中国{1}，{/1}美国"),
    ("中国{1} ,{/1} 美国", "zh", "中国{1}，{/1}美国"),
    ("他说 {1}:{/1}", "zh", "他说{1}：{/1}"),
    ("好 ,{1} }", "zh", "好，{1} }"),
    ("{ {1}(中)", "zh", "{ {1}（中）"),
    ("{1}北京{/1},上海", "zh", "{1}北京{/1}，上海"),
    ('"{1}你好{/1}"', "zh-Hant", "「{1}你好{/1}」"),
    ("({2})", "zh", "({2})"),
    ("增长{2},", "zh", "增长{2}，"),
    ("中国{{,}}美国", "zh", "中国{{,}}美国"),
    ("中国{{1}},美国", "zh", "中国{{1}}，美国"),
    # -- must not touch ----------------------------------------------------------------
    ("增长3.2%", "zh", "增长3.2%"),
    ("共1,200家", "zh", "共1,200家"),
    ("时间:9:30", "zh", "时间：9:30"),
    ("上午9:30开始", "zh", "上午9:30开始"),
    ("比分2:1", "zh", "比分2:1"),
    ("访问https://a.b/c?d=1,2", "zh", "访问https://a.b/c?d=1,2"),
    (
        "见https://zh.wikipedia.org/wiki/北京,上海",
        "zh",
        "见https://zh.wikipedia.org/wiki/北京,上海",
    ),
    ("邮件a.b@example.com。", "zh", "邮件a.b@example.com。"),
    ("使用Node.js和C++", "zh", "使用Node.js和C++"),
    ("例如e.g.和i.e.", "zh", "例如e.g.和i.e."),
    ("访问中国.com", "zh", "访问中国.com"),
    ("中国 Apple 公司", "zh", "中国 Apple 公司"),
    ("苹果iPhone发布", "zh", "苹果iPhone发布"),
    (
        'Hello, world! (Yes) "ok" e.g. 3.2 9:30...',
        "zh",
        'Hello, world! (Yes) "ok" e.g. 3.2 9:30...',
    ),
    ("", "zh", ""),
    # -- other languages: unchanged ----------------------------------------------------
    ("北京,上海", "en", "北京,上海"),
    ("北京,上海", "ko", "北京,上海"),
    ("서울,부산", "ko-KR", "서울,부산"),
    ('"你好"', "fr", '"你好"'),
    ("他说:", "de-CH", "他说:"),
    ("(新华社)", "ru", "(新华社)"),
    ("Привет, мир!", "ru", "Привет, мир!"),
    ("等等...", "es_419", "等等..."),
    ("Beijing,Shanghai", "zh-Latn", "Beijing,Shanghai"),
]


@pytest.mark.parametrize(("text", "lang", "expected"), PUNCTUATE)
def test_punctuate(text: str, lang: str, expected: str) -> None:
    assert punctuate(text, lang) == expected


SENTENCE_GAP = [
    # (gap, before, after, lang, expected)
    (" ", "形成互补。", "据区统计局统计，", "zh-Hans", ""),
    (" ", "形成互补。", "据区统计局统计，", "zh-Hant", ""),
    (" ", "形成互补。", "据区统计局统计，", "zh-TW", ""),
    (" ", "晴れです。", "明日は雨です。", "ja", ""),
    (" ", "形成互补。", "据统计。", "zh_CN", ""),
    ("\n  ", "形成互补。", "据统计。", "zh", ""),
    ("  ", "形成互补", "Apple 表示。", "zh", ""),
    (" ", "他说：“好。”", "Apple 表示。", "zh-Hans", ""),
    (" ", "他犹豫了……", "然后离开。", "zh", ""),
    (" ", "苹果发布了 iPhone", "它很贵。", "zh", ""),
    (" ", "形成互补{1}。{/1}", "{2}据统计。", "zh", ""),
    (" ", "Apple 发布（新品）", "Then", "zh", ""),
    (" ", "{1}", "据统计。", "zh", ""),
    (" ", "访问了 U.S.", "他说。", "zh", " "),
    (" ", 'He said "ok."', "然后离开。", "zh", " "),
    (" ", "Hello.", "World.", "zh", " "),
    ("\n", "Hello.", "World.", "ja", "\n"),
    (" ", "{1}", "{2}", "zh", " "),
    (" ", "形成互补。", "据区统计局统计，", "ko", " "),
    (" ", "좋습니다.", "그렇습니다.", "ko", " "),
    (" ", "Bonjour.", "Salut.", "fr", " "),
    ("\n", "Hello.", "World.", "en", "\n"),
    (" ", "Tā zǒu le.", "Tā lái le.", "zh-Latn", " "),
    ("  ", "形成互补。", "据统计。", "en-US", "  "),
    ("", "形成互补。", "据统计。", "zh", ""),
]


@pytest.mark.parametrize(("gap", "before", "after", "lang", "expected"), SENTENCE_GAP)
def test_sentence_gap(gap: str, before: str, after: str, lang: str, expected: str) -> None:
    assert sentence_gap(gap, before, after, lang) == expected


def test_the_tables_are_the_size_the_brief_asks_for() -> None:
    assert len(PUNCTUATE) >= 40
    assert len(SENTENCE_GAP) >= 10


# --- properties ------------------------------------------------------------------------

PLACEHOLDER = LONE_TOKEN
CJK_LANGS = ["zh", "zh-Hans", "zh-Hant", "zh-CN", "zh-TW", "zh-HK", "zh_SG", "ja"]
OTHER_LANGS = ["en", "en-GB", "ko", "fr", "de", "ru", "es_419", "ar", "vi", "yue"]

# Text made of the pieces the rules look at, so collisions are common.
pieces = st.sampled_from(
    list("中国上海你好かなカナ한국ABcz019 \t.,:;!?()\"'“”‘’「」『』…，。（）{}%+-/@")
    + ["{1}", "{/1}", "{2}", "{{", "}}", "...", "https://a.b/c?d=1,2", "x@y.cn", "3.2", "9:30"]
)
texts = st.lists(pieces, max_size=30).map("".join)


def normalized(text: str) -> str:
    """What punctuate may change, folded away: spaces, mark width, quote and dot style."""
    folded = text.translate(
        str.maketrans(
            {
                "，": ",",
                "、": ",",
                "：": ":",
                "；": ";",
                "！": "!",
                "？": "?",
                "（": "(",
                "）": ")",
                "。": ".",
                "“": '"',
                "”": '"',
                "‘": '"',
                "’": '"',
                "「": '"',
                "」": '"',
                "『": '"',
                "』": '"',
                "…": "...",
                " ": None,
                "\t": None,
            }
        )
    )
    return re.sub(r"\.{3,}", "...", folded)


@settings(max_examples=400)
@given(texts, st.sampled_from(CJK_LANGS))
def test_punctuate_is_idempotent(text: str, lang: str) -> None:
    once = punctuate(text, lang)
    assert punctuate(once, lang) == once


@settings(max_examples=400)
@given(texts, st.sampled_from(CJK_LANGS))
def test_punctuate_keeps_placeholders_in_count_and_order(text: str, lang: str) -> None:
    assert PLACEHOLDER.findall(punctuate(text, lang)) == PLACEHOLDER.findall(text)


@settings(max_examples=400)
@given(texts, st.sampled_from(CJK_LANGS))
def test_punctuate_changes_only_marks_and_spaces(text: str, lang: str) -> None:
    assert normalized(punctuate(text, lang)) == normalized(text)


@given(texts, st.sampled_from(OTHER_LANGS))
def test_other_languages_are_unchanged(text: str, lang: str) -> None:
    assert punctuate(text, lang) == text


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)), st.sampled_from(CJK_LANGS))
def test_ascii_text_is_unchanged(text: str, lang: str) -> None:
    assert punctuate(text, lang) == text


@given(
    st.sampled_from([" ", "  ", "\n", " \n ", "\xa0 "]),
    texts,
    texts,
    st.sampled_from(CJK_LANGS + OTHER_LANGS),
)
def test_sentence_gap_keeps_or_drops_the_gap(gap: str, before: str, after: str, lang: str) -> None:
    result = sentence_gap(gap, before, after, lang)
    assert result in (gap, "")
    if lang in OTHER_LANGS:
        assert result == gap
