"""The placeholder grammar lives in feedsvc.placeholders only; what each pattern accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from feedsvc.placeholders import (
    LONE_TOKEN,
    TOKEN,
    TYPED_TOKEN,
    Token,
    highest_id,
    ids_in_order,
    normalize_tokens,
    paired_ids,
    placeholder_ids,
    render_token,
    split_tokens,
    strip_tokens,
    tokens,
)

PACKAGE = Path(__file__).resolve().parent.parent / "feedsvc"


@pytest.mark.parametrize("pid", ["1", "2", "10", "123"])
@pytest.mark.parametrize("closing", [False, True])
def test_render_then_parse_round_trips(pid: str, closing: bool) -> None:
    text = f"a {render_token(pid, closing)} b"
    (token,) = tokens(text)
    assert (token.pid, token.closing) == (pid, closing)
    assert text[token.start : token.end] == str(token) == render_token(pid, closing)


def test_parse_then_render_round_trips() -> None:
    text = "{1}Xinhua{/1} said {2} on {3}Monday{/3}."
    rebuilt = "".join(
        before + (render_token(token[1], token[0]) if token else "")
        for before, token in split_tokens(text)
    )
    assert rebuilt == text
    assert placeholder_ids(text) == ["1", "/1", "2", "3", "/3"]
    assert paired_ids(text) == {"1", "3"}
    assert ids_in_order(text, "{4} {1}") == ["1", "2", "3", "4"]
    assert strip_tokens(text) == "Xinhua said  on Monday."
    assert strip_tokens(text, " ") == " Xinhua  said   on  Monday ."
    assert highest_id([text]) == 3
    assert highest_id(["no tokens"]) == 0


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("{1}", ["{1}"]),
        ("{/12}", ["{/12}"]),
        ("{{1}}", ["{1}"]),  # TOKEN: any token, even inside doubled braces
        ("{ 1 }", []),
        ("{1/}", []),
        ("{x}", []),
        ("{/}", []),
        ("｛1｝", []),
        ("{１}", ["{１}"]),  # \d: any Unicode decimal digit, as the segmenter never writes
    ],
)
def test_token_accepts(text: str, found: list[str]) -> None:
    assert [m.group() for m in TOKEN.finditer(text)] == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("{1} and {/1}", ["{1}", "{/1}"]),
        ("{{1}}", []),  # a literal brace pair around digits is text
        ("{{1}", []),
        ("{1}}", []),
        ("x{2}y", ["{2}"]),
    ],
)
def test_lone_token_accepts(text: str, found: list[str]) -> None:
    assert [m.group() for m in LONE_TOKEN.finditer(text)] == found


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("｛1｝", "{1}"),
        ("｛／1｝", "{/1}"),
        ("{１２}", "{12}"),
        ("{ 1 }", "{1}"),
        ("{/ 1}", "{/1}"),
        ("{\n1}", "{\n1}"),  # no line break inside a token
        ("１２ {x}", "１２ {x}"),
    ],
)
def test_typed_tokens_normalize(typed: str, canonical: str) -> None:
    assert normalize_tokens(typed) == canonical
    if typed != canonical:
        assert TYPED_TOKEN.search(typed)


def test_token_value() -> None:
    assert str(Token("7")) == "{7}"
    assert str(Token("7", closing=True)) == "{/7}"
    assert tokens("{{1}} {2}", LONE_TOKEN) == [Token("2", False, 6, 9)]


# The literal pieces of the grammar; any of them elsewhere is a second definition.
_GRAMMAR = re.compile(r"\\\{\(?/\?|\\d\+\)?\\\}|\{/\{|\{\{/")


def test_the_grammar_is_defined_once() -> None:
    holders = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts  # frozen history keeps its own copy
        and _GRAMMAR.search(path.read_text(encoding="utf-8"))
    )
    assert holders == ["placeholders.py"]
