"""Quality checks a translated segment goes through before a reviewer approves it.

Each check is a small function with its own code, so the review screen can show, filter
and localize issues by code (English texts are in MESSAGES). Everything here is pure:
strings in, issues out. Source and target use the placeholder syntax of
:mod:`feedsvc.segments` (``{1}…{/1}`` paired, ``{2}`` standalone).

Decisions, so callers know what to expect:

- **Errors** are the placeholder problems that would damage markup (``placeholder_missing``,
  ``placeholder_extra``, ``tag_order``), a typed-out value (``value_typed``) and an
  ``empty`` target; everything else warns.
  An empty target is reported alone: every other issue would only follow from it.
- **Typed-out values** are errors (``value_typed``): a standalone placeholder protecting
  plain text (today only a literal brace; segments cut before numbers went back into the
  text protected numbers, URLs and e-mail addresses too) written out instead of its token.
  It is reported as typed, not as missing.
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
- **Glossary** terms match like :func:`feedsvc.glossary.protect`: case-insensitive, whole
  words, longest first, never inside a placeholder token. The required target term is
  found case-insensitively; a do-not-translate term must appear exactly as written in
  the source. Inflected forms are not recognised.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .segments import Segment, placeholder_ids, render_text

CODES: tuple[str, ...] = (
    "empty",
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
    code: str  # one of CODES
    params: dict[str, str]  # details for the message, e.g. {"missing": "56.39"}
    severity: str = "warning"  # "error": placeholder problems that would break markup

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

_TOKEN = re.compile(r"\{(/?)(\d+)\}")  # the same syntax as feedsvc.segments
_CJK = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_WORD = rf"[^\W_{_CJK}]"  # a letter or digit that is not CJK: where a "whole word" ends
_LETTER = rf"[^\W\d_{_CJK}]"
_WORD_CHAR = re.compile(_WORD)
# ASCII only: CJK text often follows a URL or address without a space.
_URL_OR_EMAIL = re.compile(
    r"https?://[!-~]+|www\.[!-~]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_LATIN_WORD = re.compile(rf"[{_LATIN}]+(?:['’][{_LATIN}]+)*")
_ANY_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _bare(text: str) -> str:
    """Text without placeholder tokens: what the translator wrote."""
    return _TOKEN.sub("", text)


def _paired(source: str) -> set[str]:
    return {pid[1:] for pid in placeholder_ids(source) if pid.startswith("/")}


def _rendered(text: str, source: str, placeholders: Mapping[str, str]) -> str:
    """Text with protected values (numbers, URLs…) put back and markup dropped."""
    paired = _paired(source)
    values = {
        pid: value
        for pid, value in placeholders.items()
        if pid not in paired and not value.startswith("<")
    }
    return render_text(Segment("qa", source, values), text)


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


@dataclass(frozen=True)
class _Hit:
    term: Term
    text: str  # as written in the source
    start: int


@functools.lru_cache(maxsize=4096)
def _term_pattern(term: str, ignore_case: bool) -> re.Pattern[str]:
    """The term with any spacing between its words; boundaries are checked by _find."""
    body = r"\s+".join(re.escape(word) for word in term.split())
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def _find(term: str, text: str, ignore_case: bool) -> Iterator[re.Match[str]]:
    """Whole-word matches: no letter or digit (CJK aside) may touch an edge that is one.

    The boundary is checked here rather than in the pattern: a lookaround with that
    character class makes each of a large glossary's patterns slow to compile."""
    pattern = _term_pattern(term, ignore_case)
    check_start = bool(_WORD_CHAR.fullmatch(term.strip()[0]))
    check_end = bool(_WORD_CHAR.fullmatch(term.strip()[-1]))
    position = 0
    while match := pattern.search(text, position):
        start, end = match.span()
        if (check_start and start > 0 and _WORD_CHAR.fullmatch(text[start - 1])) or (
            check_end and end < len(text) and _WORD_CHAR.fullmatch(text[end])
        ):
            position = start + 1
            continue
        yield match
        position = max(end, start + 1)


def _glossary_matches(source: str, terms: Sequence[Term]) -> list[_Hit]:
    """Longest terms first; a span taken by one term is not matched again by a shorter."""
    pieces, position = [], 0
    for match in _TOKEN.finditer(source):
        pieces.append((position, source[position : match.start()]))
        position = match.end()
    pieces.append((position, source[position:]))
    taken: list[tuple[int, int]] = []
    hits = []
    for term in sorted(terms, key=lambda t: len(t.source_term.strip()), reverse=True):
        if not term.source_term.strip():
            continue
        for offset, piece in pieces:
            for match in _find(term.source_term, piece, True):
                start, end = offset + match.start(), offset + match.end()
                if any(start < stop and begin < end for begin, stop in taken):
                    continue
                taken.append((start, end))
                hits.append(_Hit(term, match.group(), start))
    return sorted(hits, key=lambda hit: hit.start)


def glossary_hits(source: str, terms: Sequence[Term]) -> list[Term]:
    """Terms found in the source, each once, in order of first appearance: the review
    screen lists them next to the segment."""
    return list(dict.fromkeys(hit.term for hit in _glossary_matches(source, terms)))


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


def _numbers(text: str, language: str) -> list[_Number]:
    text = _URL_OR_EMAIL.sub(" ", _ascii_digits(text))
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
        key = format(value.normalize(), "f")
        found.append(_Number(key, text[match.start() : end].strip(), month))
    return found


def _shown(numbers: Sequence[_Number], wanted: Counter[str]) -> str:
    left, shown = Counter(wanted), []
    for number in numbers:
        if left[number.key] > 0:
            shown.append(number.shown)
            left[number.key] -= 1
    return ", ".join(shown)


# --- checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    source: str
    target: str
    placeholders: Mapping[str, str]
    hits: list[_Hit]
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
    the scale word that follows it in the source too ("{1} billion" = 8.6 → "86亿")."""
    if value.startswith("<"):
        return False
    numbers = _numbers(value, "en")
    if numbers and not re.search(_LETTER, value):
        have = Counter(n.key for n in _numbers(rendered_target, target_lang))
        if not Counter(n.key for n in numbers) - have:
            return True
        scaled = _numbers(in_context, "en")[: len(numbers)]
        return bool(scaled) and not Counter(n.key for n in scaled) - have
    return bool(value) and value in rendered_target


def _in_context(pid: str, pair: _Pair) -> str:
    """A standalone placeholder's value with the words that follow its token in the source."""
    token = "{" + pid + "}"
    at = pair.source.find(token)
    after = pair.source[at + len(token) : at + len(token) + 24] if at >= 0 else ""
    return pair.placeholders.get(pid, "") + _TOKEN.sub(" ", after)


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
            tokens.append("{" + pid + "}")
        else:
            typed.append("{" + pid + "}")
    found = []
    if tokens:
        found.append(Issue("placeholder_missing", {"placeholders": ", ".join(tokens)}, "error"))
    if typed:
        found.append(Issue("value_typed", {"placeholders": ", ".join(typed)}, "error"))
    return found


def _check_placeholder_extra(pair: _Pair) -> list[Issue]:
    """An unknown or repeated token would duplicate or invent markup."""
    extra = Counter(placeholder_ids(pair.target)) - Counter(placeholder_ids(pair.source))
    tokens = []
    for pid in reversed(placeholder_ids(pair.target)):  # the later copies are the extra ones
        if extra[pid] > 0:
            extra[pid] -= 1
            tokens.append("{" + pid + "}")
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
    shown = ", ".join("{" + pid + "}…{/" + pid + "}" for pid in ids)
    return [Issue("tag_order", {"placeholders": shown}, "error")]


def _check_numbers(pair: _Pair) -> list[Issue]:
    """A wrong number is the most damaging mistake a fluent translation can hide."""
    source = _numbers(_rendered(pair.source, pair.source, pair.placeholders), pair.source_lang)
    target = _numbers(_rendered(pair.target, pair.source, pair.placeholders), pair.target_lang)
    wanted = Counter(n.key for n in source)
    missing = wanted - Counter(n.key for n in target)
    extra = Counter(n.key for n in target if not n.month) - wanted
    if not missing and not extra:
        return []
    params = {
        "missing": _shown(source, missing),
        "extra": _shown([n for n in target if not n.month], extra),
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
        if next(_find(expected, target, not dnt), None) is None:
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
_TRAILING_TOKEN = re.compile(r"\{/?\d+\}$")
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
        _glossary_matches(source, terms),
        source_lang,
        target_lang,
    )
    empty = _check_empty(pair)
    if empty:
        return empty
    return [issue for run in _CHECKS for issue in run(pair)]


class _Shown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "—"


def message(issue: Issue) -> str:
    """The English sentence for an issue; empty or absent details read as "—"."""
    params = _Shown({key: value or "—" for key, value in issue.params.items()})
    return MESSAGES[issue.code].format_map(params)
