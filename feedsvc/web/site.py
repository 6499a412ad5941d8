"""Public HTML pages the feeds link to: home, section and article pages per language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from .. import urls
from ..config import SOURCE_LANGUAGE
from ..domain import NotFound as NoSuchThing
from ..domain import Section
from ..feeds.data import (
    breadcrumb,
    feed_title,
    language_name,
    section_label,
    shown_statuses,
    statuses_by_language,
)
from ..feeds.model import FORMATS, MEDIA_TYPES
from .embed import embed_snippets
from .scope import Scope, current_settings, current_store, resolve

bp = Blueprint("site", __name__)
PAGE_ITEMS = 30
FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


@dataclass(frozen=True)
class Card:
    """An article as a listing shows it, in the page's language."""

    url: str
    title: str
    summary: str | None
    image_url: str | None
    published_at: datetime
    section: str


@dataclass(frozen=True)
class Crumb:
    """One link of a page's breadcrumb trail."""

    name: str
    url: str


def crumbs(sections: dict[str, Section], path: str | None, lang: str) -> list[Crumb]:
    """The way from the language's home to a section, each step a link."""
    base = current_settings().base_url
    trail = [Crumb(current_settings().site_name, urls.section_page_url(base, lang, None))]
    parts = path.split("/") if path else []
    for depth in range(1, len(parts) + 1):
        step = "/".join(parts[:depth])
        if step in sections:
            name = section_label(sections[step], lang)
            trail.append(Crumb(name, urls.section_page_url(base, lang, step)))
    return trail


def _common(scope: Scope) -> dict[str, object]:
    """What every page shows: its language, the site's top sections, and its feeds for
    autodiscovery."""
    settings = current_settings()
    g.page_language = scope.language.tag  # the UI speaks the page's language
    sections = {s.path: s for s in current_store().sections.all()}
    lang = scope.language.tag
    # The feed's own title, never the page's (an article's).
    name = feed_title(settings.site_name, sections, scope.section_path, lang)
    feeds = [
        (
            MEDIA_TYPES[fmt],
            urls.feed_url(settings.base_url, scope.language.tag, scope.section_path, fmt),
            f"{name} ({FORMAT_NAMES[fmt]})",
        )
        for fmt in FORMATS
    ]
    top = [
        Crumb(section_label(s, lang), urls.section_page_url(settings.base_url, lang, s.path))
        for s in sections.values()
        if s.parent_path is None
    ]
    current_top = (scope.section_path or "").split("/")[0]
    return {
        "settings": settings,
        "lang": lang,
        "feeds": feeds,
        "language_name": language_name,
        "top_sections": top,
        "current_top": urls.section_page_url(settings.base_url, lang, current_top or None),
        "sections_by_path": sections,
    }


def latest_cards(scope: Scope, limit: int = PAGE_ITEMS, only_reviewed: bool = False) -> list[Card]:
    """The scope's newest published articles in its language (what its feed lists)."""
    store = current_store()
    settings = current_settings()
    lang = scope.language.tag
    statuses = shown_statuses(scope.language, only_reviewed)
    page = store.feeds.page(scope.section_path, lang, statuses, 1, limit)
    sections = {s.path: s for s in store.sections.all()}
    return [
        Card(
            urls.article_url(settings.base_url, lang, article.id, article.slug),
            variant.title if variant else article.title,
            variant.summary if variant else article.summary,
            article.image_url,
            article.published_at,
            section_label(sections[article.section_path], lang)
            if article.section_path in sections
            else "",
        )
        for article, variant in page.items
    ]


@bp.get("/")
def index() -> str:
    """The front door: every language's home, the feeds, the API and the operator links."""
    return render_template("index.html", settings=current_settings())


@bp.get("/<lang:lang_tag>/")
def home(lang_tag: str) -> str:
    """A language's home page: its latest articles, linked to the other languages' versions."""
    scope = resolve(lang_tag)
    settings = current_settings()
    alternates = [
        (lang.tag, urls.section_page_url(settings.base_url, lang.tag, None))
        for lang in settings.languages
    ]
    common = _common(scope)
    return render_template(
        "home.html",
        **common,
        sections=common["top_sections"],
        articles=latest_cards(scope),
        alternates=alternates,
        title=settings.site_name,
    )


@bp.get("/<lang:lang_tag>/<section:section_path>/")
def section(lang_tag: str, section_path: str) -> str:
    """A section's page: its latest articles and its subsections."""
    scope = resolve(lang_tag, section_path)
    settings = current_settings()
    common = _common(scope)
    sections: dict[str, Section] = common["sections_by_path"]  # type: ignore[assignment]
    lang = scope.language.tag
    children = [
        Crumb(section_label(s, lang), urls.section_page_url(settings.base_url, lang, s.path))
        for s in sections.values()
        if s.parent_path == section_path
    ]
    alternates = [
        (other.tag, urls.section_page_url(settings.base_url, other.tag, section_path))
        for other in settings.languages
    ]
    trail = crumbs(sections, section_path, lang)
    return render_template(
        "section.html",
        **common,
        sections=children,
        articles=latest_cards(scope),
        alternates=alternates,
        crumbs=trail[:-1],
        heading=trail[-1].name,
        title=breadcrumb(sections, section_path, lang),
        embed_snippets=embed_snippets(
            settings, lang, section_path, f"{settings.site_name} — {trail[-1].name}"
        ),
    )


@bp.get("/<lang:lang_tag>/articles/<int:article_id>")
@bp.get("/<lang:lang_tag>/articles/<int:article_id>/<slug>")
def article(lang_tag: str, article_id: int, slug: str | None = None) -> str | Response:
    """An article's page in one language, redirected to its canonical slug."""
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
    context = _common(Scope(scope.language, found.section_path))
    sections: dict[str, Section] = context["sections_by_path"]  # type: ignore[assignment]
    return render_template(
        "article.html",
        **context,
        crumbs=crumbs(sections, found.section_path, lang),
        article=found,
        text=text,
        alternates=alternates,
        title=text.title,
        variant=variants.get(lang),
        original_url=urls.article_url(settings.base_url, SOURCE_LANGUAGE, found.id, found.slug),
    )
