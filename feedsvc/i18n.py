"""The UI's gettext catalogs (Flask-Babel); BCP 47 tags in, Babel locale ids out."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

from .config import Settings

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DateStyle = Literal["full", "long", "medium", "short"]  # CLDR's date format lengths


def babel_locale(tag: str) -> str:
    """``zh-Hans`` → ``zh_Hans``: Babel's spelling, used only to find a catalog."""
    return tag.replace("-", "_")


def bcp47(locale_id: str) -> str:
    """``zh_Hans`` → ``zh-Hans``: the spelling feeds, pages and the API use."""
    return locale_id.replace("_", "-")


_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def chinese_script(tag: str) -> str | None:
    """``hant`` or ``hans`` for a Chinese tag, from its script or else its region (zh-TW,
    zh-HK and zh-MO write Traditional characters); None for other languages."""
    language, *subtags = tag.lower().replace("_", "-").split("-")
    if language != "zh":
        return None
    script = next((s for s in subtags if s in ("hans", "hant")), None)
    if script is not None:
        return script
    region = next((s for s in subtags if len(s) == 2 or s.isdigit()), "")
    return "hant" if region in _TRADITIONAL_REGIONS else "hans"


def ui_locale(tag: str) -> str:
    """The UI catalog's locale for a language: one catalog per Chinese script, so a
    zh-Hant-HK page or a zh-TW browser reads zh_Hant, never zh_Hans or English."""
    script = chinese_script(tag)
    if script is not None:
        return "zh_Hant" if script == "hant" else "zh_Hans"
    return babel_locale(tag)


def regional_match(requested: str, tags: tuple[str, ...]) -> str | None:
    """The configured tag that best serves a browser's language: the same tag in any
    spelling; else the same language, for Chinese in the script the browser reads (zh-TW,
    zh-Hant-HK: Traditional), the same region first; else any tag of that language."""
    wanted = requested.lower().replace("_", "-")
    exact = next((tag for tag in tags if tag.lower() == wanted), None)
    if exact is not None:
        return exact
    language = wanted.split("-")[0]
    candidates = [tag for tag in tags if tag.split("-")[0].lower() == language]
    if language == "zh" and candidates:
        script = chinese_script(wanted)
        same = [tag for tag in candidates if chinese_script(tag) == script]
        region = wanted.split("-")[-1]
        regional = [tag for tag in same if tag.lower().split("-")[-1] == region]
        candidates = regional or same or candidates
    return candidates[0] if candidates else None


# The session key of the UI language a reviewer chose with the switcher (a BCP 47 tag).
UI_LANGUAGE_KEY = "ui_language"


@cache
def ui_languages() -> tuple[str, ...]:
    """The UI languages there are catalogs for (BCP 47 tags), English first: what the
    review screens' language switcher offers."""
    found = sorted(
        bcp47(path.name)
        for path in TRANSLATIONS.iterdir()
        if (path / "LC_MESSAGES" / "messages.po").is_file()
    )
    return ("en", *found)


def chosen_ui_language() -> str | None:
    """The UI language chosen with the switcher, for the review screens only."""
    if request.blueprint != "review":
        return None
    chosen = session.get(UI_LANGUAGE_KEY)
    return chosen if isinstance(chosen, str) and chosen in ui_languages() else None


def local_datetime(moment: datetime, zone: str, locale: str, style: DateStyle = "medium") -> str:
    """A moment as a reader in ``zone`` reads it in ``locale`` (a Babel id): the CLDR date
    of ``style`` and the short time, joined the locale's way, without seconds
    ("2026年10月9日 10:40", "Oct 9, 2026, 10:40 AM")."""
    local = moment.astimezone(ZoneInfo(zone))
    date = format_date(local, style, locale=locale)
    time = format_time(local, "short", locale=locale)
    return str(get_datetime_format(style, locale=locale)).replace("{1}", date).replace("{0}", time)


def local_date(moment: datetime, zone: str, locale: str, style: DateStyle = "medium") -> str:
    """The date alone, in ``zone`` (a day starts at the reader's midnight, not UTC's)."""
    return format_date(moment.astimezone(ZoneInfo(zone)), style, locale=locale)


def init_app(app: Flask, settings: Settings) -> Babel:
    """Sets up Babel so pages speak their URL's language and reviewers the one they chose."""

    def select_locale() -> str | None:
        """A configured language's tag. A public page speaks its URL's language; a review
        screen the language its reviewer chose with the switcher; elsewhere the browser's
        languages are tried best first, each exactly or by region, so
        "zh-TW,zh;q=0.9,en;q=0.8" reads Traditional Chinese where it is configured."""
        if page_language := g.get("page_language"):
            return str(page_language)
        if chosen := chosen_ui_language():
            return chosen
        for requested, quality in request.accept_languages:
            if quality > 0 and requested != "*":
                if match := regional_match(requested, settings.language_tags):
                    return match
        return None

    # Flask-Babel's own date filters follow the site's zone too.
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", settings.timezone)

    def page_locale() -> str:
        return str(get_locale() or "en")

    app.add_template_filter(
        lambda moment, style="medium": local_datetime(
            moment, settings.timezone, page_locale(), style
        ),
        "local_datetime",
    )
    app.add_template_filter(
        lambda moment, style="medium": local_date(moment, settings.timezone, page_locale(), style),
        "local_date",
    )
    babel = Babel()
    babel.init_app(
        app,
        locale_selector=lambda: ui_locale(select_locale() or "en"),
        default_translation_directories=str(TRANSLATIONS),
    )
    app.context_processor(lambda: {"locale_tag": bcp47(str(get_locale() or "en"))})
    return babel
