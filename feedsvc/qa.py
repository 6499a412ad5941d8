"""Quality checks a translated segment goes through before a reviewer approves it.

Each check is a small function with its own code, so the review screen can show, filter
and localize issues by code (English texts are in MESSAGES). Everything here is pure:
strings in, issues out. Source and target use the placeholder syntax of
:mod:`feedsvc.segments` (``{1}…{/1}`` paired, ``{2}`` standalone).

Decisions, so callers know what to expect:

- **Errors** are only the problems that break structure: ``placeholder_missing``,
  ``placeholder_extra``, ``tag_order`` (markup would be lost, duplicated or mis-nested) and
  an ``empty`` target. They block a save. Everything else, ``value_typed`` included, is a
  warning a translator may dismiss.
  An empty target is reported alone: every other issue would only follow from it. So is a
  target over ``target_limit`` (three times the source and 500 characters), ``too_long``,
  an error: no translation is that long, and checking it would cost seconds; and one with
  characters that are not text (``not_text``: controls but tab and newline, C1 controls,
  bidirectional overrides, noncharacters), an error too.
- **Typed-out values** are warnings (``value_typed``): a standalone placeholder protecting
  plain text (today only a literal brace; segments cut before numbers went back into the
  text protected numbers, URLs and e-mail addresses too) written out instead of its token.
  It is reported as typed, not as missing; in a Chinese target a number written as a
  Chinese numeral counts as typed too ("{1}家" = 4 → "四家").
- **Reordering** placeholders is fine (word order differs between languages), and so is
  moving one paired element out of another; only crossing pairs (``{1}…{2}…{/1}…{/2}``) and
  a closing token before its opening are ``tag_order`` errors, and only when the source
  does not have the same problem.
- **Links**: every URL and e-mail address of the source must appear unchanged in the
  target (``links``, a warning: a translator may point to a localized page on purpose).
- **Numbers** are compared as values after putting protected values back: any Unicode
  decimal digits count, "1,200" = "1200" = "1 200" (space-grouped), "3,5" = "3.5", "3.20" =
  "3.2", and "1.2 million" = "120万" = "1,2 million" (a few scale words per language).
  A number glued after a letter is part of a name ("G20", "COVID-19", "A320") and does not
  count; neither do numbers in URLs and e-mail addresses. A month number in a CJK target
  ("2月19日" for "Feb. 19") is never reported as extra.
- **Chinese targets** (zh-Hans, zh-Hant…): numbers are compared after normalizing both
  sides. Digits in the target (full-width too) count as above, with 万/萬, 亿/億, 万亿 as
  scale ("约94亿元" = "9.4 billion" = "$9.4 billion"; "1.2万" = 12,000), 千/百 after digits
  read either way ("3千" = 3,000; "3千米" = 3 km), "90年代" and "20世纪90年代" as the
  1990s. Chinese numerals (四, 两/兩, 三十五, 一百零五, 两千五, 二〇二六, 三点五亿, 第二,
  百分之五) are *readings*: they match a number the source has, and are never reported
  as extra on their own (so 一些, 一起, 统一, 万一, 千万不要, 周二, 四川 never count); they
  are listed next to a real difference. Spelled-out English numbers in the source
  ("four", "second", "twenty-five", "two million") match the same way but are never
  reported as missing ("first" is often 首次, "one of" 之一). Currency signs and codes
  (``$``, ``US$``, ``¥``, ``RMB9.4``, 元, 美元) never make a difference; "$5m" = 500万.
  Digits are paired with digits first, so a numeral never takes a digit's place.
- **Glossary** terms match with :func:`feedsvc.glossary.term_matches`, the matcher the
  engine's protection uses: case-insensitive, whole words (none next to CJK), any
  whitespace between words, longest first, never inside a placeholder token. The
  required target term is found case-insensitively; a do-not-translate term must appear
  exactly as written in the source. Inflected forms are not recognised.
- **Untranslated**: for a non-Latin target, three or more Latin words that are not part of
  a glossary hit, not acronyms (all capitals, at most 6 letters) and not in a URL or
  e-mail address. Proper nouns are not recognised, so this only warns. For a Latin target:
  the target is the source unchanged and has at least 3 words besides do-not-translate
  terms.
- **Length** counts characters of the text with protected numbers put back, without markup,
  URLs and e-mail addresses, whitespace runs as one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .glossary import TermMatch, find_term, term_matches
from .placeholders import TOKEN, paired_ids, placeholder_ids, render_token, strip_tokens
from .segments import SourceSegment, render_text

CODES: tuple[str, ...] = (
    "empty",
    "too_long",
    "not_text",
    "placeholder_missing",
    "placeholder_extra",
    "value_typed",
    "tag_order",
    "numbers",
    "links",
    "glossary",
    "untranslated",
    "length",
    "whitespace",
    "punctuation",
)
SEVERITIES = ("error", "warning")

# English texts; the caller localizes by code. Empty parameters are shown as "—".
MESSAGES: dict[str, str] = {
    "empty": "The translation is empty although the source has text.",
    "too_long": "The translation has {length} characters; at most {limit} are checked and kept.",
    "not_text": "The translation holds characters that are not text: {characters}.",
    "placeholder_missing": "Placeholders of the source are missing: {placeholders}.",
    "placeholder_extra": (
        "The translation has placeholders the source does not have, or has them more "
        "often: {placeholders}."
    ),
    "value_typed": (
        "Keep the placeholders {placeholders} instead of typing their values: a reused "
        "translation must take the values of its new sentence."
    ),
    "tag_order": (
        "Paired placeholders cross each other or close before they open: {placeholders}."
    ),
    "numbers": "The numbers differ from the source (missing: {missing}; extra: {extra}).",
    "links": "URLs or e-mail addresses of the source are missing or changed: {links}.",
    "glossary": 'The glossary requires "{expected}" for "{term}".',
    "untranslated": "Parts of the translation look untranslated: {words}.",
    "length": (
        "The translation is {ratio} times as long as the source, far from what is usual "
        "for this language."
    ),
    "whitespace": "The {side} whitespace differs from the source.",
    "punctuation": (
        'The final punctuation differs: "{source}" in the source, "{target}" in the translation.'
    ),
}


@dataclass(frozen=True)
class Issue:
    """One problem of a target, by code, so the review screen can filter and localize it."""

    code: str  # one of CODES
    params: dict[str, str]  # details for the message, e.g. {"missing": "56.39"}
    severity: str = "warning"  # "error": structure problems (placeholders, tags) or empty

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown issue code {self.code!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")


@dataclass(frozen=True)
class Term:
    """A glossary entry (the parts of :class:`feedsvc.domain.GlossaryTerm` QA needs)."""

    source_term: str
    target_term: str
    do_not_translate: bool = False


# --- text helpers ----------------------------------------------------------------------

_CJK = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_WORD = rf"[^\W_{_CJK}]"  # a letter or digit that is not CJK: where a "whole word" ends
_LETTER = rf"[^\W\d_{_CJK}]"
# ASCII only: CJK text often follows a URL or address without a space.
_URL_OR_EMAIL = re.compile(
    # An address starts only where a run begins: a long run without "@" would otherwise
    # be scanned again from each of its characters (quadratic).
    r"https?://[!-~]+|www\.[!-~]+"
    r"|(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_LATIN_WORD = re.compile(rf"[{_LATIN}]+(?:['’][{_LATIN}]+)*")
_ANY_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _bare(text: str) -> str:
    """Text without placeholder tokens: what the translator wrote."""
    return strip_tokens(text)


def _paired(source: str) -> set[str]:
    return paired_ids(source)


def _rendered(text: str, source: str, placeholders: Mapping[str, str]) -> str:
    """Text with protected values (numbers, URLs…) put back and markup dropped."""
    paired = _paired(source)
    values = {
        pid: value
        for pid, value in placeholders.items()
        if pid not in paired and not value.startswith("<")
    }
    return render_text(SourceSegment("qa", source, values), text)


def _language(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].lower()


_NON_LATIN = frozenset(
    "zh ja ko ru uk be bg mk sr kk ky tg mn ar fa ur ps he yi el hy ka hi mr ne bn pa gu or "
    "ta te kn ml si th lo km my bo am ti dv".split()
)


def _is_latin(tag: str) -> bool:
    """Latin script: a ``Latn`` script subtag decides, else the language's usual script."""
    subtags = tag.replace("_", "-").split("-")
    scripts = [s.title() for s in subtags[1:] if len(s) == 4 and s.isalpha()]
    if scripts:
        return scripts[0] == "Latn"
    return _language(tag) not in _NON_LATIN


def _listing(words: Sequence[str], limit: int = 8) -> str:
    distinct = list(dict.fromkeys(words))
    return ", ".join(distinct[:limit]) + (", …" if len(distinct) > limit else "")


# --- glossary matching -----------------------------------------------------------------


def glossary_hits(source: str, terms: Sequence[Term]) -> list[Term]:
    """Terms found in the source, each once, in order of first appearance: the review
    screen lists them next to the segment."""
    return list(dict.fromkeys(hit.term for hit in term_matches(source, terms)))


# --- numbers ---------------------------------------------------------------------------

_NUMBER = re.compile(
    rf"(?<![0-9])(?<!{_LETTER})(?<!{_LETTER}[-\u2010\u2011])"
    r"(?:[0-9]{1,3}(?:[ \u00a0\u202f\u2009][0-9]{3}(?![0-9]))+(?:[.,][0-9]+)?"
    r"|[0-9]+(?:[.,][0-9]+)*)"
)
_GROUP_SPACE = re.compile(r"[ \u00a0\u202f\u2009]")
_THOUSANDS = re.compile(r"[0-9]{1,3},[0-9]{3}")
# Scale words by language (powers of ten): "1.2 million" = "120万". CJK ones follow the
# digits directly; 千 alone is left out (千米 is a kilometre).
_SCALES: dict[str, dict[str, int]] = {
    "en": {
        "thousand": 3,
        "million": 6,
        "millions": 6,
        "billion": 9,
        "billions": 9,
        "bn": 9,
        "trillion": 12,
        "trillions": 12,
    },
    "fr": {"million": 6, "millions": 6, "milliard": 9, "milliards": 9, "billion": 12},
    "de": {
        "million": 6,
        "millionen": 6,
        "mio": 6,
        "milliarde": 9,
        "milliarden": 9,
        "mrd": 9,
        "billion": 12,
        "billionen": 12,
    },
    "es": {"millón": 6, "millones": 6, "mil millones": 9, "billón": 12, "billones": 12},
    "zh": {"万": 4, "萬": 4, "百万": 6, "千万": 7, "亿": 8, "億": 8, "万亿": 12},
    "ja": {"万": 4, "億": 8, "兆": 12},
    "ko": {"만": 4, "억": 8, "조": 12},
}
_MONTH_AFTER = ("月", "월")


@functools.lru_cache(maxsize=64)
def _scale_pattern(language: str) -> re.Pattern[str] | None:
    scales = _SCALES.get(language)
    if not scales:
        return None
    words = "|".join(re.escape(w) for w in sorted(scales, key=len, reverse=True))
    if language in ("zh", "ja", "ko"):
        return re.compile(f"({words})")
    return re.compile(rf"[ \u00a0\u202f]?({words})(?!{_WORD})", re.IGNORECASE)


@dataclass(frozen=True)
class _Number:
    key: str  # the value, normalized
    shown: str  # as written
    month: bool  # 1–12 followed by 月/월
    start: int = 0  # where it was found (numbers are listed in text order)
    hard: bool = True  # False: a reading that only counts when the other side has it
    alternatives: frozenset[str] = frozenset()  # other possible values ("3千米": 3)

    @property
    def readings(self) -> frozenset[str]:
        return self.alternatives | {self.key}


def _ascii_digits(text: str) -> str:
    """Full-width (and any other Unicode decimal) digits as ASCII digits."""
    return "".join(str(unicodedata.decimal(char, 0)) if char.isdecimal() else char for char in text)


def _to_decimal(raw: str) -> Decimal:
    """One written number to its value: the last lone separator is the decimal mark."""
    digits = _GROUP_SPACE.sub("", raw)
    commas, dots = digits.count(","), digits.count(".")
    if commas and dots:
        mark = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif commas == 1 and not _THOUSANDS.fullmatch(digits):
        mark = ","  # 3,5 (a decimal comma); 1,200 is a thousands separator
    elif dots == 1:
        mark = "."
    else:
        mark = ""  # 1,200 / 1,200,000 / 1.200.000: separators only
    integer, fraction = digits, ""
    if mark:
        integer, _, fraction = digits.rpartition(mark)
    integer = integer.replace(",", "").replace(".", "")
    return Decimal(f"{integer}.{fraction}" if fraction else integer)


def _key(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _numbers(text: str, language: str) -> list[_Number]:
    text = _URL_OR_EMAIL.sub(" ", _ascii_digits(text))
    return _digit_numbers(text, language)


def _digit_numbers(text: str, language: str) -> list[_Number]:
    """Numbers written with digits (``text`` already has ASCII digits, no URLs)."""
    scale = _scale_pattern(_language(language))
    scales = _SCALES.get(_language(language), {})
    found = []
    for match in _NUMBER.finditer(text):
        value, end = _to_decimal(match.group()), match.end()
        scaled = scale.match(text, end) if scale else None
        if scaled:
            value, end = value.scaleb(scales[scaled.group(1).lower()]), scaled.end()
        month = (
            not scaled
            and text.startswith(_MONTH_AFTER, match.end())
            and value == value.to_integral_value()
            and 1 <= value <= 12
        )
        shown = text[match.start() : end].strip()
        found.append(_Number(_key(value), shown, month, match.start()))
    return found


def _shown(numbers: Sequence[_Number], wanted: Counter[str]) -> str:
    left, shown = Counter(wanted), []
    for number in numbers:
        if left[number.key] > 0:
            shown.append(number.shown)
            left[number.key] -= 1
    return ", ".join(shown)


# --- Chinese numbers -------------------------------------------------------------------
# For a Chinese target (zh-Hans, zh-Hant…) numbers are compared after normalizing both
# sides. Digits in the target (with 万/亿 and, as a possible reading, 千/百) must match
# the source as before. Chinese numerals (四, 三十五, 两千, 九十四亿, 第二, 百分之五,
# 二〇二六) are only *readings*: they match a source value when the source has it, and are
# never reported as extra on their own (一些, 统一, 万一, 四川 are words, not numbers).
# Likewise spelled-out English numbers in the source ("four", "second", "two million")
# match a Chinese numeral or digit when the target has one, and are never reported as
# missing: translations drop or rephrase them freely ("one of" → 之一, "first" → 首次).

_ZH_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"十": 1, "百": 2, "千": 3}  # powers of ten within a group of four digits
_ZH_GROUPS = {"亿": 8, "億": 8, "万": 4, "萬": 4}
_ZH_NUMERAL = "〇零一二三四五六七八九两兩十百千万萬亿億"
_ZH_RUN = re.compile(rf"[{_ZH_NUMERAL}]+(?:[点點][〇零一二三四五六七八九]+[万萬亿億]*)?")
_ZH_PERCENT = re.compile(rf"百分之([{_ZH_NUMERAL}]+(?:[点點][〇零一二三四五六七八九]+)?)")
# 三成 = 30 %: a numeral before 成 counts tenths (not 一成不变, "unchanging").
_ZH_TENTHS = re.compile(
    r"(?<![〇零一二三四五六七八九十])([一二三四五六七八九两兩]|十)成(?!不变|不變)"
)
# 20世纪90年代 / 二十世纪九十年代 = the 1990s.
_ZH_CENTURY_DECADE = re.compile(
    rf"([0-9]+|[{_ZH_NUMERAL}]+)\s*世[纪紀]\s*([0-9]+|[{_ZH_NUMERAL}]+)\s*年代"
)
# Digits followed by 千/百 that the scale words leave out (千米 is a kilometre; 3千 is
# usually 3,000): both readings count.
_ZH_SMALL_SCALE = re.compile(r"\s?([千百])(?![万萬亿億])")
_ZH_UNIT_AFTER_THOUSAND = tuple("米克瓦卡焦伏帕赫")
# Words whose numeral characters are no numbers (masked before looking for numerals).
_ZH_NOT_NUMBERS = re.compile(
    "|".join(
        sorted(
            """一些 一起 一直 一定 一样 一樣 一般 一切 一旦 一致 一同 一向 一再 一边 一邊 一面
            一方面 一体 一體 一带一路 一帶一路 统一 統一 唯一 万一 萬一 不一 一下 逐一 一流 同一
            单一 單一 一系列 一律 一时 一時 一路 一度 一并 一併 一齐 一齊 一番 一阵 一陣 一味
            一贯 一貫 一举 一舉 一概 一心 进一步 進一步 第一时间 第一時間 万物 萬物 万众 萬眾
            千方百计 千方百計 十分 十足 百姓 百货 百貨 百科 百分点 百分點 四处 四處 四周 两岸
            兩岸 四川 三星 三亚 三亞 九龙 九龍 五角大楼 五角大樓 亿万富翁 億萬富翁 万万
            萬萬""".split(),
            key=len,
            reverse=True,
        )
    )
    + r"|(?:周|週|星期|礼拜|禮拜)[一二三四五六日天]"  # weekdays
    + r"|一[点點](?![〇零一二三四五六七八九])|千万(?=[不别別要勿莫])|千萬(?=[不别別要勿莫])"
)
_CURRENCY_CODE = re.compile(
    r"(?<![A-Za-z])(?:RMB|CNY|USD|HKD|TWD|NTD|EUR|GBP|JPY|KRW|[A-Z]{1,3}\$)(?=\s?[0-9])"
)
# "$5m", "€3bn" after a currency sign: "m" is a million only there (5m is also 5 metres).
_CURRENCY_SCALE = re.compile(r"(?<=[$€£¥])([0-9][0-9.,]*)(m|mn|k)(?![A-Za-z])")

_EN_UNITS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_EN_TENS = {
    word: 10 * value
    for value, word in enumerate(
        "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2
    )
}
_EN_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fifth": 5,
    "eighth": 8,
    "ninth": 9,
    "twelfth": 12,
    **{f"{word}th": value for word, value in _EN_UNITS.items() if value in (4, 6, 7)},
    **{f"{word}th": value for word, value in _EN_UNITS.items() if 10 <= value <= 19},
    **{word[:-1] + "ieth": value for word, value in _EN_TENS.items()},
}
_EN_ORDINALS.pop("twelveth", None)
# "noon" is written 中午12时; "four decades" 40多年.
_EN_ONES = {**_EN_UNITS, **_EN_ORDINALS, "noon": 12, "midnight": 12, "dozen": 12}
_EN_SCALE_WORDS = {
    "decades": 1,
    "hundred": 2,
    "thousand": 3,
    "million": 6,
    "billion": 9,
    "trillion": 12,
}


def _alternation(words: Mapping[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_EN_NUMBER_WORD = re.compile(
    rf"(?<!\w)(?:(?P<tens>{_alternation(_EN_TENS)})"
    rf"(?:[- ](?P<ones>{_alternation({w: v for w, v in _EN_ONES.items() if 1 <= v <= 9})}))?"
    rf"|(?P<single>{_alternation(_EN_ONES)}))"
    rf"(?:\s+(?P<scale>{_alternation(_EN_SCALE_WORDS)}))?(?!\w)",
    re.IGNORECASE,
)


def _zh_group(text: str) -> Decimal:
    """Up to four digits written with 十/百/千: 三十五, 一百零五, 两千五 (= 2,500)."""
    value, number, last_unit = 0, None, 0
    for char in text:
        if char in _ZH_DIGITS:
            number = _ZH_DIGITS[char]
        else:
            last_unit = _ZH_UNITS[char]
            value += (1 if number is None else number) * 10**last_unit
            number = None
    if number is not None:
        if len(text) >= 2 and text[-2] in _ZH_UNITS and last_unit > 1:
            value += number * 10 ** (last_unit - 1)  # 两千五: the unit below is implied
        else:
            value += number
    return Decimal(value)


def _zh_integer(text: str) -> Decimal:
    if all(char in _ZH_DIGITS for char in text):  # 二〇二六: digit by digit
        return Decimal("".join(str(_ZH_DIGITS[char]) for char in text))
    for group, exponent in _ZH_GROUPS.items():
        at = text.rfind(group)
        if at < 0:
            continue
        high = _zh_integer(text[:at]) if text[:at] else Decimal(1)
        low_text = text[at + 1 :]
        if len(low_text) == 1 and low_text in _ZH_DIGITS:  # 三万五 = 35,000
            low = Decimal(_ZH_DIGITS[low_text]).scaleb(exponent - 1)
        else:
            low_text = low_text.lstrip("零〇")
            low = _zh_integer(low_text) if low_text else Decimal(0)
        return high.scaleb(exponent) + low
    return _zh_group(text)


def _zh_value(text: str) -> Decimal:
    """A Chinese numeral to its value: 九十四亿, 三点五, 二〇二六, 第二's 二, 一万亿."""
    integer, mark, rest = (
        re.split("([点點])", text, maxsplit=1) if re.search("[点點]", text) else (text, "", "")
    )
    if not mark:
        return _zh_integer(text)
    fraction = "".join(str(_ZH_DIGITS[char]) for char in rest if char in _ZH_DIGITS)
    value = _zh_integer(integer) + Decimal("0." + fraction)
    for char in rest:
        if char in _ZH_GROUPS:
            value = value.scaleb(_ZH_GROUPS[char])
    return value


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _value_of(raw: str) -> Decimal:
    return _to_decimal(raw) if raw[0].isdigit() else _zh_value(raw)


def _chinese_numbers(text: str, language: str) -> list[_Number]:
    """The numbers of a Chinese target: digits (hard) and Chinese numerals (readings)."""
    text = _URL_OR_EMAIL.sub(" ", _ascii_digits(text))
    text = _CURRENCY_CODE.sub(lambda m: " " * len(m.group()), text)
    found: list[_Number] = []
    for match in _ZH_CENTURY_DECADE.finditer(text):
        century, decade = _value_of(match.group(1)), _value_of(match.group(2))
        value = (century - 1) * 100 + decade
        hard = match.group(1)[0].isdigit() or match.group(2)[0].isdigit()
        found.append(_Number(_key(value), match.group(), False, match.start(), hard))
        text = _mask(text, match.start(), match.end())
    for number in _digit_numbers(text, language):
        end = number.start + len(number.shown)
        alternatives: set[str] = set()
        shown = number.shown
        small = _ZH_SMALL_SCALE.match(text, end)
        value = Decimal(number.key)
        if small and number.shown[-1].isdigit():
            scaled = value.scaleb(_ZH_UNITS[small.group(1)])
            if text.startswith(_ZH_UNIT_AFTER_THOUSAND, small.end()):
                alternatives.add(_key(scaled))  # 3千米: 3 km first
            else:
                alternatives.add(number.key)  # 3千: 3,000 first
                number = _Number(_key(scaled), number.shown, False, number.start)
            end, shown = small.end(), text[number.start : small.end()].strip()
        elif text.startswith("年代", end) and value == value.to_integral_value() and value < 100:
            # 90年代 for the 1990s (or the '90s)
            alternatives.update(_key(value + century) for century in (1900, 2000))
        found.append(
            _Number(number.key, shown, number.month, number.start, True, frozenset(alternatives))
        )
        text = _mask(text, number.start, end)
    for match in _ZH_PERCENT.finditer(text):
        value = _zh_value(match.group(1))
        found.append(_Number(_key(value), match.group(), False, match.start(), False))
        text = _mask(text, match.start(), match.end())
    for match in _ZH_TENTHS.finditer(text):
        value = _zh_value(match.group(1)) * 10
        found.append(_Number(_key(value), match.group(), False, match.start(), False))
        text = _mask(text, match.start(), match.end())
    text = _ZH_NOT_NUMBERS.sub(lambda m: " " * len(m.group()), text)
    for match in _ZH_RUN.finditer(text):
        raw = match.group()
        value = _zh_value(raw)
        alternatives = set()
        if raw.endswith("千") and text.startswith(_ZH_UNIT_AFTER_THOUSAND, match.end()):
            alternatives.add(_key(value.scaleb(-3)))  # 三千米 = 3 km
        month = text.startswith("月", match.end()) and 1 <= value <= 12
        found.append(
            _Number(_key(value), raw, month, match.start(), False, frozenset(alternatives))
        )
    return sorted(found, key=lambda n: n.start)


def _english_for_chinese(text: str) -> list[_Number]:
    """The numbers of an English source to compare with a Chinese target: digits as
    before, plus a currency's "m"/"k" and spelled-out numbers as readings."""
    text = _URL_OR_EMAIL.sub(" ", _ascii_digits(text))
    text = _CURRENCY_CODE.sub(lambda m: " " * len(m.group()), text)
    found = []
    for number in _digit_numbers(text, "en"):
        end = number.start + len(number.shown)
        short = _CURRENCY_SCALE.match(text, number.start)
        if short and short.end(1) == end:
            exponent = 3 if short.group(2).lower() == "k" else 6
            scaled = _key(Decimal(number.key).scaleb(exponent))
            number = _Number(
                scaled, short.group(), False, number.start, True, frozenset({number.key})
            )
        found.append(number)
        text = _mask(text, number.start, end)
    for match in _EN_NUMBER_WORD.finditer(text):
        if match.group("single"):
            value = _EN_ONES[match.group("single").lower()]
        else:
            value = _EN_TENS[match.group("tens").lower()]
            value += _EN_ONES.get((match.group("ones") or "").lower(), 0)
        amount = Decimal(value)
        if match.group("scale"):
            amount = amount.scaleb(_EN_SCALE_WORDS[match.group("scale").lower()])
        found.append(_Number(_key(amount), match.group(), False, match.start(), False))
    return sorted(found, key=lambda n: n.start)


def _is_chinese(language: str) -> bool:
    return _language(language) == "zh"


def _source_numbers(text: str, source_lang: str, target_lang: str) -> list[_Number]:
    if _is_chinese(target_lang) and _language(source_lang) == "en":
        return _english_for_chinese(text)
    return _numbers(text, source_lang)


def _target_numbers(text: str, target_lang: str) -> list[_Number]:
    if _is_chinese(target_lang):
        return _chinese_numbers(text, target_lang)
    return _numbers(text, target_lang)


def _match(source: Sequence[_Number], target: Sequence[_Number]) -> dict[int, int]:
    """Source index → target index of numbers sharing a reading. Digits are paired with
    digits first, then with Chinese numerals; spelled-out source numbers come last, so a
    reading never takes the place a written number could have had."""
    pairs: dict[int, int] = {}  # target → source

    def assign(s: int, allowed: list[int], seen: set[int]) -> bool:
        for t in allowed:
            if t in seen or not source[s].readings & target[t].readings:
                continue
            seen.add(t)
            if t not in pairs or assign(pairs[t], allowed, seen):
                pairs[t] = s
                return True
        return False

    for source_hard, target_hard in ((True, True), (True, False), (False, True), (False, False)):
        taken = set(pairs)
        allowed = [t for t, n in enumerate(target) if n.hard is target_hard and t not in taken]
        done = set(pairs.values())
        for s, number in enumerate(source):
            if number.hard is source_hard and s not in done:
                assign(s, allowed, set())
    return {s: t for t, s in pairs.items()}


def _unmatched(
    source: Sequence[_Number], target: Sequence[_Number]
) -> tuple[list[_Number], list[_Number]]:
    """(written source numbers the target lacks, target numbers the source lacks)."""
    pairs = _match(source, target)
    used = set(pairs.values())
    missing = [n for s, n in enumerate(source) if s not in pairs and n.hard]
    extra = [n for t, n in enumerate(target) if t not in used]
    return missing, extra


# --- checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    source: str
    target: str
    placeholders: Mapping[str, str]
    hits: list[TermMatch[Term]]
    source_lang: str
    target_lang: str


def _has_text(text: str) -> bool:
    return any(char.isalnum() for char in _bare(text))


def _check_empty(pair: _Pair) -> list[Issue]:
    """Only whitespace, punctuation or placeholders left: nothing was translated."""
    if _has_text(pair.source) and not _has_text(pair.target):
        return [Issue("empty", {}, "error")]
    return []


def _typed_out(value: str, rendered_target: str, target_lang: str, in_context: str = "") -> bool:
    """A protected plain-text value written out instead of its token. A number counts with
    the scale word that follows it in the source too ("{1} billion" = 8.6 → "86亿"), and in
    a Chinese target as a Chinese numeral too ("{1}家" = 4 → "四家")."""
    if value.startswith("<"):
        return False
    numbers = _source_numbers(value, "en", target_lang)
    if numbers and not re.search(_LETTER, value):
        have = _target_numbers(rendered_target, target_lang)
        if not _unmatched(numbers, have)[0]:
            return True
        scaled = [n for n in _source_numbers(in_context, "en", target_lang) if n.hard]
        scaled = scaled[: len(numbers)]
        return bool(scaled) and not _unmatched(scaled, have)[0]
    return bool(value) and value in rendered_target


def _in_context(pid: str, pair: _Pair) -> str:
    """A standalone placeholder's value with the words that follow its token in the source."""
    token = render_token(pid)
    at = pair.source.find(token)
    after = pair.source[at + len(token) : at + len(token) + 24] if at >= 0 else ""
    return pair.placeholders.get(pid, "") + strip_tokens(after, " ")


def _check_placeholder_missing(pair: _Pair) -> list[Issue]:
    """A lost token loses a link, bold text or a protected value."""
    missing = Counter(placeholder_ids(pair.source)) - Counter(placeholder_ids(pair.target))
    paired = _paired(pair.source)
    rendered = _rendered(pair.target, pair.source, pair.placeholders)
    tokens, typed = [], []
    for pid in placeholder_ids(pair.source):
        if missing[pid] <= 0:
            continue
        missing[pid] -= 1
        value = pair.placeholders.get(pid)
        if (
            pid in paired
            or value is None
            or not _typed_out(value, rendered, pair.target_lang, _in_context(pid, pair))
        ):
            tokens.append(render_token(pid))
        else:
            typed.append(render_token(pid))
    found = []
    if tokens:
        found.append(Issue("placeholder_missing", {"placeholders": ", ".join(tokens)}, "error"))
    if typed:
        found.append(Issue("value_typed", {"placeholders": ", ".join(typed)}))
    return found


def _check_placeholder_extra(pair: _Pair) -> list[Issue]:
    """An unknown or repeated token would duplicate or invent markup."""
    extra = Counter(placeholder_ids(pair.target)) - Counter(placeholder_ids(pair.source))
    tokens = []
    for pid in reversed(placeholder_ids(pair.target)):  # the later copies are the extra ones
        if extra[pid] > 0:
            extra[pid] -= 1
            tokens.append(render_token(pid))
    if not tokens:
        return []
    return [Issue("placeholder_extra", {"placeholders": ", ".join(reversed(tokens))}, "error")]


def _spans(text: str, paired: set[str]) -> dict[str, tuple[int, int]]:
    """Token positions (opening, closing) of paired ids present exactly once each."""
    ids = placeholder_ids(text)
    return {
        pid: (ids.index(pid), ids.index("/" + pid))
        for pid in paired
        if ids.count(pid) == 1 and ids.count("/" + pid) == 1
    }


def _broken(spans: dict[str, tuple[int, int]]) -> set[tuple[str, str]]:
    """(id, id) for a closing before its opening, (a, b) for crossing pairs."""
    broken = {(pid, pid) for pid, (opening, closing) in spans.items() if closing < opening}
    valid = [(pid, span) for pid, span in spans.items() if span[0] < span[1]]
    for a, (a_open, a_close) in valid:
        for b, (b_open, b_close) in valid:
            if a_open < b_open < a_close < b_close:
                broken.add((a, b))
    return broken


def _check_tag_order(pair: _Pair) -> list[Issue]:
    """Crossing pairs cannot nest in HTML: the renderer would close elements early."""
    paired = _paired(pair.source)
    broken = _broken(_spans(pair.target, paired)) - _broken(_spans(pair.source, paired))
    ids = sorted({pid for both in broken for pid in both}, key=int)
    if not ids:
        return []
    shown = ", ".join(render_token(pid) + "…" + render_token(pid, closing=True) for pid in ids)
    return [Issue("tag_order", {"placeholders": shown}, "error")]


def _check_numbers(pair: _Pair) -> list[Issue]:
    """A wrong number is the most damaging mistake a fluent translation can hide."""
    source = _source_numbers(
        _rendered(pair.source, pair.source, pair.placeholders), pair.source_lang, pair.target_lang
    )
    target = _target_numbers(
        _rendered(pair.target, pair.source, pair.placeholders), pair.target_lang
    )
    missing, unmatched = _unmatched(source, target)
    extra = [n for n in unmatched if n.hard and not n.month]
    if not missing and not extra:
        return []
    # A Chinese numeral is listed only next to a real difference, and not a lone 一.
    extra += [
        n
        for n in unmatched
        if not n.hard and not n.month and n.key != "1" and n.shown[-1] not in "万萬亿億"
    ]
    hard_source = [n for n in source if n.hard]
    params = {
        "missing": _shown(hard_source, Counter(n.key for n in missing)),
        "extra": ", ".join(n.shown for n in sorted(extra, key=lambda n: n.start)),
    }
    return [Issue("numbers", params)]


_LINK_TRAILING = ".,;:!?'\"’”)]"


def _links(text: str) -> list[str]:
    return [link.rstrip(_LINK_TRAILING) for link in _URL_OR_EMAIL.findall(text)]


def _check_links(pair: _Pair) -> list[Issue]:
    """The model reads URLs and addresses as text: one it rewrote leads readers astray."""
    target = _rendered(pair.target, pair.source, pair.placeholders)
    lost = [
        link
        for link in dict.fromkeys(_links(_rendered(pair.source, pair.source, pair.placeholders)))
        if not re.search(re.escape(link) + r"(?![\w/.\-?=&%#~+@])", target)
    ]
    if not lost:
        return []
    return [Issue("links", {"links": _listing(lost)})]


def _check_glossary(pair: _Pair) -> list[Issue]:
    """Agreed terminology (names, institutions) must be used consistently."""
    target = _bare(pair.target)
    issues, seen = [], set()
    for hit in pair.hits:
        dnt = hit.term.do_not_translate
        expected = hit.text if dnt else hit.term.target_term
        if not expected.strip() or (hit.term.source_term, expected) in seen:
            continue
        seen.add((hit.term.source_term, expected))
        if next(find_term(expected, target, not dnt), None) is None:
            params = {"term": hit.term.source_term, "expected": expected}
            issues.append(Issue("glossary", params))
    return issues


def _check_untranslated(pair: _Pair) -> list[Issue]:
    """Source text left in place (an engine passing text through, a forgotten edit)."""
    kept: set[str] = set()  # words of do-not-translate terms and of required target terms
    for hit in pair.hits:
        allowed = hit.text if hit.term.do_not_translate else hit.term.target_term
        kept.update(word.lower() for word in _ANY_WORD.findall(allowed))
    if _is_latin(pair.target_lang):
        if pair.target.split() != pair.source.split():
            return []
        words = [w for w in _ANY_WORD.findall(_bare(pair.source)) if w.lower() not in kept]
    else:
        text = _URL_OR_EMAIL.sub(" ", _bare(pair.target))
        words = [
            word
            for word in _LATIN_WORD.findall(text)
            if word.lower() not in kept and not (word.isupper() and len(word) <= 6)
        ]
    if len(words) < 3:
        return []
    return [Issue("untranslated", {"words": _listing(words)})]


# Characters relative to English, (low, high); other languages use the default.
_LENGTH_RATIOS = {"en": (1.0, 1.0), "zh": (0.3, 0.5), "ja": (0.3, 0.5), "ko": (0.3, 0.5)}
_DEFAULT_RATIO = (0.9, 1.4)
_MIN_LENGTH = 20


def _reading(text: str, pair: _Pair) -> str:
    """What length is measured on: protected numbers in, markup, URLs and addresses out
    (whether the translator kept a URL's token or typed it, it is not translated text)."""
    rendered = _rendered(text, pair.source, pair.placeholders)
    return " ".join(_URL_OR_EMAIL.sub(" ", rendered).split())


def _check_length(pair: _Pair) -> list[Issue]:
    """Far too short or long usually means a dropped or repeated clause."""
    source, target = _reading(pair.source, pair), _reading(pair.target, pair)
    if len(source) < _MIN_LENGTH:
        return []  # short texts vary too much
    source_low, source_high = _LENGTH_RATIOS.get(_language(pair.source_lang), _DEFAULT_RATIO)
    target_low, target_high = _LENGTH_RATIOS.get(_language(pair.target_lang), _DEFAULT_RATIO)
    low, high = target_low / source_high, target_high / source_low
    ratio = len(target) / len(source)
    if low / 2 <= ratio <= high * 2:
        return []
    return [Issue("length", {"ratio": f"{ratio:.2f}"})]


def _edges(text: str) -> tuple[str, str]:
    stripped = text.strip()
    if not stripped:
        return text, ""
    start = text.index(stripped)
    return text[:start], text[start + len(stripped) :]


def _check_whitespace(pair: _Pair) -> list[Issue]:
    """Segments are joined to their neighbours as they are: extra spaces show."""
    issues = []
    for side, source, target in zip(
        ("leading", "trailing"), _edges(pair.source), _edges(pair.target), strict=True
    ):
        if source != target:
            issues.append(Issue("whitespace", {"side": side}))
    return issues


_CLOSERS = "\"'”’»)]」』）》】〕〉›"
_TRAILING_TOKEN = re.compile(f"(?:{TOKEN.pattern})$")
_KINDS = {
    ".": ".",
    "。": ".",
    "．": ".",
    "।": ".",
    "!": "!",
    "！": "!",
    "?": "?",
    "？": "?",
    "؟": "?",
    ":": ":",
    "：": ":",
    ";": ";",
    "；": ";",
    "؛": ";",
    ",": ",",
    "，": ",",
    "、": ",",
    "،": ",",
    "…": "…",
    "...": "…",
}


def _final_mark(text: str) -> str:
    """The last punctuation mark, after closing quotes, brackets and tokens; "" if none."""
    text = text.rstrip()
    while True:
        stripped = _TRAILING_TOKEN.sub("", text).rstrip().rstrip(_CLOSERS).rstrip()
        if stripped == text:
            break
        text = stripped
    if text.endswith("..."):
        return "..."
    return text[-1] if text and text[-1] in _KINDS else ""


def _check_punctuation(pair: _Pair) -> list[Issue]:
    """A question turned statement, or a lost full stop, changes how the text reads."""
    source, target = _final_mark(pair.source), _final_mark(pair.target)
    if _KINDS.get(source) == _KINDS.get(target):
        return []
    return [Issue("punctuation", {"source": source, "target": target})]


_CHECKS: tuple[Callable[[_Pair], list[Issue]], ...] = (
    _check_placeholder_missing,
    _check_placeholder_extra,
    _check_tag_order,
    _check_numbers,
    _check_links,
    _check_glossary,
    _check_untranslated,
    _check_length,
    _check_whitespace,
    _check_punctuation,
)


def check(
    source: str,
    target: str,
    placeholders: Mapping[str, str],
    terms: Sequence[Term] = (),
    source_lang: str = "en",
    target_lang: str = "zh-Hans",
) -> list[Issue]:
    """Every issue of the target, errors (placeholders) first, in the order of CODES."""
    pair = _Pair(
        source,
        target,
        placeholders,
        term_matches(source, terms),
        source_lang,
        target_lang,
    )
    empty = _check_empty(pair)
    if empty:
        return empty
    limit = target_limit(source)
    if len(target) > limit:  # no translation is this long; its checks would cost seconds
        return [Issue("too_long", {"length": str(len(target)), "limit": str(limit)}, "error")]
    if found := sorted(set(_NOT_TEXT.findall(target))):
        shown = ", ".join(f"U+{ord(char):04X}" for char in found)
        return [Issue("not_text", {"characters": shown}, "error")]
    return [issue for run in _CHECKS for issue in run(pair)]


# Control characters (tab and newline aside), C1 controls, bidirectional overrides and
# isolates (they reorder what readers see), noncharacters: never part of a translation.
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff]"
)


def target_limit(source: str) -> int:
    """The longest translation a segment accepts: three times its source, and some."""
    return 3 * len(source) + 500


class _Shown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "—"


def message(issue: Issue) -> str:
    """The English sentence for an issue; empty or absent details read as "—"."""
    params = _Shown({key: value or "—" for key, value in issue.params.items()})
    return MESSAGES[issue.code].format_map(params)
