"""The UI catalogs: in step with the code and templates, and zh_Hans complete."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("feedsvc/**.py", "python"), ("feedsvc/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def extracted() -> set[str]:
    messages = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in messages
    }


def catalog(path: Path) -> dict[str, Message]:
    """A catalog's messages by msgid (a plural message by its singular, as extracted)."""
    with path.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(handle) if m.id}


def translations(message: Message) -> list[str]:
    """Every msgstr of a message: one, or one per plural form."""
    return [message.string] if isinstance(message.string, str) else list(message.string)


def test_template_matches_the_code() -> None:
    pot = set(catalog(ROOT / "translations" / "messages.pot"))
    found = extracted()
    assert found - pot == set(), (
        "run: pybabel extract -F babel.cfg -k lazy_gettext -o translations/messages.pot ."
    )
    assert pot - found == set(), "messages.pot lists strings the code no longer has"


def test_zh_hans_is_complete() -> None:
    messages = catalog(ROOT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    assert set(messages) == extracted()
    untranslated = [m for m, message in messages.items() if not all(translations(message))]
    fuzzy = [m for m, message in messages.items() if message.fuzzy]
    assert untranslated == [] and fuzzy == []
