"""The placeholder grammar: the one definition of the tokens inline markup becomes.

A segment's text carries its inline markup as tokens a translator (human or model) can
move but not damage: ``{1}…{/1}`` for a paired element, ``{2}`` for a standalone one (an
image, a line break, ``<code>``, a literal brace). An id is a run of decimal digits; a
closing token has a slash before it. Every module that reads or writes tokens uses the
patterns and functions here, so the syntax can only change in one place.

Three patterns, for three kinds of text:

- :data:`TOKEN` finds every token. Text the segmenter cut holds no literal brace (a
  brace becomes a placeholder), so any ``{n}`` in it is a token.
- :data:`LONE_TOKEN` finds tokens not inside doubled braces (``{{1}}`` holds none): for
  text that may hold literal braces, such as an engine's output or a user's input.
- :data:`TYPED_TOKEN` finds tokens as typed with an input method (full-width braces,
  slash or digits, spaces inside the braces); :func:`normalize_tokens` rewrites them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "LONE_TOKEN",
    "TOKEN",
    "TYPED_TOKEN",
    "Token",
    "highest_id",
    "ids_in_order",
    "normalize_tokens",
    "paired_ids",
    "placeholder_ids",
    "render_token",
    "split_tokens",
    "strip_tokens",
    "tokens",
]

TOKEN = re.compile(r"\{(/?)(\d+)\}")
"""Any token; group 1 is ``"/"`` for a closing token (else empty), group 2 the id."""

LONE_TOKEN = re.compile(r"(?<!\{)" + TOKEN.pattern + r"(?!\})")
"""A token not inside doubled braces: ``{{1}}`` is text, not a token. Same groups."""

TYPED_TOKEN = re.compile(
    r"[{\uff5b][^\S\n]*([/\uff0f]?)[^\S\n]*([0-9\uff10-\uff19]+)[^\S\n]*[}\uff5d]"
)
"""A token as an input method may type it (``｛／１｝``, ``{ 1 }``). Same groups."""


@dataclass(frozen=True)
class Token:
    """One token found in a text: its id, whether it closes a pair, and where it is."""

    pid: str
    closing: bool = False
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return render_token(self.pid, self.closing)


def render_token(pid: str | int, closing: bool = False) -> str:
    """The token for placeholder ``pid``: the only place the syntax is written out."""
    return f"{{/{pid}}}" if closing else f"{{{pid}}}"


def tokens(text: str, pattern: re.Pattern[str] = TOKEN) -> list[Token]:
    """The tokens of ``text`` in order (``pattern``: one of this module's patterns)."""
    return [
        Token(match.group(2), bool(match.group(1)), match.start(), match.end())
        for match in pattern.finditer(text)
    ]


def split_tokens(text: str) -> list[tuple[str, tuple[bool, str] | None]]:
    """``text`` as (text before, token) pairs, a token being (closing, id); the last pair
    has None for the text after the last token."""
    parts: list[tuple[str, tuple[bool, str] | None]] = []
    start = 0
    for token in tokens(text):
        parts.append((text[start : token.start], (token.closing, token.pid)))
        start = token.end
    parts.append((text[start:], None))
    return parts


def placeholder_ids(text: str) -> list[str]:
    """Placeholder ids in order of appearance ("1", "/1", "2"), to compare source and target."""
    return [closing + pid for closing, pid in TOKEN.findall(text)]


def paired_ids(*texts: str) -> set[str]:
    """Ids with a closing token in any of ``texts``: the paired elements."""
    return {pid for text in texts for closing, pid in TOKEN.findall(text) if closing}


def ids_in_order(*texts: str) -> list[str]:
    """Distinct ids in order of first appearance across ``texts``."""
    return list(dict.fromkeys(pid for text in texts for _, pid in TOKEN.findall(text)))


def strip_tokens(text: str, replacement: str = "", pattern: re.Pattern[str] = TOKEN) -> str:
    """``text`` with every token replaced: the words a reader or a check sees."""
    return pattern.sub(replacement, text)


def highest_id(texts: Iterable[str], pattern: re.Pattern[str] = LONE_TOKEN) -> int:
    """The largest id used in ``texts`` (0 for none): new placeholders number after it."""
    return max((int(token.pid) for text in texts for token in tokens(text, pattern)), default=0)


def normalize_tokens(text: str) -> str:
    """Placeholder tokens typed with an IME or in full-width forms, in canonical syntax.

    Full-width braces (``｛1｝``), a full-width slash (``｛／1｝``), full-width digits
    (``{１}``) and spaces inside the braces (``{ 1 }``, ``{/ 1}``) become ``{1}`` and
    ``{/1}``. Only the braces and what is between them change: text outside tokens
    (full-width digits included) stays as typed."""

    def canonical(match: re.Match[str]) -> str:
        closing, digits = match.groups()
        ascii_digits = "".join(
            chr(ord(char) - 0xFF10 + ord("0")) if "\uff10" <= char <= "\uff19" else char
            for char in digits
        )
        return render_token(ascii_digits, bool(closing))

    return TYPED_TOKEN.sub(canonical, text)
