"""Inline tags carried across machine translation by word alignment ("detag and project").

The model reads each sentence whole and without its tags, so it never sees fragments such
as "GUANGZHOU, Feb." or "sq km and cost"; the tags are then put back into its output where
the words they wrapped went, found from the model's own attention (Hanneman & Dinu, WMT
2020; Firefox Translations does the same). Glossary terms ride the same alignment: the
model reads the term in context and the target words aligned with it are replaced by the
required term.

Everything here is pure: text, pieces, offsets and attention in, text with placeholders
out. Nothing imports ctranslate2 or sentencepiece.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..glossary import find_term
from ..placeholders import LONE_TOKEN
from . import Term

# A placeholder the segmenter made: {1}, {/1}; never the escaped braces {{ or }}.
SPACE = "\u2581"  # SentencePiece's word marker
_SPACES = " \t\n\r\f"

Attach = Literal["before", "after"]


# --- detag ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tag:
    """One placeholder token (or pair) of a segment source, over the detagged text."""

    opening: str  # "{1}", or a standalone token as written: "{2}", a stray "{/3}"
    closing: str | None  # "{/1}" for a paired tag, None for a standalone one
    start: int  # first character inside (paired) or the anchor position (standalone)
    end: int  # one past the last character inside; == start when nothing is inside
    parent: int | None  # index of the innermost paired tag around it
    attach: Attach = "after"  # an empty tag sticks to the next word or the previous one


@dataclass(frozen=True)
class Detagged:
    """A segment without its placeholders, as the model must read it, and the tags to restore."""

    text: str  # what the model reads
    tags: tuple[Tag, ...]  # every placeholder of the source, in source order


def _attach(source: str, tokens: Sequence[re.Match[str]], first: int, last: int) -> Attach:
    """Which word an empty tag (tokens ``first``..``last``) sticks to, from the source:
    glued to the following word ("{1}name") before it, otherwise after the previous word
    ("name{2} next", "end.{3}", "Photo {4} shows"). Neighbouring tokens are looked through."""
    start, end = tokens[first].start(), tokens[last].end()
    while first > 0 and tokens[first - 1].end() == start:
        first -= 1
        start = tokens[first].start()
    while last + 1 < len(tokens) and tokens[last + 1].start() == end:
        last += 1
        end = tokens[last].end()
    before = source[start - 1] if start > 0 else ""
    after = source[end] if end < len(source) else ""
    if after and not after.isspace() and (not before or before.isspace()):
        return "before"
    return "after" if before else "before"


def _partners(tokens: Sequence[re.Match[str]]) -> dict[int, int]:
    """Opening token index → its closing token index, for the tags that are paired."""
    partners: dict[int, int] = {}
    stack: list[int] = []
    for index, token in enumerate(tokens):
        closing, pid = token.groups()
        if not closing:
            stack.append(index)
            continue
        opened = [k for k, o in enumerate(stack) if tokens[o].group(2) == pid]
        if opened:
            partners[stack[opened[-1]]] = index
            del stack[opened[-1] :]  # openings left inside it were never closed: standalone
    return partners


def detag(source: str) -> Detagged:
    """The sentence without its placeholders, and where each one was.

    Removing a tag never leaves two spaces or an edge space behind, and a void tag between
    two letters ("line{2}next", a <br>) leaves one space so no two words merge for the
    model. A closing token with no open partner and an opening token never closed (neither
    comes from the segmenter) are kept as standalone tokens, so every token of the source
    comes back exactly once."""
    tokens = list(LONE_TOKEN.finditer(source))
    partners = _partners(tokens)
    closes = set(partners.values())
    text = ""
    raw: list[tuple[str, str | None, int, Attach, int | None]] = []
    ends: dict[int, int] = {}  # tag index → end, filled in at its closing token
    stack: list[int] = []  # open paired tags
    position = 0
    separate = False  # a standalone tag was removed since the last text

    def add(piece: str) -> None:
        nonlocal text, separate
        if not text or text[-1] in _SPACES:
            piece = piece.lstrip(_SPACES)
        if separate and piece and _wordy(text[-1:] or " ") and _wordy(piece[0]):
            piece = " " + piece
        if piece:
            separate = False
        text += piece

    for index, token in enumerate(tokens):
        add(source[position : token.start()])
        position = token.end()
        if index in closes:
            ends[stack.pop()] = len(text)
            continue
        parent = stack[-1] if stack else None
        closing = tokens[partners[index]].group() if index in partners else None
        attach = _attach(source, tokens, index, partners.get(index, index))
        raw.append((token.group(), closing, len(text), attach, parent))
        if closing is not None:
            stack.append(len(raw) - 1)
        else:
            separate = True
    add(source[position:])
    text = text.rstrip(_SPACES)
    tags = []
    for index, (opening, closing, start, attach, parent) in enumerate(raw):
        start = min(start, len(text))
        end = min(ends.get(index, start), len(text))
        while start < end and text[start] in _SPACES:
            start += 1
        while end > start and text[end - 1] in _SPACES:
            end -= 1
        tags.append(Tag(opening, closing, start, end, parent, attach))
    return Detagged(text, tuple(tags))


# --- glossary terms ---------------------------------------------------------------------


@dataclass(frozen=True)
class TermMatch:
    """Where a glossary term occurs in detagged text, and what must replace it."""

    start: int  # characters of the detagged text
    end: int
    text: str  # what must appear in the target instead of the words aligned with it


def find_terms(detagged: Detagged, terms: Sequence[Term]) -> list[TermMatch]:
    """Longest terms first, never overlapping, never across a tag boundary (a term must be
    replaceable without splitting a tag); do-not-translate terms keep the source's spelling.
    Words match by :func:`feedsvc.glossary.find_term`, as the review's checks do."""
    cuts = {tag.start for tag in detagged.tags} | {tag.end for tag in detagged.tags}
    taken: list[TermMatch] = []
    for term in sorted(terms, key=lambda t: len(t.source), reverse=True):
        if not term.source.strip():
            continue
        for match in find_term(term.source, detagged.text):
            start, end = match.span()
            if any(start < cut < end for cut in cuts):
                continue
            if any(start < other.end and other.start < end for other in taken):
                continue
            taken.append(
                TermMatch(start, end, match.group() if term.do_not_translate else term.target)
            )
    return sorted(taken, key=lambda t: t.start)


# --- characters to source tokens --------------------------------------------------------


def _blank(piece: str) -> bool:
    """A piece that is only the word marker (or empty): it aligns with nothing useful."""
    return not piece.replace(SPACE, "").strip()


def piece_offsets(text: str, pieces: Sequence[str]) -> list[tuple[int, int]]:
    """(begin, end) of each SentencePiece piece in ``text``, computed from the pieces for a
    sentencepiece without ``out_type="offset_mapping"`` (older 0.2 releases).

    Follows SentencePiece's own conventions: a piece's span includes the space its ``▁``
    stands for, the dummy prefix is empty at 0, and of the pieces that one NFKC-expanded
    character became ("…" → "...") only the last one covers it."""
    # Units: a whitespace run, or a character with its combining marks, NFKC-normalized.
    units: list[tuple[str, int, int]] = []  # (normalized text or SPACE, begin, end)
    index = 0
    while index < len(text):
        start = index
        if text[index].isspace():
            while index < len(text) and text[index].isspace():
                index += 1
            units.append((SPACE, start, index))
            continue
        index += 1
        while index < len(text) and unicodedata.category(text[index]).startswith("M"):
            index += 1
        normalized = unicodedata.normalize("NFKC", text[start:index])
        units.append((SPACE if normalized.isspace() else normalized, start, index))
    if units and units[0][0] == SPACE:
        units.pop(0)
    if units and units[-1][0] == SPACE:
        units.pop()
    offsets = []
    unit, within = 0, 0  # the next unit to match, and characters of it already matched
    for piece in pieces:
        begin: int | None = None
        end: int | None = None
        for char in piece:
            if unit >= len(units):
                break
            if char == SPACE and units[unit][0] != SPACE:
                continue  # the dummy prefix, or a space normalization removed
            if char != units[unit][0][within]:
                # An unexpected piece: catch up with a unit it does start, or take this one.
                ahead = range(unit + 1, min(unit + 4, len(units))) if within == 0 else ()
                unit = next((u for u in ahead if units[u][0][0] == char), unit)
            normalized, unit_begin, unit_end = units[unit]
            if begin is None:
                begin = unit_begin
            within += 1
            if within >= len(normalized) or char != normalized[within - 1]:
                unit, within, end = unit + 1, 0, unit_end
        if begin is None:
            begin = units[unit][1] if unit < len(units) else len(text)
        offsets.append((begin, begin if end is None else end))
    return offsets


@dataclass(frozen=True)
class Span:
    """A tag over source tokens. A paired tag with words inside covers [start, end); an
    empty or standalone tag is a point (start == end) stuck to token ``start``, before or
    after it."""

    opening: str
    closing: str | None
    start: int
    end: int
    parent: int | None  # index of the enclosing span in the same list
    attach: Attach = "after"


@dataclass(frozen=True)
class TermSpan:
    """A glossary match over model tokens, since the model constrains tokens, not characters."""

    start: int  # source tokens [start, end)
    end: int
    text: str


def _token_ranges(
    text: str, pieces: Sequence[str], offsets: Sequence[tuple[int, int]]
) -> list[tuple[int, int] | None]:
    """Each token's characters without the space its ``▁`` stands for; None for a blank
    token; a zero-width piece (part of an expanded character) gets that character."""
    ranges: list[tuple[int, int] | None] = []
    for piece, (begin, end) in zip(pieces, offsets, strict=True):
        if _blank(piece):
            ranges.append(None)
            continue
        while begin < end and text[begin].isspace():
            begin += 1
        ranges.append((begin, max(end, begin + 1)))
    return ranges


def _overlapping(ranges: Sequence[tuple[int, int] | None], start: int, end: int) -> list[int]:
    return [i for i, r in enumerate(ranges) if r is not None and r[0] < end and r[1] > start]


def _stuck_to(ranges: Sequence[tuple[int, int] | None], position: int, attach: Attach) -> int:
    """The token a point at ``position`` sticks to: the last one starting before it
    ("after"), or the first one ending after it ("before"); the other side if none."""
    before = [i for i, r in enumerate(ranges) if r is not None and r[0] < position]
    after = [i for i, r in enumerate(ranges) if r is not None and r[1] > position]
    if attach == "after" and before:
        return before[-1]
    if after:
        return after[0]
    return before[-1] if before else 0


def token_spans(
    detagged: Detagged, pieces: Sequence[str], offsets: Sequence[tuple[int, int]]
) -> list[Span]:
    """The tags of ``detagged`` over source tokens; one Span per Tag, same order."""
    ranges = _token_ranges(detagged.text, pieces, offsets)
    spans = []
    for tag in detagged.tags:
        inside = _overlapping(ranges, tag.start, tag.end) if tag.end > tag.start else []
        if tag.closing is not None and inside:
            spans.append(Span(tag.opening, tag.closing, inside[0], inside[-1] + 1, tag.parent))
            continue
        point = _stuck_to(ranges, tag.start, tag.attach)
        attach = tag.attach
        chosen = ranges[point] if point < len(ranges) else None
        if chosen is not None and attach == "after" and chosen[0] >= tag.start:
            attach = "before"  # nothing before it: it sticks to the token after
        elif chosen is not None and attach == "before" and chosen[1] <= tag.start:
            attach = "after"
        spans.append(Span(tag.opening, tag.closing, point, point, tag.parent, attach))
    return spans


def term_spans(
    detagged: Detagged,
    matches: Sequence[TermMatch],
    pieces: Sequence[str],
    offsets: Sequence[tuple[int, int]],
) -> list[TermSpan]:
    """Term matches moved onto the tokenized text; a match no token range covers is dropped."""
    ranges = _token_ranges(detagged.text, pieces, offsets)
    spans = []
    for match in matches:
        inside = _overlapping(ranges, match.start, match.end)
        if inside:
            spans.append(TermSpan(inside[0], inside[-1] + 1, match.text))
    return spans


# --- attention to alignment -------------------------------------------------------------


def alignment(
    attention: Sequence[Sequence[float]],
    source: Sequence[str],
    target_length: int,
    leading: int = 0,
) -> list[int | None]:
    """Each target token's source token: the one it attended to most (argmax).

    ``attention`` is CTranslate2's, one row per target token (no row for </s>), one column
    per source token the encoder read: ``leading`` columns first when the model adds <s>
    to the source (``add_source_bos``), then the tokens, then </s> when it adds one
    (``add_source_eos``); a truncated source has fewer. Blank tokens (a lone ``▁``) never
    win; a target token that attended to <s> or </s> more than to any word, or to no word
    at all, is unaligned."""
    result: list[int | None] = []
    words = [i for i, piece in enumerate(source) if not _blank(piece)]
    for step in range(target_length):
        row = attention[step] if step < len(attention) else ()
        scored = [(row[leading + i], i) for i in words if leading + i < len(row)]
        if not scored:
            result.append(None)
            continue
        weight, best = max(scored, key=lambda pair: pair[0])
        columns = range(leading, leading + len(source))
        special = max((w for k, w in enumerate(row) if k not in columns), default=0.0)
        result.append(best if weight > 0 and weight >= special else None)
    return result


# --- target pieces to text --------------------------------------------------------------

_BYTE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_CONTROL = frozenset({"<s>", "</s>", "<pad>"})
_UNKNOWN = " \u2047 "  # what SentencePiece decodes <unk> to


def piece_surfaces(pieces: Sequence[str]) -> tuple[list[str], list[bool]]:
    """Each piece's share of SentencePiece's decoded text (``"".join`` of them is it), and
    for each piece whether it continues the previous one's character (a byte-fallback
    sequence): no tag may go there.

    The rules of SentencePiece's decoder: ``▁`` is a space, leading spaces of the text are
    dropped, <s>/</s> vanish, <unk> is " ⁇ ", byte pieces are joined into UTF-8."""
    surfaces: list[str] = []
    inside: list[bool] = []
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = False  # bytes of an unfinished character
    at_start = True
    for piece in pieces:
        byte = _BYTE.fullmatch(piece)
        continues = pending
        if byte:
            surface = decoder.decode(bytes([int(byte.group(1), 16)]))
            pending = decoder.getstate()[0] != b""
        else:
            surface = decoder.decode(b"", final=True) if pending else ""
            pending = False
            decoder.reset()
            if piece in _CONTROL:
                pass
            elif piece == "<unk>":
                surface += _UNKNOWN
            else:
                surface += piece.replace(SPACE, " ")
        if at_start and piece != "<unk>":
            surface = surface.lstrip(" ")
        if surface or piece == "<unk>":
            at_start = False
        surfaces.append(surface)
        inside.append(continues)
    return surfaces, inside


def decode(pieces: Sequence[str]) -> str:
    """The text SentencePiece decodes ``pieces`` to, split as the projection splits it."""
    return "".join(piece_surfaces(pieces)[0])


# --- projection -------------------------------------------------------------------------

# Scripts written without spaces between words: any token boundary is a word boundary.
_UNSPACED_SCRIPTS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x9FFF),  # CJK radicals, kana, ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width forms
    (0x20000, 0x3FFFF),  # CJK extensions
)
UNSPACED_LANGUAGES = frozenset({"zh", "zt", "ja", "th", "lo", "km", "my", "bo"})


def spaced(language: str) -> bool:
    """Whether tags must stay at word boundaries in this (Argos) target language."""
    return language.split("-")[0].lower() not in UNSPACED_LANGUAGES


def _unspaced_char(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_SCRIPTS)


def _wordy(char: str) -> bool:
    return char.isalnum() or char in "'\u2019" or unicodedata.category(char)[0] == "M"


def _glued(left: str, right: str, spaced_target: bool) -> bool:
    """Whether a tag between these two characters would cut a word."""
    if unicodedata.category(right)[0] == "M":
        return True  # a mark belongs to the letter before it
    if not (_wordy(left) and _wordy(right)):
        return False
    return spaced_target or not (_unspaced_char(left) or _unspaced_char(right))


@dataclass(eq=False)
class _Node:
    opening: str = ""
    closing: str | None = None
    start: int = 0  # source tokens; start == end: a point stuck to token start
    end: int = 0
    attach: Attach = "after"
    replacement: str | None = None  # a glossary term
    order: int = 0  # source order, for ties
    children: list[_Node] = field(default_factory=list)
    point: bool = True  # placed at a gap of the target (lo == hi), or over [lo, hi)
    lo: int = 0
    hi: int = 0
    core: list[int] = field(default_factory=list)  # target tokens aligned with it


class _Projector:
    def __init__(
        self,
        source: Sequence[str],
        target: Sequence[str],
        aligned: Sequence[int | None],
        spaced_target: bool,
    ) -> None:
        self.source = source
        self.blank = [_blank(piece) for piece in source]
        self.surfaces, inside = piece_surfaces(target)
        self.text = "".join(self.surfaces)
        self.starts = [0]
        for surface in self.surfaces:
            self.starts.append(self.starts[-1] + len(surface))
        self.size = len(target)
        self.allowed = [self._allowed(i, inside, spaced_target) for i in range(self.size + 1)]
        self.targets: list[list[int]] = [[] for _ in source]
        for step, token in enumerate(aligned[: self.size]):
            if token is not None and 0 <= token < len(source):
                self.targets[token].append(step)
        self.wordy = [any(c.isalnum() for c in surface) for surface in self.surfaces]

    def _allowed(self, gap: int, inside: Sequence[bool], spaced_target: bool) -> bool:
        if gap in (0, self.size):
            return True
        if inside[gap]:
            return False
        position = self.starts[gap]
        if position in (0, len(self.text)):
            return True
        return not _glued(self.text[position - 1], self.text[position], spaced_target)

    # Gaps of the target: L is before a token's leading space, R after it.
    def left(self, gap: int) -> int:
        return self.starts[gap]

    def right(self, gap: int) -> int:
        if gap >= self.size:
            return self.starts[gap]
        surface = self.surfaces[gap]
        return self.starts[gap] + len(surface) - len(surface.lstrip(" "))

    def floor(self, gap: int, low: int) -> int:
        while gap > low and not self.allowed[gap]:
            gap -= 1
        return max(gap, low)

    def ceil(self, gap: int, high: int) -> int:
        while gap < high and not self.allowed[gap]:
            gap += 1
        return min(gap, high)

    def word_at(self, gap: int, low: int, high: int) -> tuple[int, int]:
        """The word starting at ``gap`` (or ending there, at the end of [low, high))."""
        if low == high:
            return low, high
        if gap < high:
            start = self.floor(gap, low)
            return start, self.ceil(start + 1, high)
        end = self.ceil(gap, high)
        return self.floor(end - 1, low), end

    def aligned_in(self, token: int, low: int, high: int) -> list[int]:
        return [t for t in self.targets[token] if low <= t < high]

    def gap_for(
        self, token: int, attach: Attach, low: int, high: int, first: int, last: int
    ) -> int:
        """Where a point stuck to source ``token`` goes within target gaps [low, high]:
        next to the target tokens aligned with it, else with the nearest aligned source
        token on its side, then the other side; else proportionally within the parent
        (whose source tokens are [first, last))."""
        count = len(self.source)
        own = [token] if 0 <= token < count else []
        earlier = list(range(min(token, count) - 1, -1, -1))
        later = list(range(max(token + 1, 0), count))
        walks: list[tuple[list[int], Attach]] = (
            [(own + later, "before"), (earlier, "after")]
            if attach == "before"
            else [(own + earlier, "after"), (later, "before")]
        )
        for walk, side in walks:
            for candidate in walk:
                if self.blank[candidate]:
                    continue
                hits = self.aligned_in(candidate, low, high)
                if hits and side == "after":
                    return self.ceil(max(hits) + 1, high)
                if hits:
                    return self.floor(min(hits), low)
        share = min(max((token - first) / max(last - first, 1), 0.0), 1.0)
        return self.floor(low + round((high - low) * share), low)

    def neighbours(self, node: _Node, parent: _Node) -> int:
        """The gap after the target of the word before ``node`` (or before that of the
        word after it): where a span the alignment missed most likely went."""
        first, last = parent.start, parent.end
        if node.start > 0:
            return self.gap_for(node.start - 1, "after", parent.lo, parent.hi, first, last)
        return self.gap_for(node.end, "before", parent.lo, parent.hi, first, last)

    # -- resolution: target positions, top down ---------------------------------------

    def resolve(self, node: _Node) -> None:
        """Places the children of ``node`` (source [start, end), target [lo, hi)): each
        inside it, paired siblings disjoint, at word boundaries."""
        low, high, first, last = node.lo, node.hi, node.start, node.end
        words = [j for j in range(first, last) if not self.blank[j]]
        intervals: list[_Node] = []
        for child in node.children:
            child.point = child.start == child.end
            if child.point:
                child.lo = child.hi = self.gap_for(
                    child.start, child.attach, low, high, first, last
                )
                continue
            child.core = sorted(
                t for j in range(child.start, child.end) for t in self.aligned_in(j, low, high)
            )
            if words and all(child.start <= j < child.end for j in words):
                child.lo, child.hi = low, high  # all of the parent's words: all of its target
            elif child.core:
                # Words decide the extent; aligned punctuation joins only next to them.
                extent = [t for t in child.core if self.wordy[t]] or child.core
                start, end = extent[0], extent[-1] + 1
                core = set(child.core)
                while start - 1 in core:
                    start -= 1
                while end in core:
                    end += 1
                child.lo = self.floor(start, low)
                child.hi = self.ceil(end, high)
            elif child.replacement is not None:
                child.point = True  # a term nothing was aligned with: inserted
                child.lo = child.hi = self.neighbours(child, node)
                continue
            else:  # nothing aligned: the word where its neighbours say it belongs
                child.lo, child.hi = self.word_at(self.neighbours(child, node), low, high)
            intervals.append(child)
        self._separate(intervals)
        for child in node.children:
            if child.point:
                self._step_out(child, intervals)
        for child in node.children:
            if not child.point:
                self.resolve(child)
            else:
                for grandchild in child.children:
                    self._pin(grandchild, child.lo)

    def _pin(self, node: _Node, gap: int) -> None:
        """Everything inside an empty tag goes where it goes."""
        node.point, node.lo, node.hi = True, gap, gap
        for child in node.children:
            self._pin(child, gap)

    def _separate(self, intervals: list[_Node]) -> None:
        """Siblings may not overlap: in the order of their projected spans, each overlap is
        cut where the most aligned tokens stay with their own tag."""
        intervals.sort(key=lambda n: (n.lo + n.hi, n.order))
        for previous, current in zip(intervals, intervals[1:], strict=False):
            if current.lo >= previous.hi or current.hi <= previous.lo:
                continue
            low, high = max(previous.lo, current.lo), min(previous.hi, current.hi)
            cuts = [c for c in range(low, high + 1) if self.allowed[c]] or [low]
            inner = [c for c in cuts if previous.lo < c < current.hi] or cuts

            def kept(cut: int, a: _Node = previous, b: _Node = current) -> int:
                return sum(t < cut for t in a.core) + sum(t >= cut for t in b.core)

            cut = max(inner, key=lambda c: (kept(c), -abs(2 * c - low - high)))
            previous.hi = cut
            current.lo, current.hi = cut, max(current.hi, cut)
        intervals.sort(key=lambda n: (n.lo, n.hi, n.order))
        for previous, current in zip(intervals, intervals[1:], strict=False):
            current.lo = max(current.lo, previous.hi)  # whatever still overlaps
            current.hi = max(current.hi, current.lo)

    def _step_out(self, point: _Node, intervals: Sequence[_Node]) -> None:
        """A point inside a sibling's span moves to that span's nearer edge."""
        for interval in intervals:
            if interval.lo < point.lo < interval.hi:
                to_start = point.lo - interval.lo
                to_end = interval.hi - point.lo
                if to_start < to_end or (to_start == to_end and point.order < interval.order):
                    point.lo = point.hi = interval.lo
                else:
                    point.lo = point.hi = interval.hi

    # -- rendering ----------------------------------------------------------------------

    def render(self, root: _Node, spaced_target: bool) -> str:
        out: list[str] = []
        cursor = 0

        def advance(to: int) -> None:
            nonlocal cursor
            if to > cursor:
                # Braces in the model's text would read as placeholders.
                out.append(self.text[cursor:to].replace("{", "").replace("}", ""))
                cursor = to

        def term(text: str, gap: int) -> None:
            """A term inserted between words: spaced like one where words have spaces."""
            written = "".join(out)
            before = " " if spaced_target and written and not written.endswith(" ") else ""
            after = " " if spaced_target and gap == 0 and self.size > 0 else ""
            out.append(before + text + after)

        def emit(node: _Node, pinned: bool) -> None:
            nonlocal cursor
            # At one gap: points (and empty tags) in source order, then a span starting there.
            for child in sorted(node.children, key=lambda n: (n.lo, n.hi > n.lo, n.order)):
                if child.point:
                    if not pinned:
                        after = child.attach == "after"
                        advance(self.left(child.lo) if after else self.right(child.lo))
                    if child.replacement is not None:
                        term(child.replacement, child.lo)
                        continue
                    out.append(child.opening)
                    emit(child, True)
                    if child.closing is not None:
                        out.append(child.closing)
                    continue
                advance(self.right(child.lo))
                if child.replacement is not None:
                    out.append(child.replacement)
                    cursor = max(cursor, self.left(child.hi))
                    continue
                out.append(child.opening)
                emit(child, False)
                advance(self.left(child.hi))
                out.append(child.closing or "")

        emit(root, False)
        advance(len(self.text))
        return "".join(out)


def _tree(spans: Sequence[Span], terms: Sequence[TermSpan], size: int) -> _Node:
    """Spans by their parents; each term under the innermost paired span around it."""
    root = _Node(start=0, end=size, point=False)
    nodes = [
        _Node(s.opening, s.closing, s.start, s.end, s.attach, order=i) for i, s in enumerate(spans)
    ]
    for span, node in zip(spans, nodes, strict=True):
        parent = nodes[span.parent] if span.parent is not None else root
        parent.children.append(node)
    for k, term in enumerate(terms):
        around = [
            (s.end - s.start, -i)
            for i, s in enumerate(spans)
            if s.start < s.end and s.start <= term.start and term.end <= s.end
        ]
        parent = nodes[-min(around)[1]] if around else root
        parent.children.append(
            _Node(start=term.start, end=term.end, replacement=term.text, order=len(spans) + k)
        )
    return root


def project(
    source: Sequence[str],
    spans: Sequence[Span],
    target: Sequence[str],
    aligned: Sequence[int | None],
    *,
    spaced_target: bool = True,
    terms: Sequence[TermSpan] = (),
) -> str:
    """The target text with the source's placeholders put back, and glossary terms in.

    ``source``/``target``: the pieces the model read and wrote; ``aligned``: each target
    piece's source piece (see :func:`alignment`). Guarantees: every span's tokens appear
    exactly once; paired tags stay contiguous and nested as in the source (a child
    projected outside its parent is clamped into it; overlapping siblings are cut apart);
    tags fall only on word boundaries (any token boundary in scripts without spaces); a
    point goes next to the target of the token it was stuck to; a tag around all of its
    parent's words gets all of the parent's target; a tag whose words were aligned with
    nothing wraps the word its neighbours point to. Without its placeholders the text is
    SentencePiece's decoding of ``target`` (less any braces the model wrote)."""
    projector = _Projector(source, target, aligned, spaced_target)
    root = _tree(spans, terms, len(source))
    root.lo, root.hi = 0, projector.size
    projector.resolve(root)
    return projector.render(root, spaced_target)
