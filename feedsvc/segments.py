"""Article text cut into translation segments, and the way back to HTML.

A segment is one sentence of one text-bearing block, or one translatable attribute
(``alt``, ``title``). Inline markup inside a sentence becomes placeholders a translator
(human or model) can move but not damage: ``{1}…{/1}`` for a paired element, ``{2}`` for an
image, a line break, a ``<code>`` element or a literal brace. Numbers, URLs and e-mail
addresses stay in the sentence as text: the model reads the whole sentence and QA checks
that they survive. Everything that is not a segment (block tags, whitespace between
sentences, text-free blocks, ``<pre>``) stays in the skeleton.

Decisions, so callers know what to expect:

- **Lossless** means: ``reassemble(segment_html(h), {})`` and ``h`` parse with
  ``lxml.html.fragment_fromstring(..., create_parent="div")`` to the same tree once comments
  are dropped and, in every text node, runs of ASCII whitespace are collapsed to one space.
  Attribute order and entity spelling follow the serializer (which mimics nh3's).
  Whitespace between sentences and at block edges is kept exactly; inside a sentence
  ASCII whitespace runs become one space (non-breaking spaces are kept).
- **Text-free runs**: a run whose only letters are inside numbers, URLs and e-mail
  addresses (``<td>2025</td>``, ``<td>https://a.example</td>``) is no segment. A number
  stands alone when not joined to letters: ``1,200``, ``3.2``, ``12.5%``, ``2025–2026``,
  ``9:30``; ``5G``, ``G20``, ``COVID-19`` are words.
- **Attributes**: ``alt`` and ``title`` with a letter become segments keyed
  ``attr.{n}.{element}.{attribute}`` (``attr.0.img.alt``), numbered in document order after
  the body's sentences; a translated value replaces every equal value of that attribute
  on that kind of element.
- **Abbreviations**: after a title-like abbreviation (``Dr.``, ``No.``, ``vs.``, ``e.g.``)
  a sentence never ends. After an initialism (``U.S.``, ``a.m.``, a middle initial) or a
  suffix (``Inc.``, ``Jr.``, ``Sept.``) it ends only when the next word is a typical
  sentence opener (``The``, ``He``, ``It``…): "the U.S. The move" splits, "U.S. officials"
  and "U.S. President Li" do not. After a full stop the next sentence must start with a
  capital letter (or a CJK character): "Feb. 19" and "3.2 billion" never split. The
  pronoun "I." after a lowercase word ("you and I. Did") may end a sentence.
- **Lists and omissions**: a list marker starting a sentence (``1.``, ``2.)``, ``a.``,
  ``Q.``, ``• 9.``) never ends one; after a full stop a numbered marker followed by a
  capital starts one ("item. 2) The next"); a bullet (``•``, ``⁃``…) always starts one.
  A list without full stops ("1) cut taxes, 2) build roads") stays one sentence. An
  editorial ``[...]`` is no end, nor is an ellipsis standing apart ("is ... I didn't")
  unless a full stop precedes it ("win. ... The") or it has four dots.
- **``<pre>``** is skipped entirely: its whitespace is significant and it is nearly
  always code or data, which a model would only damage.
- A ``<br>`` directly in a block ends a sentence and stays in the skeleton; inside an
  inline element it is a placeholder. A run of inline content without a letter outside
  protected items (``<td>2025</td>``, ``<p>&nbsp;</p>``, an image alone) is no segment.
- Block numbers in keys count only blocks that produced segments, in document order.
- **Slots cannot be forged.** A slot in the skeleton is ``<!--seg:{nonce}:{key}-->``, the
  nonce a hash of the whole input HTML (deterministic: the same body gives the same
  skeleton; unforgeable: a body would have to contain its own hash). Article text and
  attribute values go into the skeleton escaped (``<`` as ``&lt;``, in attributes too),
  so no comment can start there anyway; only raw text (``<script>``, ``<style>``, never
  in a sanitized body) is copied as is, and the nonce covers it. :func:`reassemble` fills
  only slots with its nonce and a key it cut, each once; a translator's text is always
  escaped text or a placeholder of its own segment, so no target can change the
  skeleton's elements or attributes.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import lxml.html
from lxml.html import HtmlElement

from .placeholders import TOKEN, paired_ids, render_token, strip_tokens
from .sanitize import strip_xml_invalid
from .typography import punctuate, sentence_gap


@dataclass(frozen=True)
class SourceSegment:
    # Stable position: "title", "summary", "body.{block}.{sentence}" or
    # "attr.{n}.{element}.{attribute}" (all 0-based).
    """One piece of source text cut from an article, as sent for translation."""

    key: str
    source: str  # the text to translate, with placeholders, whitespace-normalized
    # id -> opening tag, void or <code> markup, or protected text. A value starting with "<"
    # is markup; anything else is text (escaped when put back into HTML).
    placeholders: dict[str, str]


@dataclass(frozen=True)
class Segmented:
    """An HTML body cut into segments, with the skeleton that puts them back."""

    segments: list[SourceSegment]
    skeleton: str  # the HTML with every segment replaced by a slot; opaque to callers
    nonce: str = ""  # in every slot of this skeleton (module docstring: slots)


# --- HTML vocabulary -------------------------------------------------------------------

_BLOCK = frozenset(
    "address article aside blockquote body caption col colgroup dd details div dl dt "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre "
    "section summary table tbody td tfoot th thead tr ul".split()
)
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Never translated. As a block: copied to the skeleton; inline: one placeholder.
_OPAQUE = frozenset({"pre", "code", "kbd", "samp", "script", "style", "svg", "math", "textarea"})
_RAW_TEXT = frozenset({"script", "style"})  # the parser does not decode entities in these
_OBJECT = "\ufffc"  # stands for a void or opaque inline element in the flat text

_SLOT = "<!--seg:{nonce}:{key}-->"
_TAG_NAME = re.compile(r"<([^\s/>]+)")
_ASCII_SPACES = re.compile(r"[ \t\n\r\f]+")


def _escape_text(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _escape_attr(value: str) -> str:
    """Also ``<``: the skeleton's slot markers can then never appear inside an attribute."""
    return _escape_text(value).replace('"', "&quot;")


def _tag(el: HtmlElement) -> str:
    """The element's name; only comments and processing instructions have none."""
    return el.tag if isinstance(el.tag, str) else ""


def _start_tag(el: HtmlElement) -> str:
    attrs = "".join(f' {name}="{_escape_attr(value)}"' for name, value in el.attrib.items())
    return f"<{_tag(el)}{attrs}>"


def _inner(el: HtmlElement) -> str:
    text = el.text or ""
    parts = [text if el.tag in _RAW_TEXT else _escape_text(text)]
    for child in el:
        parts.append(_outer(child))
        parts.append(_escape_text(child.tail or ""))
    return "".join(parts)


def _outer(el: HtmlElement) -> str:
    """The element without its tail, serialized the way nh3 writes it; comments vanish."""
    if not isinstance(el.tag, str):
        return ""
    if el.tag in _VOID:
        return _start_tag(el)
    return f"{_start_tag(el)}{_inner(el)}</{el.tag}>"


def _is_block(el: HtmlElement) -> bool:
    """A block, or an inline element wrapping one (the parser allows <strong><p>)."""
    if not isinstance(el.tag, str):
        return False
    return el.tag in _BLOCK or any(
        isinstance(d.tag, str) and d.tag in _BLOCK for d in el.iterdescendants()
    )


# --- protected runs --------------------------------------------------------------------

# A letter or digit that glues a number into a word; CJK characters do not.
_WORDCHAR = r"[^\W\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
_DASH = "\\-\u2010\u2011\u2013"
_ONE_NUMBER = r"(?:\d{1,2}:\d{2}(?::\d{2})?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)%?"
_PROTECTED = re.compile(
    r"(?P<url>https?://[^\s<>\"{}\u3000-\u303f\uff00-\uffef]+"
    r"|(?<![A-Za-z0-9@./])www\.[^\s<>\"{}\u3000-\u303f\uff00-\uffef]+)"
    r"|(?P<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,}(?![\w-]))"
    rf"|(?P<number>(?<!{_WORDCHAR})(?<!{_WORDCHAR}[{_DASH}])(?<!\d[.,:])"
    rf"{_ONE_NUMBER}(?:[{_DASH}]{_ONE_NUMBER})?"
    rf"(?!{_WORDCHAR})(?![.,:]\d)(?![{_DASH}]{_WORDCHAR}))"
    r"|(?P<brace>[{}]+)"
)
_URL_TRAILING = ".,;:!?'\"’”)]"


def _protected_spans(text: str, kinds: frozenset[str] | None = None) -> list[tuple[int, int]]:
    """Where URLs, e-mail addresses, numbers and literal braces are, as (start, end);
    only those of `kinds` when given."""
    spans = []
    for match in _PROTECTED.finditer(text):
        if kinds is not None and match.lastgroup not in kinds:
            continue
        start, end = match.span()
        if match.lastgroup == "url":
            # A sentence's full stop or closing bracket is not part of the URL.
            while text[end - 1] in _URL_TRAILING:
                url = text[start:end]
                if url[-1] == ")" and url.count("(") >= url.count(")"):
                    break
                end -= 1
            if "." not in text[start:end].split("//", 1)[-1].rstrip("."):
                continue
        spans.append((start, end))
    return spans


# --- sentences -------------------------------------------------------------------------

_OPENERS = "\"'“‘«([「『（《"
_TERMINAL = re.compile(r"([.!?…。！？]+)[\"'”’»)\]」』）》]*$")
_CJK_STOP = re.compile(r"[。！？]+[\"'”’」』）》)]*")
_SPACE_RUN = re.compile(r"\s+")
_NO_BREAK = "\xa0\u2007\u202f"
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+")
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_BULLETS = "•‣⁃◦▪●"
# A numbered list item after a full stop: "2. ", "2.) ", "2) ", then its first word.
_LIST_MARKER = re.compile(r"\d{1,2}(?:\.\)?|\))\s+")
# A list item's marker when it starts a sentence: "1.", "a.", "Q.".
_LIST_WORD = re.compile(r"(?:\d{1,2}|[A-Za-z])\.")
# An ellipsis apart from the word before it ("is . . . I", "win. ... The"); three dots
# (or "…") after a word without a full stop leave words out, four end a sentence.
_LOOSE_ELLIPSIS = re.compile(r"(?<!\S)(\S+)\s+((?:\. ?){3,}|…)[\"'”’»)\]」』）》]*$")
# Always followed by more of the same sentence.
_PREFIX = frozenset(
    "Mr Mrs Ms Mx Dr Prof St Mt Ft Sen Rep Gov Gen Lt Col Capt Cmdr Adm Maj Sgt Cpl Rev Hon "
    "Pres Supt Det Insp Messrs Mme Mlle No Nos Fig Figs Vol Vols Art Sec Ch".split()
)
_PREFIX_ANY_CASE = frozenset("vs v approx cf ca viz e.g i.e pp".split())
# Often mid-sentence, but may end one: then only a typical opener follows.
_SUFFIX = frozenset(
    "Inc Ltd Co Corp Plc Bros Jr Sr Esq etc al Ave Blvd Rd Ph.D "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)
_OPENER_WORDS = frozenset(
    "A An The This That These Those There Its It He She They We I You His Her Their Our My "
    "But And Or So Yet However Meanwhile Also Still Then Now Earlier Later In On At For "
    "From With By Under After Before Since While When If As Although Though Despite "
    "According Last Next Some Many Most Other Such All Both Each No Not What Why How Where "
    "Who".split()
)


def _starts_sentence(char: str) -> bool:
    return char.isalpha() and not char.islower()  # capitals, and CJK (caseless)


LIST_LOOKBACK = 3


def _ends_sentence(before: str, after: str, depth: int = 0) -> bool:
    """Whether whitespace between `before` and `after` is a sentence boundary. A list
    marker asks whether the gap before it ended a sentence, at most LIST_LOOKBACK gaps
    back: "A. A. A. …" would otherwise cost a look back over the whole text per gap."""
    if after[:1] in _BULLETS:
        return True  # "• 9. The first item • 10. The second item"
    match = _TERMINAL.search(before)
    if not match:
        return False
    punct = match.group(1)
    if punct[-1] in "。！？":
        return True
    if before[match.start(1) - 1 : match.start(1)] == "[":
        return False  # "[...]": words left out of a quotation
    following = after.lstrip(_OPENERS)
    if not following:
        return False
    if not _starts_sentence(following[0]):
        # "item. 2) The next": a numbered marker, then a capital, starts a sentence.
        marker = _LIST_MARKER.match(following)
        if marker is None or not _starts_sentence(following[marker.end() :][:1]):
            return False
    if before[match.start(1) - 1 : match.start(1)].isspace():  # "is . . ." "win ..."
        loose = _LOOSE_ELLIPSIS.search(before)
        if loose and loose.group(2).count(".") in (0, 3) and not _TERMINAL.search(loose[1]):
            return False  # "the thing is . . . I didn't": an omission, not an end
    if punct != ".":
        return True  # ? ! … ...
    head = before[: match.end(1)]
    token = head.split()[-1]
    prefix = head[: len(head) - len(token)].rstrip()
    word = token.lstrip(_OPENERS + _BULLETS)
    stem = word[:-1]
    if _LIST_WORD.fullmatch(word):  # "1.", "a." starting a sentence: a list marker
        if (
            not prefix
            or prefix[-1] in _BULLETS
            or depth >= LIST_LOOKBACK
            or _ends_sentence(prefix, f"{token} {after}", depth + 1)
        ):
            return False
    if stem in _PREFIX or stem.lower() in _PREFIX_ANY_CASE:
        return False
    if word == "I." and prefix.split()[-1:] and prefix.split()[-1][0].islower():
        if not _INITIALISM.match(following):  # "and I. M. Pei" is a name
            return True  # "you and I. Did": the pronoun, not a middle initial
    if stem in _SUFFIX or _INITIALISM.fullmatch(word):
        opener = _FIRST_WORD.match(following)
        return opener is not None and opener.group() in _OPENER_WORDS
    return True


def _sentence_gaps(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence boundary; empty after a CJK full stop."""
    gaps = []
    for match in _CJK_STOP.finditer(text):
        end = match.end()
        if end < len(text) and not text[end].isspace():
            gaps.append((end, end))
    for match in _SPACE_RUN.finditer(text):
        start, end = match.span()
        if start == 0 or end == len(text) or not match.group().strip(_NO_BREAK):
            continue
        # A window is enough for the rules and keeps long paragraphs linear.
        if _ends_sentence(text[max(0, start - 80) : start], text[end : end + 40]):
            gaps.append((start, end))
    return sorted(gaps)


def split_sentences(text: str) -> list[str]:
    """Sentences of plain text, each stripped; the rules are in the module docstring."""
    sentences, position = [], 0
    for start, end in _sentence_gaps(text):
        sentences.append(text[position:start])
        position = end
    sentences.append(text[position:])
    return [s.strip() for s in sentences if s.strip()]


# --- building sources ------------------------------------------------------------------


def _flat(el: HtmlElement) -> str:
    """The text of an inline element as the splitter sees it (tags have no width)."""
    if not isinstance(el.tag, str):
        return ""
    if el.tag in _VOID or el.tag in _OPAQUE:
        return _OBJECT
    return (el.text or "") + "".join(_flat(child) + (child.tail or "") for child in el)


class _Source:
    """Collects one segment's source and placeholders; offsets are into the flat text."""

    def __init__(self, spans: list[tuple[int, int]], starts: list[int] | None = None) -> None:
        self.spans = spans
        self.starts = [start for start, _ in spans] if starts is None else starts
        self.parts: list[tuple[bool, str]] = []  # (is_text, piece)
        self.placeholders: dict[str, str] = {}

    def _placeholder(self, value: str) -> str:
        """Appends the next id's token ({n}) standing for `value`; returns the id."""
        pid = str(len(self.placeholders) + 1)
        self.placeholders[pid] = value
        self.parts.append((False, render_token(pid)))
        return pid

    def text(self, text: str, offset: int) -> None:
        position, end = 0, offset + len(text)
        for index in range(bisect.bisect_left(self.starts, offset), len(self.spans)):
            start, stop = self.spans[index]
            if start >= end:
                break
            if stop <= end:  # a span crossing a tag boundary stays text
                self.parts.append((True, text[position : start - offset]))
                self._placeholder(text[start - offset : stop - offset])
                position = stop - offset
        self.parts.append((True, text[position:]))

    def element(self, el: HtmlElement, offset: int) -> int:
        """Adds an inline element; returns the flat offset after it."""
        if not isinstance(el.tag, str):
            return offset
        if el.tag in _VOID or el.tag in _OPAQUE:
            self._placeholder(_outer(el))
            return offset + 1
        pid = self._placeholder(_start_tag(el))
        if el.text:
            self.text(el.text, offset)
            offset += len(el.text)
        for child in el:
            offset = self.element(child, offset)
            if child.tail:
                self.text(child.tail, offset)
                offset += len(child.tail)
        self.parts.append((False, render_token(pid, closing=True)))
        return offset

    def source(self) -> str:
        pieces, text = [], ""
        for is_text, piece in self.parts:
            if is_text:
                text += piece
            else:
                pieces += [_ASCII_SPACES.sub(" ", text), piece]
                text = ""
        pieces.append(_ASCII_SPACES.sub(" ", text))
        return "".join(pieces)


_BRACES = frozenset({"brace"})  # the only protected runs that become placeholders


def segment_text(key: str, text: str) -> SourceSegment:
    """Title, summary or attribute value: one segment, no sentence split."""
    text = _ASCII_SPACES.sub(" ", text).strip()
    builder = _Source(_protected_spans(text, _BRACES))
    builder.text(text, 0)
    return SourceSegment(key, builder.source(), builder.placeholders)


# --- body ------------------------------------------------------------------------------

_Item = str | HtmlElement  # a run: top-level text pieces and inline elements


class _Segmenter:
    def __init__(self, nonce: str = "") -> None:
        self.nonce = nonce
        self.out: list[str] = []
        self.segments: list[SourceSegment] = []
        self.block = 0
        self.open: list[str] = []  # the block elements around the current run
        self.kinds: dict[str, str] = {}  # key -> the kind of block it is read in

    def container(self, el: HtmlElement) -> None:
        """Inline runs between child blocks are units; child blocks are walked in turn."""
        run: list[_Item] = [el.text] if el.text else []
        for child in el:
            if _is_block(child):
                self.flush(run)
                run = []
                self.out.append(_start_tag(child))
                if child.tag in _OPAQUE:
                    self.out.append(_inner(child))
                elif child.tag not in _VOID:
                    self.open.append(_tag(child))
                    self.container(child)
                    self.open.pop()
                if child.tag not in _VOID:
                    self.out.append(f"</{_tag(child)}>")
            elif isinstance(child.tag, str):
                run.append(child)
            if child.tail:  # a comment's tail too; the comment itself is dropped
                if run and isinstance(run[-1], str):
                    run[-1] += child.tail
                else:
                    run.append(child.tail)
        self.flush(run)

    def flush(self, run: list[_Item]) -> None:
        """One unit: its top-level <br>s are hard breaks, the rest is split into sentences."""
        lines: list[list[_Item]] = [[]]
        breaks: list[str] = []
        for item in run:
            if isinstance(item, HtmlElement) and item.tag == "br":
                lines.append([])
                breaks.append(_outer(item))
            else:
                lines[-1].append(item)
        sentence = self.line(lines[0], 0)
        for line, markup in zip(lines[1:], breaks, strict=True):
            self.out.append(markup)
            sentence = self.line(line, sentence)
        if sentence:
            self.block += 1

    def line(self, items: list[_Item], sentence: int) -> int:
        """Segments for one line of a unit, numbered from `sentence`; returns the next number."""
        if not items:
            return sentence
        flats = [item if isinstance(item, str) else _flat(item) for item in items]
        flat = "".join(flats)
        offsets = [0]
        for piece in flats:
            offsets.append(offsets[-1] + len(piece))
        # Nothing to translate without a letter outside URLs, numbers and the like.
        unprotected = list(flat)
        for start, end in _protected_spans(flat):
            unprotected[start:end] = " " * (end - start)
        if not any(char.isalpha() for char in unprotected):
            self.out.append(_verbatim(items))
            return sentence
        spans = _protected_spans(flat, _BRACES)
        starts = [start for start, _ in spans]
        for entry in _cut(items, offsets, flat):
            if isinstance(entry, str):
                self.out.append(_escape_text(entry))
                continue
            builder = _Source(spans, starts)
            for item, offset in entry:
                if isinstance(item, str):
                    builder.text(item, offset)
                else:
                    builder.element(item, offset)
            key = f"body.{self.block}.{sentence}"
            self.segments.append(SourceSegment(key, builder.source(), builder.placeholders))
            self.kinds[key] = _block_kind(self.open)
            self.out.append(_SLOT.format(nonce=self.nonce, key=key))
            sentence += 1
        return sentence


def _verbatim(items: list[_Item]) -> str:
    return "".join(_escape_text(i) if isinstance(i, str) else _outer(i) for i in items)


def _cut(items: list[_Item], offsets: list[int], flat: str) -> list[str | list[tuple[_Item, int]]]:
    """The line as skeleton whitespace (str) and sentences ([(item, flat offset)]).

    A boundary is only taken where it lies in top-level text, so a paired element is
    never split between two segments."""
    gaps = _sentence_gaps(flat)
    first, last = items[0], items[-1]
    if isinstance(first, str) and first[:1].isspace():
        gaps.insert(0, (0, len(first) - len(first.lstrip())))
    if isinstance(last, str) and last[-1:].isspace():
        gaps.append((len(flat) - len(last) + len(last.rstrip()), len(flat)))
    cuts: dict[int, list[tuple[int, int]]] = {}  # item index -> local (start, end) cuts
    before: set[int] = set()  # cut right before this item
    for start, end in gaps:
        index = bisect.bisect_right(offsets, start) - 1  # the item with width holding start
        low, high = offsets[index], offsets[index + 1]
        if isinstance(items[index], str) and low <= start < high and end <= high:
            if start < end or low < start:
                cuts.setdefault(index, []).append((start - low, end - low))
                continue
        if start == end:  # between two top-level items
            index = bisect.bisect_left(offsets, start)
            if 0 < index < len(items):
                before.add(index)
    entries: list[str | list[tuple[_Item, int]]] = []
    sentence: list[tuple[_Item, int]] = []

    def close(gap: str) -> None:
        nonlocal sentence
        if sentence:
            entries.append(sentence)
        sentence = []
        entries.append(gap)

    for index, item in enumerate(items):
        if index in before:
            close("")
        if not isinstance(item, str):
            sentence.append((item, offsets[index]))
            continue
        position = 0
        for start, end in cuts.get(index, []):
            if start > position:
                sentence.append((item[position:start], offsets[index] + position))
            close(item[start:end])
            position = end
        if position < len(item):
            sentence.append((item[position:], offsets[index] + position))
    close("")
    return entries


def segment_html(html: str) -> Segmented:
    """Body HTML into sentence segments and a skeleton that puts them back."""
    if not html.strip():
        return Segmented([], html)
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    nonce = hashlib.blake2b(html.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    segmenter = _Segmenter(nonce)
    segmenter.container(root)
    segments = segmenter.segments + _attribute_segments(root)
    return Segmented(segments, "".join(segmenter.out), nonce)


TRANSLATABLE_ATTRIBUTES = ("alt", "title")

_KIND_OF_BLOCK = {
    **{f"h{level}": "heading" for level in range(1, 7)},
    "li": "list_item",
    "dt": "list_item",
    "dd": "list_item",
    "td": "table_cell",
    "th": "table_cell",
    "caption": "caption",
    "figcaption": "caption",
    "blockquote": "quote",
}


def _block_kind(open_blocks: list[str]) -> str:
    """The kind of text a run is: its innermost block that says more than a paragraph."""
    for tag in reversed(open_blocks):
        if tag in _KIND_OF_BLOCK:
            return _KIND_OF_BLOCK[tag]
    return "paragraph"


@dataclass(frozen=True)
class Place:
    """Where a body segment is read: what kind of text it is ("paragraph", "heading",
    "list_item", "table_cell", "caption", "quote", "alt", "tooltip") and, for an image's
    text, the image's address."""

    kind: str
    image: str | None = None


def segment_places(html: str) -> dict[str, Place]:
    """The place of every segment :func:`segment_html` cuts from ``html``, by key: the
    context a translator needs beside the bare sentence."""
    if not html.strip():
        return {}
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    segmenter = _Segmenter()
    segmenter.container(root)
    places = {key: Place(kind) for key, kind in segmenter.kinds.items()}
    for index, (el, name, _) in enumerate(_translatable_attributes(root)):
        kind = "alt" if name == "alt" else "tooltip"
        image = el.get("src") if el.tag == "img" else None
        places[f"attr.{index}.{_tag(el)}.{name}"] = Place(kind, image)
    return places


def _attribute_segments(root: HtmlElement) -> list[SourceSegment]:
    """``alt`` and ``title`` values with a letter, in document order; never inside <pre>,
    <code> and the like, which are copied unchanged."""
    return [
        segment_text(f"attr.{index}.{_tag(el)}.{name}", value)
        for index, (el, name, value) in enumerate(_translatable_attributes(root))
    ]


def _translatable_attributes(root: HtmlElement) -> Iterator[tuple[HtmlElement, str, str]]:
    """(element, attribute, value) of every attribute segment, in key order."""
    for el in root.iterdescendants():
        if not isinstance(el.tag, str) or el.tag in _OPAQUE:
            continue
        if any(ancestor.tag in _OPAQUE for ancestor in el.iterancestors()):
            continue
        for name in TRANSLATABLE_ATTRIBUTES:
            value = el.get(name)
            if value and any(char.isalpha() for char in value):
                yield el, name, value


def attribute_context(key: str) -> tuple[str, str] | None:
    """(element, attribute) of an attribute segment's key, e.g. ("img", "alt")."""
    parts = key.split(".")
    if len(parts) == 4 and parts[0] == "attr":
        return parts[2], parts[3]
    return None


# --- back to text and HTML -------------------------------------------------------------


_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")


def word_count(source: str) -> int:
    """Words of a segment's text, placeholder tokens aside: what a translator's work is
    counted in."""
    return len(_WORD.findall(strip_tokens(source, " ")))


def _render_html(segment: SourceSegment, target: str) -> str:
    """Target text to HTML: text escaped, known placeholders restored, each at most once,
    closing tokens honoured only for open elements, and whatever is left open closed."""
    paired = paired_ids(segment.source)
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (id, tag name)
    used: set[str] = set()
    position = 0
    for match in TOKEN.finditer(target):
        out.append(_escape_text(target[position : match.start()]))
        position = match.end()
        closing, pid = match.groups()
        value = segment.placeholders.get(pid)
        if value is None:
            continue
        if closing:
            if any(open_id == pid for open_id, _ in stack):
                while stack:
                    open_id, tag = stack.pop()
                    out.append(f"</{tag}>")
                    if open_id == pid:
                        break
            continue
        if pid in used:
            continue
        used.add(pid)
        if pid in paired:
            name = _TAG_NAME.match(value)
            if name:
                stack.append((pid, name.group(1)))
                out.append(value)
        else:
            out.append(value if value.startswith("<") else _escape_text(value))
    out.append(_escape_text(target[position:]))
    out.extend(f"</{tag}>" for _, tag in reversed(stack))
    return "".join(out)


def reassemble(segmented: Segmented, targets: Mapping[str, str], lang: str = "") -> str:
    """HTML with each slot filled by its target (or its source when the key is missing),
    set in the typography of `lang`: Chinese sentences follow each other without a space,
    and take full-width punctuation."""
    by_key = {segment.key: segment for segment in segmented.segments}
    texts = {
        key: punctuate(targets[key], lang) if lang else targets[key]
        for key in by_key
        if key in targets
    }

    nonce = re.escape(segmented.nonce)
    slot = re.compile(_SLOT.format(nonce=nonce, key=r"(body\.\d+\.\d+)"))
    between = re.compile(
        slot.pattern
        + r"([ \t\n\r\f]+)(?="
        + _SLOT.format(nonce=nonce, key=r"(body\.\d+\.\d+)")
        + ")"
    )

    def gap(match: re.Match[str]) -> str:
        before, space, after = match.groups()
        if before in texts and after in texts:
            space = sentence_gap(space, texts[before], texts[after], lang)
        return _SLOT.format(nonce=segmented.nonce, key=before) + space

    filled: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        segment = by_key.get(match.group(1))
        if segment is None or segment.key in filled:
            return ""  # only the slots segment_html put there, each once
        filled.add(segment.key)
        return _render_html(segment, texts.get(segment.key, segment.source))

    skeleton = between.sub(gap, segmented.skeleton) if lang else segmented.skeleton
    return _translate_attributes(slot.sub(fill, skeleton), segmented, texts)


def _translate_attributes(html: str, segmented: Segmented, targets: Mapping[str, str]) -> str:
    """Each translated attribute value put in place of every equal source value."""
    wanted: dict[tuple[str, str, str], str] = {}
    for segment in segmented.segments:
        where = attribute_context(segment.key)
        target = targets.get(segment.key)
        if where is None or target is None:
            continue
        original = render_text(segment, segment.source)
        # lxml refuses characters XML forbids in an attribute value; the text keeps the rest
        translated = " ".join(strip_xml_invalid(render_text(segment, target)).split())
        if translated and translated != original:
            wanted.setdefault((*where, original), translated)
    if not wanted:
        return html
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for el in root.iterdescendants():
        if not isinstance(el.tag, str):
            continue
        for name in TRANSLATABLE_ATTRIBUTES:
            value = el.get(name)
            if value is not None:
                found = wanted.get((el.tag, name, _ASCII_SPACES.sub(" ", value).strip()))
                if found is not None:
                    el.set(name, found)
    return _inner(root)


def render_text(segment: SourceSegment, target: str) -> str:
    """Title or summary target to plain text: placeholders back to what they protected."""
    used: set[str] = set()

    def restore(match: re.Match[str]) -> str:
        closing, pid = match.groups()
        if closing or pid in used or pid not in segment.placeholders:
            return ""
        used.add(pid)
        return segment.placeholders[pid]

    return TOKEN.sub(restore, target)
