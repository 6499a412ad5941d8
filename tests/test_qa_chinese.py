"""Numbers in Chinese targets (issue 12): numerals, magnitudes, ordinals, percentages,
currencies, dates and decades compared as values, without false positives either way;
structure problems still block, and IME-typed tokens are normalized."""

from __future__ import annotations

import pytest

from feedsvc.placeholders import normalize_tokens
from feedsvc.qa import check

A = '<a href="https://x.example/" rel="noopener noreferrer">'


def numbers(source: str, target: str, lang: str = "zh-Hans", placeholders=None) -> list:
    return [
        issue
        for issue in check(source, target, placeholders or {}, (), "en", lang)
        if issue.code == "numbers"
    ]


# Correct translations: no numbers issue.
AGREE = {
    # magnitudes with digits: 亿, 万, 万亿, scale words in English
    "yi/digits": ("The company reported revenue of 9.4 billion yuan.", "该公司公布营收约94亿元。"),
    "yi/dollar-sign": ("The group raised $9.4 billion last year.", "该集团去年融资约94亿美元。"),
    "wan/million": ("Sales hit 1.2 million units in May.", "5月销量达120万台。"),
    "wan/decimal": ("Some 12,000 visitors came on Sunday.", "周日约有1.2万名游客到访。"),
    "wanyi/trillion": ("The plan costs 1.5 trillion yuan.", "该计划耗资1.5万亿元。"),
    "qian/digits-thousand": ("The match drew 3,000 fans.", "这场比赛吸引了3千名球迷。"),
    "qian/kilometre": ("The new trail is 3 km long.", "新步道全长3千米。"),
    # Chinese numerals, compounds and magnitudes
    "numeral/wan": ("About 30,000 people attended the fair.", "约三万人参加了展会。"),
    "numeral/compound-35": ("The class has 35 students.", "该班有三十五名学生。"),
    "numeral/ling-105": ("There were 105 flights on Friday.", "周五共有一百零五个航班。"),
    "numeral/liang-qian": ("The factory hired 2,000 workers.", "该厂雇用了两千名工人。"),
    "numeral/2500-full": ("The plant hired 2,500 workers.", "该厂雇用了两千五百名工人。"),
    "numeral/2500-colloquial": ("The plant hired 2,500 workers.", "该厂雇用了两千五名工人。"),
    "numeral/1500": ("About 1,500 people came.", "约一千五百人前来。"),
    "numeral/yi-94": ("It earned 9.4 billion yuan.", "它赚了九十四亿元。"),
    "numeral/yi-940": ("It sold 94 billion yuan of bonds.", "它出售了九百四十亿元债券。"),
    "numeral/point-yi": ("It earned 350 million yuan.", "它赚了三点五亿元。"),
    "numeral/qianwan": ("It raised 20 million yuan.", "它筹集了两千万元。"),
    "numeral/qian-mi": ("The trail is 3 km long.", "步道全长三千米。"),
    # small numbers, digits or words in the source
    "small/digit-to-numeral": ("The park has 4 companies.", "园区有四家公司。"),
    "small/word-to-numeral": ("The park has four companies.", "园区有四个公司。"),
    "small/word-to-digit": ("The park has four companies.", "园区有4家公司。"),
    "small/liang": ("The two countries signed the deal.", "两国签署了该协议。"),
    "small/hyphenated-word": ("A three-day visit began.", "为期三天的访问开始了。"),
    "small/twenty-five": ("The talks lasted twenty-five days.", "谈判持续了二十五天。"),
    "small/word-and-scale": ("Two million people voted.", "两百万人参加了投票。"),
    # ordinals
    "ordinal/second-park": ("The Second Industrial Park opened.", "第二工业园开园。"),
    "ordinal/2nd": ("It is the group's 2nd plant.", "这是该集团的第二座工厂。"),
    "ordinal/third-quarter": ("Growth slowed in the third quarter.", "第三季度增长放缓。"),
    "ordinal/21st": ("It is the 21st edition of the fair.", "这是第二十一届展会。"),
    "ordinal/20th": ("The 20th Party Congress opened.", "第二十次党代会开幕。"),
    "ordinal/word-second-day": ("Shares rose for a second day.", "股价连续第二天上涨。"),
    # percentages
    "percent/sign": ("Prices rose 5%.", "价格上涨了百分之五。"),
    "percent/word": ("Prices rose 5 percent.", "价格上涨了百分之五。"),
    "percent/tenths": ("About 30% came from city funds.", "约三成来自市级财政资金。"),
    "percent/tenths-two": ("At least 20 percent of the funds.", "至少两成资金。"),
    "idiom/unchanging": ("The plan has not changed.", "计划一成不变。"),
    "percent/decimal": ("Prices rose 3.5 percent.", "价格上涨了百分之三点五。"),
    # currencies: a sign or code is never a number
    "currency/rmb-glued": ("It invested RMB9.4 billion.", "它投资了94亿元人民币。"),
    "currency/us-dollar": ("It raised US$3.2 million.", "它筹集了320万美元。"),
    "currency/yen": ("The ticket costs ¥5,000.", "门票售价5000日元。"),
    "currency/dollar-m": ("The start-up raised $5m.", "这家初创企业筹集了500万美元。"),
    # dates, years, full-width digits, decades
    "date/full": ("The museum opens on March 5, 2026.", "该馆将于2026年3月5日开放。"),
    "date/abbreviated-month": ("It opened on Mar. 5.", "该馆于3月5日开放。"),
    "year/numerals": ("It opened in 2026.", "该馆于二〇二六年开放。"),
    "fullwidth/digits": ("A ticket costs 12 yuan.", "门票１２元。"),
    "decade/nian-dai": ("It was built in the 1990s.", "它建于1990年代。"),
    "decade/century": ("It was built in the 1990s.", "它建于20世纪90年代。"),
    "decade/short": ("It was built in the 1990s.", "它建于上世纪90年代。"),
    "decade/numerals": ("It was built in the 1990s.", "它建于二十世纪九十年代。"),
    # words with numeral characters that are no numbers
    "word/tongyi": ("Officials said 3 projects would be unified.", "官员表示，3个项目将统一管理。"),
    "word/jinyibu": (
        "The index rose 1 percent and may rise further.",
        "该指数上涨1%，并可能进一步上涨。",
    ),
    "word/weekday": ("Shares rose 3.2 percent on Tuesday.", "股价周二上涨3.2%。"),
    "word/wanyi": ("Just in case, 2 guards stay.", "以防万一，2名警卫留守。"),
    "word/qianwan-must": ("Never sell the 2 shares.", "千万不要卖掉这2股。"),
    "word/yixie": ("Some of the 5 firms have left.", "5家企业中的一些已经离开。"),
    "word/yiqi": ("The 2 firms will work together.", "这2家企业将一起合作。"),
    "word/place-name": ("They met 4 firms in Sichuan.", "他们在四川会见了4家企业。"),
    "word/g20-name": ("Leaders of the Group of 20 met.", "二十国集团领导人会晤。"),
}
AGREE_HANT = {
    "hant/yi": ("It earned 9.4 billion yuan.", "它賺了94億元。"),
    "hant/wan-numeral": ("About 30,000 people attended.", "約三萬人出席。"),
    "hant/liang": ("The two countries met.", "兩國代表會面。"),
    "hant/decade": ("It was built in the 1990s.", "它建於20世紀90年代。"),
    "hant/percent": ("Prices rose 3.5%.", "價格上漲了百分之三點五。"),
    "hant/wan-digits": ("Some 12,000 visitors came.", "約1.2萬名遊客到訪。"),
}


@pytest.mark.parametrize(("source", "target"), AGREE.values(), ids=AGREE.keys())
def test_correct_simplified_chinese_has_no_numbers_issue(source: str, target: str) -> None:
    assert numbers(source, target) == []


@pytest.mark.parametrize(("source", "target"), AGREE_HANT.values(), ids=AGREE_HANT.keys())
def test_correct_traditional_chinese_has_no_numbers_issue(source: str, target: str) -> None:
    assert numbers(source, target, "zh-Hant") == []


# Wrong translations: still a numbers warning, with what is missing and extra.
DIFFER = {
    "magnitude/yi-for-million": (
        "It raised 94 million yuan.",
        "它筹集了94亿元。",
        "94 million",
        "94亿",
    ),
    "magnitude/decimal-yi": (
        "It raised 9.4 billion yuan.",
        "它筹集了9.4亿元。",
        "9.4 billion",
        "9.4亿",
    ),
    "magnitude/wan": ("Sales hit 1.2 million units.", "销量达12万台。", "1.2 million", "12万"),
    "magnitude/dollar": ("It raised $9.4 billion.", "它筹集了940亿美元。", "9.4 billion", "940亿"),
    "magnitude/hant-wan": (
        "About 30,000 people attended.",
        "約三千人出席。",
        "30,000",
        "三千",
        "zh-Hant",
    ),
    "digit/numeral": ("The park has 4 companies.", "园区有五家公司。", "4", "五"),
    "digit/compound": ("The class has 35 students.", "该班有五十三名学生。", "35", "五十三"),
    "digit/ling": ("There were 105 flights.", "共有一百五十个航班。", "105", "一百五十"),
    "digit/year": ("It opened in 2026.", "该馆于2025年开放。", "2026", "2025"),
    "digit/day": ("It opens on March 5, 2026.", "该馆将于2026年3月6日开放。", "5", "6"),
    "digit/percent": ("Prices rose 5%.", "价格上涨了百分之五十。", "5", "百分之五十"),
    "tenths/wrong": ("About 40% came from funds.", "约三成来自资金。", "40", "三成"),
    "digit/decade": ("It was built in the 1990s.", "它建于80年代。", "1990", "80"),
    "digit/word-source": ("The park has four companies.", "园区有5家公司。", "", "5"),
    "missing/price": ("Shares rose 3.2 percent to 56.39 yuan.", "股价上涨3.2%。", "56.39", ""),
    "missing/word-jinyibu": ("The index rose 1 percent.", "该指数进一步上涨。", "1", ""),
    "missing/word-yizhi": ("The index rose 1 percent.", "该指数一直在上涨。", "1", ""),
    "extra/invented": ("Shares rose on Tuesday.", "股价周二上涨5%。", "", "5"),
}


@pytest.mark.parametrize(
    ("source", "target", "missing", "extra", "lang"),
    [(*case, "zh-Hans")[:5] for case in DIFFER.values()],
    ids=DIFFER.keys(),
)
def test_wrong_numbers_still_warn(
    source: str, target: str, missing: str, extra: str, lang: str
) -> None:
    [issue] = numbers(source, target, lang)
    assert issue.severity == "warning"
    assert issue.params == {"missing": missing, "extra": extra}


def test_case_counts() -> None:
    assert len(AGREE) + len(AGREE_HANT) >= 40 and len(DIFFER) >= 10


def test_scaled_value_typed_out_is_a_warning_not_an_error() -> None:
    """ "约94亿元" for "{1} billion" (issue 12: refused before): saved, with a warning."""
    issues = check("The deals are worth {1} billion yuan.", "这批协议价值约94亿元。", {"1": "9.4"})
    assert [(i.code, i.severity) for i in issues] == [("value_typed", "warning")]


def test_number_placeholder_written_as_chinese_numeral_is_typed_not_missing() -> None:
    issues = check("The park has {1} companies.", "园区有四家公司。", {"1": "4"})
    assert [(i.code, i.severity) for i in issues] == [("value_typed", "warning")]
    wrong = check("The park has {1} companies.", "园区有五家公司。", {"1": "4"})
    assert [(i.code, i.severity) for i in wrong] == [
        ("placeholder_missing", "error"),
        ("numbers", "warning"),
    ]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_missing_tag_still_blocks(lang: str) -> None:
    source = "The {1}Second Industrial Park{/1} hosts {2} firms."
    placeholders = {"1": A, "2": "4"}
    issues = check(source, "第二工业园有四家企业。", placeholders, (), "en", lang)
    assert ("placeholder_missing", "error") in [(i.code, i.severity) for i in issues]
    assert [i.params for i in issues if i.code == "placeholder_missing"] == [
        {"placeholders": "{1}, {/1}"}
    ]
    kept = check(source, "{1}第二工业园{/1}有四家企业。", placeholders, (), "en", lang)
    assert [i.severity for i in kept] == ["warning"]  # value_typed only


def test_crossing_tags_still_block() -> None:
    source = "The {1}ministry{/1} approved the {2}plan{/2}."
    issues = check(source, "{1}该部批准了{2}{/1}该方案{/2}。", {"1": A, "2": "<strong>"})
    assert [(i.code, i.severity) for i in issues] == [("tag_order", "error")]


def test_other_languages_keep_their_behaviour() -> None:
    """Chinese numerals and English number words only count for a Chinese target."""
    assert numbers("The park has four companies.", "Le parc compte 4 entreprises.", "fr")
    assert numbers("It invested RMB9.4 billion.", "Il a investi 9,4 milliards de yuans.", "fr")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("园区{1}第二{/1}", "园区{1}第二{/1}"),
        ("园区｛1｝第二｛/1｝", "园区{1}第二{/1}"),
        ("园区｛1｝第二｛／1｝", "园区{1}第二{/1}"),
        ("有{１}家", "有{1}家"),
        ("有{ 1 }家", "有{1}家"),
        ("{1}第二{/ 1}", "{1}第二{/1}"),
        ("{\u30001\u3000}和｛ ／ １２ ｝", "{1}和{/12}"),
        ("｛1}与{2｝", "{1}与{2}"),
        ("１２家企业{１２}", "１２家企业{12}"),  # full-width digits outside braces stay
        ("【1】和{a}和{}", "【1】和{a}和{}"),  # only braces around digits are tokens
        ("{1\n}", "{1\n}"),  # a line break inside braces is no typed token
    ],
)
def test_normalize_tokens(typed: str, expected: str) -> None:
    assert normalize_tokens(typed) == expected


def test_normalized_ime_tokens_pass_qa() -> None:
    source = "The {1}park{/1} has {2} firms."
    placeholders = {"1": A, "2": "4"}
    typed = "｛1｝园区｛／1｝有｛２｝家企业。"
    assert "placeholder_missing" in [i.code for i in check(source, typed, placeholders)]
    assert check(source, normalize_tokens(typed), placeholders) == []
