"""Target-language typography for translated text: pure functions, strings in and out.

Chinese and Japanese set no space between sentences and use full-width punctuation, but a
translation is reassembled with the English whitespace between sentences, and models often
emit ASCII punctuation between CJK characters. Both are fixed here, for zh (every script
and region) and ja only; Korean and every space-separated language pass through unchanged.

Decisions, so callers know what to expect:

- **Placeholders** ``{1}``, ``{/1}`` (the engine's syntax; ``{{`` and ``}}`` are escaped
  braces, not placeholders) are never altered and are transparent: "中国{1},{/1}美国"
  converts its comma, and the spaces around a converted mark go on both sides of a
  placeholder too, except where that would set a literal brace against a placeholder.
- **When a mark converts**: ``, ; : ! ?`` when the character before it (spaces,
  placeholders and closing curly quotes skipped) is CJK (a Han character, kana, bopomofo
  or a full-width character) or the one after it (spaces skipped) is a CJK letter; a
  ``.`` only after CJK and at a sentence's end (then the end of the text, a space, a
  closing mark or a CJK letter follows). A mark touching CJK is never inside a number,
  a time or an ASCII run, so ``3.2``, ``1,200``, ``9:30``, ``Node.js``, ``C++`` and
  ``e.g.`` stay with no list of cases, while "C++,例如" and "3.2%,达到" convert; and
  "中国.com" stays. A full stop after a Latin word or a number stays half-width
  ("增长3.2%. 他说"): telling it from "U.S." or "e.g." needs more than punctuation.
  ``,`` is ``，`` in Chinese and ``、`` in Japanese. The tests on what follows a mark
  look at letters only, never at a mark this module may convert, so a second pass
  changes nothing.
- **Brackets and quotes** convert as a pair, and only around CJK content: "(新华社)" →
  "（新华社）", "(Reuters)" stays. ASCII double quotes become “…” (zh-Hans, and zh without
  a script or a Traditional region) or 「…」 (zh-Hant, zh-TW, zh-HK, zh-MO, ja); in those
  corner-bracket languages curly “…” and ‘…’ become 「…」 too. Nesting decides the level:
  a pair inside another quotation becomes ‘…’ or 『…』. ASCII ``'`` is left alone: it is
  far more often an apostrophe than a quote.
- **Ellipsis**: three or more ASCII dots next to CJK become "……" (two U+2026), the form
  both clreq and JIS X 4051 give; "..." in ASCII text and a lone "…" stay.
- **URLs and e-mail addresses** (as ``feedsvc.segments`` finds them, up to whitespace or
  full-width punctuation) are skipped whole, even where Han characters touch them.
- **Spaces between CJK and Latin words or numbers** are left as they are ("苹果 iPhone"
  and "苹果iPhone" both stay): guides disagree (pangu adds them, many house styles do
  not), and this module only repairs what a model gets wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .placeholders import LONE_TOKEN

# The placeholder syntax of feedsvc.engine.argos and feedsvc.translation.

# Letters of CJK text: radicals, iteration and numeral marks (々〆〇), kana, bopomofo,
# ideographs (BMP, extension A, compatibility, supplementary planes), full-width Latin
# letters and digits, half-width katakana.
_CJK_LETTER = re.compile(
    "[\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c\u3040-\u30ff"
    "\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uff9f\U00020000-\U0003134f]"
)
# Full-width punctuation: CJK symbols (not the ideographic space), vertical and
# compatibility forms, full-width ASCII punctuation.
_CJK_PUNCT = re.compile(
    "[\u3001-\u3004\u3008-\u3020\u3030\u303d-\u303f\ufe10-\ufe1f\ufe30-\ufe4f"
    "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]"
)
# URLs and e-mail addresses as feedsvc.segments protects them, except that curly quotes
# and "…" end a URL too: they are what this module writes, so a second pass sees the
# same URLs as the first.
_LINK = re.compile(
    r"https?://[^\s<>\"{}\u2018-\u201f\u2026\u3000-\u303f\uff00-\uffef]+"
    r"|(?<![A-Za-z0-9@./])www\.[^\s<>\"{}\u2018-\u201f\u2026\u3000-\u303f\uff00-\uffef]+"
    r"|(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,}(?![\w-])"
)
_LINK_TRAILING = ".,;:!?'\"’”)]"

_GAP = frozenset(("", " ", "\t"))  # a deleted character, or a space a mark may lose
_CLOSING_CURLY = frozenset("”’")  # may sit between a word and its mark: 他说“好”,
_CLOSERS = frozenset("\"')]»”’」』）》〉】〕")  # may follow a sentence's full stop
# Half-width marks around a sentence's first or last character, and marks that end or
# open a CJK sentence without being CJK themselves; full-width ones are CJK already.
_EDGE_CLOSERS = "\"')]»”’…⋯—⸺"
_EDGE_OPENERS = "\"'([«“‘…⋯—⸺"
_HALF_WIDTH_STOPS = frozenset(".!?;:,")
_MARKS = {":": "：", ";": "；", "!": "！", "?": "？"}
_CONVERTED = frozenset(",.:;!?")
_QUOTE_CLOSE = {"”": "“", "’": "‘", "」": "「", "』": "『"}
_QUOTE_OPEN = frozenset("“‘「『")


@dataclass(frozen=True)
class _Style:
    comma: str
    corner_quotes: bool  # 「」 and 『』 rather than “” and ‘’


_SIMPLIFIED = _Style("，", corner_quotes=False)
_TRADITIONAL = _Style("，", corner_quotes=True)
_JAPANESE = _Style("、", corner_quotes=True)


def _subtags(lang: str) -> list[str]:
    return lang.replace("_", "-").lower().split("-")


def _style(lang: str) -> _Style | None:
    """The conventions of a BCP 47 tag, or None where text is left as it is."""
    primary, *rest = _subtags(lang)
    scripts = [s for s in rest if len(s) == 4 and s.isalpha()]
    if primary not in ("zh", "ja") or scripts[:1] == ["latn"]:  # romanized: pinyin, romaji
        return None
    if primary == "ja":
        return _JAPANESE
    if scripts:
        return _TRADITIONAL if scripts[0] == "hant" else _SIMPLIFIED
    return _TRADITIONAL if {"tw", "hk", "mo"} & set(rest) else _SIMPLIFIED


def _is_cjk(char: str) -> bool:
    return bool(char) and bool(_CJK_LETTER.match(char) or _CJK_PUNCT.match(char))


def _is_cjk_letter(char: str) -> bool:
    return bool(char) and bool(_CJK_LETTER.match(char))


def _visible(text: str) -> str:
    return LONE_TOKEN.sub("", text)


# --- between sentences -----------------------------------------------------------------


def sentence_gap(gap: str, before: str, after: str, lang: str) -> str:
    """The whitespace between two translated sentences of one paragraph.

    `gap` is the source's whitespace between them. Chinese and Japanese drop it next to
    CJK: the full-width stop already carries its own space, and a kept space shows as a
    hole ("形成互补。 据…"). A gap holding a newline is dropped too, not kept as "\\n": the
    sentences sit in HTML flow text, where a newline renders as a space in most browsers
    (only Firefox applies CSS Text's rule that removes it between wide characters), and a
    block's line structure lives in its tags, not in whitespace. The gap is kept after a
    half-width stop (". " before a CJK sentence, as after "U.S."), between two Latin
    sentences, and for every other language."""
    if _style(lang) is None:
        return gap
    last = _visible(before).rstrip().rstrip(_EDGE_CLOSERS)[-1:]
    first = _visible(after).lstrip().lstrip(_EDGE_OPENERS)[:1]
    if _is_cjk(last) or (_is_cjk(first) and last not in _HALF_WIDTH_STOPS):
        return ""
    return gap


# --- within a sentence -----------------------------------------------------------------


class _Text:
    """Editable characters with placeholders kept out of sight but in place.

    `chars` holds the original characters (an edit replaces one; a deleted one becomes "");
    `seen` lists the indices of characters outside placeholders, which the rules read."""

    def __init__(self, text: str) -> None:
        self.chars = list(text)
        hidden = {i for m in LONE_TOKEN.finditer(text) for i in range(*m.span())}
        self.seen = [i for i in range(len(text)) if i not in hidden]
        visible = "".join(text[i] for i in self.seen)
        self.linked = [False] * len(self.seen)
        for start, end in _link_spans(visible):
            self.linked[start:end] = [True] * (end - start)
        self.letters = [0]  # CJK letters in visible[:k], for "is there CJK inside?"
        for char in visible:
            self.letters.append(self.letters[-1] + bool(_CJK_LETTER.match(char)))

    def char(self, k: int) -> str:
        return self.chars[self.seen[k]] if 0 <= k < len(self.seen) else ""

    def left(self, k: int) -> str:
        """The character a mark at `k` follows: spaces and closing curly quotes skipped."""
        k -= 1
        while k >= 0 and (self.char(k) in _GAP or self.char(k) in _CLOSING_CURLY):
            k -= 1
        return self.char(k)

    def right_near(self, k: int) -> str:
        k += 1
        while k < len(self.seen) and self.char(k) == "":
            k += 1
        return self.char(k)

    def has_cjk(self, start: int, end: int) -> bool:
        return self.letters[end] > self.letters[start]

    def put(self, k: int, value: str) -> None:
        """Replace the mark at `k` and drop the spaces around it, across placeholders,
        unless that would set a brace against a placeholder ("{1} }" must not become
        "{1}}", which is no placeholder): then only the spaces touching the mark go."""
        self.chars[self.seen[k]] = value
        for step in (-1, 1):
            j = k + step
            while 0 <= j < len(self.seen) and self.char(j) in _GAP:
                j += step
            if self.char(j) in ("{", "}"):
                j = k + step
                while 0 <= j < len(self.seen) and self.char(j) in _GAP:
                    if abs(self.seen[j] - self.seen[j - step]) != 1:
                        break  # a placeholder lies between
                    j += step
            for gap in range(k + step, j, step):
                self.chars[self.seen[gap]] = ""

    def __str__(self) -> str:
        return "".join(self.chars)


def _link_spans(text: str) -> list[tuple[int, int]]:
    """URLs and e-mail addresses, without the sentence's punctuation that follows them."""
    spans = []
    for match in _LINK.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _LINK_TRAILING:
            if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
                break
            end -= 1
        spans.append((start, end))
    return spans


def _pairs(text: _Text, opening: str, closing: str) -> list[tuple[int, int]]:
    stack: list[int] = []
    pairs = []
    for k in range(len(text.seen)):
        if text.linked[k]:
            continue
        if text.char(k) == opening:
            stack.append(k)
        elif text.char(k) == closing and stack:
            pairs.append((stack.pop(), k))
    return pairs


def _brackets(text: _Text) -> None:
    for start, end in _pairs(text, "(", ")"):
        if text.has_cjk(start + 1, end):
            text.put(start, "（")
            text.put(end, "）")


def _quote_pairs(text: _Text) -> list[tuple[int, int]]:
    """Matched quotation marks of every kind; ASCII " opens, or closes an open one."""
    stack: list[tuple[str, int]] = []
    pairs = []
    for k in range(len(text.seen)):
        char = text.char(k)
        if text.linked[k]:
            continue
        if char == '"':
            wanted = '"' if any(kind == '"' for kind, _ in stack) else None
        elif char in _QUOTE_CLOSE:
            wanted = _QUOTE_CLOSE[char]
            if not any(kind == wanted for kind, _ in stack):
                continue  # a lone ’ is an apostrophe
        elif char in _QUOTE_OPEN:
            wanted = None
        else:
            continue
        if wanted is None:
            stack.append((char, k))
            continue
        while stack:
            kind, start = stack.pop()
            if kind == wanted:
                pairs.append((start, k))
                break
    return sorted(pairs)


def _quotes(text: _Text, style: _Style) -> None:
    convertible = {'"', "“", "‘"} if style.corner_quotes else {'"'}
    if style.corner_quotes:
        levels = (("「", "」"), ("『", "』"))
    else:
        levels = (("“", "”"), ("‘", "’"))
    open_ends: list[int] = []  # closing positions of the pairs around the current one
    for start, end in _quote_pairs(text):  # properly nested, in order of opening
        while open_ends and open_ends[-1] < start:
            open_ends.pop()
        depth = len(open_ends)
        open_ends.append(end)
        if text.char(start) in convertible and text.has_cjk(start + 1, end):
            opening, closing = levels[depth % 2]
            text.put(start, opening)
            text.put(end, closing)


def _marks(text: _Text, style: _Style) -> None:
    k = 0
    while k < len(text.seen):
        char = text.char(k)
        if text.linked[k] or char not in _CONVERTED:
            k += 1
            continue
        if char == ".":
            run = k
            while (
                run < len(text.seen)
                and text.char(run) == "."
                and not text.linked[run]
                and (run == k or text.seen[run] == text.seen[run - 1] + 1)  # no placeholder
            ):
                run += 1
            if run - k >= 3:
                if _is_cjk(text.left(k)) or _is_cjk_letter(_right_skipping_spaces(text, run - 1)):
                    for dot in range(k + 1, run):
                        text.chars[text.seen[dot]] = ""
                    text.put(k, "……")
            elif run - k == 1 and _is_cjk(text.left(k)) and _sentence_final(text, k):
                text.put(k, "。")
            k = run
            continue
        if _is_cjk(text.left(k)) or _is_cjk_letter(_right_skipping_spaces(text, k)):
            text.put(k, style.comma if char == "," else _MARKS[char])
        k += 1


def _right_skipping_spaces(text: _Text, k: int) -> str:
    k += 1
    while k < len(text.seen) and text.char(k) in _GAP:
        k += 1
    return text.char(k)


def _sentence_final(text: _Text, k: int) -> bool:
    after = text.right_near(k)
    return after == "" or after.isspace() or after in _CLOSERS or _is_cjk_letter(after)


def punctuate(text: str, lang: str) -> str:
    """Full-width punctuation for a Chinese or Japanese target where a model wrote ASCII
    punctuation next to CJK text; other languages' text is returned unchanged.

    Brackets and quotation marks go first, so the marks after them see full-width
    neighbours ("(新华社)," → "（新华社），")."""
    style = _style(lang)
    if style is None or not text:
        return text
    editable = _Text(text)
    _brackets(editable)
    _quotes(editable, style)
    _marks(editable, style)
    return str(editable)
