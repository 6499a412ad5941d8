"""The UI's gettext catalogs (Flask-Babel); BCP 47 tags in, Babel locale ids out."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel, get_locale

from .config import Settings

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def babel_locale(tag: str) -> str:
    """``zh-Hans`` → ``zh_Hans``: Babel's spelling, used only to find a catalog."""
    return tag.replace("-", "_")


def bcp47(locale_id: str) -> str:
    """``zh_Hans`` → ``zh-Hans``: the spelling feeds, pages and the API use."""
    return locale_id.replace("_", "-")


def init_app(app: Flask, settings: Settings) -> Babel:
    supported = [babel_locale(tag) for tag in settings.language_tags]

    def select_locale() -> str | None:
        # A public page speaks its URL's language; elsewhere the browser's choice wins.
        if page_language := g.get("page_language"):
            return str(page_language)
        return request.accept_languages.best_match(supported + [bcp47(s) for s in supported])

    babel = Babel()
    babel.init_app(
        app,
        locale_selector=lambda: babel_locale(select_locale() or "en"),
        default_translation_directories=str(TRANSLATIONS),
    )
    app.context_processor(lambda: {"locale_tag": bcp47(str(get_locale() or "en"))})
    return babel
