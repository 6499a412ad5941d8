"""Public HTML pages the feeds link to: home, section and article pages per language."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from .. import urls
from ..config import SOURCE_LANGUAGE
from ..domain import Article
from ..domain import NotFound as NoSuchThing
from ..feeds.data import (
    breadcrumb,
    feed_title,
    language_name,
    publishable,
    section_label,
    statuses_by_language,
)
from ..feeds.model import FORMATS, MEDIA_TYPES
from .scope import Scope, current_settings, current_store, resolve

bp = Blueprint("site", __name__)
PAGE_ITEMS = 30
FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


def _common(scope: Scope) -> dict[str, object]:
    """What every page shows: its language, the site, and its feeds for autodiscovery."""
    settings = current_settings()
    g.page_language = scope.language.tag  # the UI speaks the page's language
    # The feed's own title, never the page's (an article's).
    sections = {s.path: s for s in current_store().sections.all()} if scope.section_path else {}
    name = feed_title(settings.site_name, sections, scope.section_path, scope.language.tag)
    feeds = [
        (
            MEDIA_TYPES[fmt],
            urls.feed_url(settings.base_url, scope.language.tag, scope.section_path, fmt),
            f"{name} ({FORMAT_NAMES[fmt]})",
        )
        for fmt in FORMATS
    ]
    return {
        "settings": settings,
        "lang": scope.language.tag,
        "feeds": feeds,
        "language_name": language_name,
    }


def _listing(scope: Scope) -> list[tuple[Article, str]]:
    store = current_store()
    statuses = None if scope.language.tag == SOURCE_LANGUAGE else publishable(scope.language)
    page = store.feeds.page(scope.section_path, scope.language.tag, statuses, 1, PAGE_ITEMS)
    return [
        (article, variant.title if variant else article.title) for article, variant in page.items
    ]


@bp.get("/<lang:lang_tag>/")
def home(lang_tag: str) -> str:
    scope = resolve(lang_tag)
    store = current_store()
    sections = {s.path: s for s in store.sections.all()}
    settings = current_settings()
    top = [
        (
            section_label(s, scope.language.tag),
            urls.section_page_url(settings.base_url, scope.language.tag, s.path),
        )
        for s in sections.values()
        if s.parent_path is None
    ]
    alternates = [
        (lang.tag, urls.section_page_url(settings.base_url, lang.tag, None))
        for lang in settings.languages
    ]
    return render_template(
        "home.html",
        **_common(scope),
        sections=top,
        articles=_listing(scope),
        alternates=alternates,
        title=settings.site_name,
    )


@bp.get("/<lang:lang_tag>/<section:section_path>/")
def section(lang_tag: str, section_path: str) -> str:
    scope = resolve(lang_tag, section_path)
    store = current_store()
    settings = current_settings()
    sections = {s.path: s for s in store.sections.all()}
    lang = scope.language.tag
    children = [
        (section_label(s, lang), urls.section_page_url(settings.base_url, lang, s.path))
        for s in sections.values()
        if s.parent_path == section_path
    ]
    alternates = [
        (other.tag, urls.section_page_url(settings.base_url, other.tag, section_path))
        for other in settings.languages
    ]
    return render_template(
        "section.html",
        **_common(scope),
        sections=children,
        articles=_listing(scope),
        alternates=alternates,
        title=breadcrumb(sections, section_path, lang),
    )


@bp.get("/<lang:lang_tag>/articles/<int:article_id>")
@bp.get("/<lang:lang_tag>/articles/<int:article_id>/<slug>")
def article(lang_tag: str, article_id: int, slug: str | None = None) -> str | Response:
    scope = resolve(lang_tag)
    store = current_store()
    settings = current_settings()
    try:
        found = store.articles.get(article_id)
    except NoSuchThing as exc:
        raise NotFound() from exc
    if found.deleted_at is not None:
        raise NotFound()
    if slug != found.slug:
        return redirect(
            url_for("site.article", lang_tag=lang_tag, article_id=article_id, slug=found.slug), 301
        )
    lang = scope.language.tag
    published = store.feeds.published_languages([found.id], statuses_by_language(settings))[
        found.id
    ]
    variants = {v.lang: v for v in store.variants.of([found.id])[found.id]}
    if lang != SOURCE_LANGUAGE and lang not in published:
        raise NotFound()
    text = variants[lang] if lang != SOURCE_LANGUAGE else found
    languages = [t for t in settings.language_tags if t == SOURCE_LANGUAGE or t in published]
    alternates = [
        (t, urls.article_url(settings.base_url, t, found.id, found.slug)) for t in languages
    ]
    sections = {s.path: s for s in store.sections.all()}
    context = _common(Scope(scope.language, found.section_path))
    return render_template(
        "article.html",
        **context,
        article=found,
        text=text,
        alternates=alternates,
        title=text.title,
        variant=variants.get(lang),
        section_name=breadcrumb(sections, found.section_path, lang),
        section_url=urls.section_page_url(settings.base_url, lang, found.section_path),
        original_url=urls.article_url(settings.base_url, SOURCE_LANGUAGE, found.id, found.slug),
    )
