"""What every public (non-API) URL starts with: a language and maybe a section path."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, redirect, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

from ..config import Language, Settings
from ..db import request_session
from ..feeds.scopes import current_scopes
from ..schemas import SECTION_PATH_PATTERN
from ..store import Store


def current_settings() -> Settings:
    """The app's Settings, typed (Flask's extensions dict holds Any)."""
    settings: Settings = current_app.extensions["feedsvc.settings"]
    return settings


def current_store() -> Store:
    """The request's store, for the public views."""
    return Store(request_session())


def language_converter(settings: Settings) -> type[BaseConverter]:
    """A URL converter matching only configured languages, in any letter case, so that
    /api/…, /static/… and unknown languages never reach the public routes."""
    alternatives = "|".join(re.escape(lang.url_tag) for lang in settings.languages)

    class LanguageConverter(BaseConverter):
        regex = f"(?i:{alternatives})"

    return LanguageConverter


class SectionPathConverter(BaseConverter):
    """Only well-formed section paths, so /en/feed.xml is a 404 and not a section page."""

    regex = SECTION_PATH_PATTERN.removeprefix("^").removesuffix("$").replace("{0,5}", "*")


class Redirect(HTTPException):
    """A permanent redirect raised from inside a view (language spelling, moved section)."""

    code = 301

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location

    def get_response(self, environ: object = None, scope: object = None) -> Response:
        """Answers with the redirect itself rather than an HTML error page."""
        return redirect(self.location, 301)


def _replace_prefix(old: str, new: str) -> str:
    """The requested URL with its path prefix ``old`` replaced, query kept."""
    path = new + request.path[len(old) :]
    query = request.query_string.decode("latin-1")
    return path + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Scope:
    """The language and section a public URL resolves to."""

    language: Language
    section_path: str | None


def resolve(lang_tag: str, section_path: str | None = None) -> Scope:
    """The language and section a URL names: 301 to the canonical spelling, 404 if unknown.

    The ``lang`` and ``section`` URL converters already refused anything malformed."""
    language = current_settings().language(lang_tag)
    assert language is not None  # the converter matches configured languages only
    if lang_tag != language.url_tag:
        raise Redirect(_replace_prefix(f"/{lang_tag}", f"/{language.url_tag}"))
    if section_path is None or section_path in current_scopes().sections:
        return Scope(language, section_path)  # no database: the snapshot knows it
    store = current_store()
    if store.sections.exists(section_path):
        return Scope(language, section_path)
    moved_to = store.sections.alias(section_path)
    if moved_to:
        prefix = f"/{language.url_tag}/"
        raise Redirect(_replace_prefix(prefix + section_path, prefix + moved_to))
    raise NotFound(f"No section {section_path!r}.")
