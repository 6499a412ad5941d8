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


_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def regional_match(requested: str, tags: tuple[str, ...]) -> str | None:
    """Browsers say zh-CN or zh-TW where we say zh-Hans and zh-Hant; match by language,
    and for Chinese by the script the region writes."""
    language, _, region = requested.lower().replace("_", "-").partition("-")
    candidates = [tag for tag in tags if tag.split("-")[0].lower() == language]
    if language == "zh" and candidates:
        script = "hant" if region.split("-")[0] in _TRADITIONAL_REGIONS else "hans"
        preferred = [tag for tag in candidates if tag.lower().endswith(script)]
        candidates = preferred or candidates
    return babel_locale(candidates[0]) if candidates else None


def init_app(app: Flask, settings: Settings) -> Babel:
    supported = [babel_locale(tag) for tag in settings.language_tags]

    def select_locale() -> str | None:
        # A public page speaks its URL's language; elsewhere the browser's choice wins.
        if page_language := g.get("page_language"):
            return str(page_language)
        exact = request.accept_languages.best_match(supported + [bcp47(s) for s in supported])
        if exact:
            return exact
        for requested, _quality in request.accept_languages:
            if match := regional_match(requested, settings.language_tags):
                return match
        return None

    babel = Babel()
    babel.init_app(
        app,
        locale_selector=lambda: babel_locale(select_locale() or "en"),
        default_translation_directories=str(TRANSLATIONS),
    )
    app.context_processor(lambda: {"locale_tag": bcp47(str(get_locale() or "en"))})
    return babel
