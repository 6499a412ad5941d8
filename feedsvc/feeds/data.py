"""Build the neutral feed model from the store: which entries, in which words, with which links."""

from __future__ import annotations

import functools
import mimetypes
from dataclasses import dataclass
from datetime import datetime

import lxml.html
from babel import Locale
from flask_babel import force_locale, gettext

from .. import urls
from ..config import SOURCE_LANGUAGE, Language, Settings
from ..domain import Article, NotFound, Section, Variant, VariantOrigin, VariantStatus
from ..i18n import babel_locale, ui_locale
from ..store import Store
from .model import (
    Category,
    Feed,
    FeedEntry,
    Generator,
    Image,
    Link,
    Opml,
    Outline,
    Paging,
    Provenance,
    Translation,
)

GENERATOR = Generator("feedsvc", "https://feedsvc.example/", "0.1")


OPML_NOTE = (
    "A section's feed includes the articles of its subsections, and a language's site feed "
    "every section: subscribe to one level, or use ?leaves=1 for the feeds that share no "
    "article."
)
OPML_LEAVES_NOTE = "Only sections without subsections: no article appears in two feeds."


def _to_second(moment: datetime) -> datetime:
    """Feed times to the second: some readers (ROME) read six decimals as milliseconds."""
    return moment.replace(microsecond=0)


def _tag_key(text: str) -> str:
    return " ".join(text.replace("-", " ").replace("_", " ").casefold().split())


def lead(body_html: str, limit: int = 280) -> str | None:
    """The opening text of an article, for previews when it has no summary: readers show
    the summary (or the start of the content) in their lists. The first paragraph, or
    else every text, each followed by a space."""
    root = lxml.html.fragment_fromstring(body_html, create_parent="div")
    paragraphs = (" ".join(p.text_content().split()) for p in root.iter("p"))
    text = next((p for p in paragraphs if p), "") or " ".join(" ".join(root.itertext()).split())
    text = text.strip()
    if len(text) <= limit:
        return text or None
    cut_at = text.rfind(" ", 0, limit)
    return text[: cut_at if cut_at > limit // 2 else limit].rstrip(" ,;:") + "…"


def publishable(language: Language) -> tuple[VariantStatus, ...]:
    """Variant statuses that a language's policy lets into feeds and pages."""
    return language.shown


def shown_statuses(language: Language, only_reviewed: bool) -> tuple[VariantStatus, ...] | None:
    """The variant statuses a feed or page of ``language`` shows: its policy's, or with
    ``only_reviewed`` (a partner that may show human-reviewed translations only) just
    reviewed ones; None for the source language, whose originals are written by people."""
    if language.tag == SOURCE_LANGUAGE:
        return None
    return (VariantStatus.REVIEWED,) if only_reviewed else publishable(language)


BUILTIN_HUB = "builtin"  # in FEEDSVC_WEBSUB_HUBS: this service is a hub too, at /websub
BUILTIN_HUB_PATH = "/websub"


def hub_urls(settings: Settings) -> tuple[str, ...]:
    """The WebSub hubs every feed names (rel="hub"), in the configured order."""
    return tuple(
        settings.base_url + BUILTIN_HUB_PATH if hub == BUILTIN_HUB else hub
        for hub in settings.websub_hubs
    )


def statuses_by_language(settings: Settings) -> dict[str, tuple[VariantStatus, ...]]:
    """Statuses each target language publishes, so queries filter per language's policy."""
    return {lang.tag: publishable(lang) for lang in settings.target_languages}


@dataclass(frozen=True)
class FeedRequest:
    """One feed as requested, so the builder and the render cache key agree on what it is."""

    language: Language
    section_path: str | None
    fmt: str
    page: int
    limit: int
    self_url: str
    only_reviewed: bool = False


class PageOutOfRange(NotFound):
    """A feed page past the last, distinct so the view answers 404 with a feed-specific message."""

    pass


def section_label(section: Section, lang: str) -> str:
    """A section's name in ``lang``, falling back to English and then its slug, never blank."""
    return section.names.get(lang) or section.names.get(SOURCE_LANGUAGE) or section.slug


def feed_title(site: str, sections: dict[str, Section], section_path: str | None, lang: str) -> str:
    """Site, language and section: readers list feeds by title, and the same section in two
    languages must not read the same ("feedsvc News — 中文 (简体) — 新闻")."""
    parts = [site, language_name(lang, lang)]
    if section_path:
        parts.append(breadcrumb(sections, section_path, lang))
    return " — ".join(parts)


def breadcrumb(sections: dict[str, Section], path: str, lang: str) -> str:
    """A section's ancestry as labels ("News › World"), for feed subtitles and page headers."""
    parts = path.split("/")
    labels = [
        section_label(sections["/".join(parts[:n])], lang)
        for n in range(1, len(parts) + 1)
        if "/".join(parts[:n]) in sections
    ]
    return " › ".join(labels)


@functools.lru_cache(maxsize=256)
def language_name(tag: str, in_language: str) -> str:
    """A language's name as written in ``in_language``, for feed titles and language menus."""
    locale = Locale.parse(babel_locale(in_language))
    return Locale.parse(babel_locale(tag)).get_display_name(locale) or tag


class FeedBuilder:
    """Reads one feed's worth of data; one instance per request."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.base = settings.base_url
        self.hubs = hub_urls(settings)
        self.sections = {s.path: s for s in store.sections.all()}
        self._tag_names: dict[str, dict[str, str]] = {}  # lang → casefolded tag → name
        self._provenance_texts: dict[
            tuple[VariantStatus, VariantOrigin, str], tuple[Provenance, str, str, str]
        ] = {}
        self._converters = {
            lang.tag: lang.converter for lang in settings.target_languages if lang.converter
        }

    def feed(self, request: FeedRequest) -> Feed:
        """The feed model of one request; PageOutOfRange past the last page."""
        lang = request.language
        statuses = shown_statuses(lang, request.only_reviewed)
        page = self.store.feeds.page(
            request.section_path, lang.tag, statuses, request.page, request.limit
        )
        if request.page > page.pages:
            raise PageOutOfRange(f"page {request.page} of {page.pages}")
        published = self.store.feeds.published_languages(
            [article.id for article, _ in page.items], statuses_by_language(self.settings)
        )
        with force_locale(ui_locale(lang.tag)):
            entries = tuple(
                self._entry(article, variant, lang.tag, published[article.id])
                for article, variant in page.items
            )
            title, subtitle = self._titles(request.section_path, lang.tag)
            if request.only_reviewed and statuses is not None:
                # Its own title, as its own id: a reader must not mistake it for the full feed.
                only = gettext("human-reviewed only")
                title = f"{title} — {only}"
        # The scope's change time covers what entries cannot show (a deleted entry), so a
        # feed's updated never goes backwards.
        _, scope_changed = self.store.feeds.scope(request.section_path or "")
        updated = _to_second(max([scope_changed, *(entry.updated for entry in entries)]))
        section = self.sections.get(request.section_path or "")
        return Feed(
            id=urls.feed_id(
                self.base,
                lang.tag,
                section.id if section else None,
                request.only_reviewed and statuses is not None,
            ),
            title=title,
            subtitle=subtitle,
            language=lang.tag,
            self_url=request.self_url,
            html_url=urls.section_page_url(self.base, lang.tag, request.section_path),
            updated=updated,
            author=self.settings.publisher,
            rights=self.settings.copyright,
            generator=GENERATOR,
            icon=urls.static_url(self.base, "icon.png"),
            logo=urls.static_url(self.base, "logo.png"),
            alternates=tuple(
                Link(
                    urls.feed_url(
                        self.base,
                        other.tag,
                        request.section_path,
                        request.fmt,
                        only_reviewed=request.only_reviewed,
                    ),
                    hreflang=other.tag,
                    title=language_name(other.tag, other.tag),
                )
                for other in self.settings.languages
                if other.tag != lang.tag
            ),
            paging=self._paging(request, page.pages),
            entries=entries,
            hubs=self.hubs,
        )

    def _titles(self, section_path: str | None, lang: str) -> tuple[str, str]:
        title = self.feed_title(section_path, lang)
        if section_path is None:
            return title, gettext("Latest news from %(site)s", site=self.settings.site_name)
        crumb = breadcrumb(self.sections, section_path, lang)
        return title, gettext("Latest news in %(section)s", section=crumb)

    def feed_title(self, section_path: str | None, lang: str) -> str:
        """The title of a feed of this site, as feeds and OPML outlines must show it alike."""
        return feed_title(self.settings.site_name, self.sections, section_path, lang)

    def _paging(self, request: FeedRequest, pages: int) -> Paging:
        def url(number: int) -> str:
            return urls.feed_url(
                self.base,
                request.language.tag,
                request.section_path,
                request.fmt,
                number,
                request.limit,
                request.only_reviewed,
            )

        return Paging(
            first=url(1),
            last=url(pages),
            previous=url(request.page - 1) if request.page > 1 else None,
            next=url(request.page + 1) if request.page < pages else None,
        )

    def _entry(
        self, article: Article, variant: Variant | None, lang: str, published: set[str]
    ) -> FeedEntry:
        base = self.base
        section = self.sections.get(article.section_path)
        categories: tuple[Category, ...] = (
            (
                Category(
                    article.section_path,
                    f"{base}/sections",
                    breadcrumb(self.sections, article.section_path, lang),
                ),
            )
            if section
            else ()
        )
        tags = tuple(dict.fromkeys(self._tag_name(tag, lang) for tag in article.tags))
        categories += tuple(Category(tag, f"{base}/tags") for tag in tags)
        other_languages = [
            t
            for t in self.settings.language_tags
            if t != lang and (t == SOURCE_LANGUAGE or t in published)
        ]
        alternates = tuple(
            Link(
                urls.article_url(base, tag, article.id, article.slug),
                type="text/html",
                hreflang=tag,
            )
            for tag in other_languages
        )
        text = variant or article
        return FeedEntry(
            id=urls.entry_id(base, article.id, lang),
            title=text.title,
            url=urls.article_url(base, lang, article.id, article.slug),
            content_html=text.body_html,
            summary=text.summary or lead(text.body_html),
            published=_to_second(article.published_at),
            updated=_to_second(
                max(
                    moment
                    for moment in (
                        (article.published_at, article.shared_revised_at, variant.revised_at)
                        if variant
                        else (article.published_at, article.revised_at)
                    )
                    if moment is not None
                )
            ),
            author=article.author,
            language=lang,
            source_name=article.source_name,
            source_url=article.source_url,
            categories=categories,
            tags=tags,
            alternates=alternates,
            image=_image(article.image_url),
            translation=self._translation(article, variant, lang) if variant else None,
        )

    def _translation(self, article: Article, variant: Variant, lang: str) -> Translation:
        original = urls.article_url(self.base, SOURCE_LANGUAGE, article.id, article.slug)
        key = (variant.status, variant.origin, lang)
        if key not in self._provenance_texts:  # the same few words on every entry
            self._provenance_texts[key] = self._provenance(variant.status, variant.origin, lang)
        provenance, note, label, tag = self._provenance_texts[key]
        engine = self._converters.get(lang)
        return Translation(provenance, SOURCE_LANGUAGE, original, engine, note, label, tag)

    def _provenance(
        self, status: VariantStatus, origin: VariantOrigin, lang: str
    ) -> tuple[Provenance, str, str, str]:
        source = language_name(SOURCE_LANGUAGE, lang)
        language = self.settings.language(lang)
        if language is not None and language.derived_from and language.opencc:
            return self._converted(status, language, source)
        if status is VariantStatus.REVIEWED:
            provenance = Provenance.HUMAN
            if origin is VariantOrigin.HUMAN:
                note = gettext("Translated from %(language)s by people.", language=source)
            else:
                note = gettext(
                    "Machine-translated from %(language)s and reviewed by people.", language=source
                )
        else:
            provenance = Provenance.MACHINE
            note = gettext(
                "Machine-translated from %(language)s; not reviewed by people.", language=source
            )
        label = gettext("Read the original in %(language)s", language=source)
        tag = (
            gettext("Human-reviewed translation")
            if provenance is Provenance.HUMAN
            else gettext("Machine translation")
        )
        return provenance, note, label, tag

    def _converted(
        self, status: VariantStatus, language: Language, source: str
    ) -> tuple[Provenance, str, str, str]:
        """A derived language (zh-Hant from zh-Hans) says what it was converted from and
        with what, and counts as human-reviewed only once its own reviewers approved it."""
        base = language_name(language.derived_from or "", language.tag)
        if status is VariantStatus.REVIEWED:
            provenance = Provenance.HUMAN
            note = gettext(
                "Converted from human-reviewed %(language)s with OpenCC %(config)s and "
                "reviewed by people.",
                language=base,
                config=language.opencc,
            )
            tag = gettext("Human-reviewed translation")
        else:
            provenance = Provenance.CONVERTED
            note = gettext(
                "Converted from human-reviewed %(language)s with OpenCC %(config)s.",
                language=base,
                config=language.opencc,
            )
            tag = gettext("Converted from reviewed text")
        label = gettext("Read the original in %(language)s", language=source)
        return provenance, note, label, tag

    def _tag_name(self, tag: str, lang: str) -> str:
        """A tag in the feed's language where the glossary has it ("hong-kong" matches the
        term "Hong Kong"); as written otherwise. Not from the translation memory: it holds
        sentences, and a feed would have to be invalidated by every approval."""
        if lang == SOURCE_LANGUAGE:
            return tag
        if lang not in self._tag_names:
            glossary = self.store.glossary.terms(SOURCE_LANGUAGE, lang)
            self._tag_names[lang] = {_tag_key(t.source_term): t.target_term for t in glossary}
        return self._tag_names[lang].get(_tag_key(tag), tag)

    def opml(self, languages: list[Language], leaves_only: bool = False) -> Opml:
        """A folder per language holding its site feed and a folder per section that has
        subsections (its own feed first, then theirs): readers show the tree, and those
        that treat an outline with children as a folder still find every feed. A parent's
        feed includes its children's articles; ``leaves_only`` lists just the feeds that
        share no article, for readers that do not deduplicate."""
        outlines = []
        for language in languages:
            tag = language.tag
            with force_locale(ui_locale(tag)):
                if leaves_only:
                    children = tuple(
                        self._feed_outline(path, tag)
                        for path in self.sections
                        if not self._children(path)
                    )
                else:
                    top = tuple(self._outline(p, tag) for p in self.sections if "/" not in p)
                    children = (self._feed_outline(None, tag), *top)
                outlines.append(Outline(language_name(tag, tag), tag, children=children))
        _, changed = self.store.feeds.scope("")
        return Opml(
            self.settings.site_name,
            self.settings.publisher,
            changed,
            tuple(outlines),
            note=OPML_LEAVES_NOTE if leaves_only else OPML_NOTE,
        )

    def _children(self, path: str) -> list[str]:
        return [child for child in self.sections if child.rpartition("/")[0] == path]

    def _outline(self, path: str, lang: str) -> Outline:
        children = self._children(path)
        if not children:
            return self._feed_outline(path, lang)
        return Outline(
            section_label(self.sections[path], lang),
            lang,
            children=(
                self._feed_outline(path, lang),
                *(self._outline(child, lang) for child in children),
            ),
        )

    def _feed_outline(self, path: str | None, lang: str) -> Outline:
        return Outline(
            text=self.feed_title(path, lang),
            language=lang,
            xml_url=urls.feed_url(self.base, lang, path, "rss"),
            html_url=urls.section_page_url(self.base, lang, path),
        )


def _image(url: str | None) -> Image | None:
    if not url:
        return None
    media_type, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return Image(
        url, media_type if media_type and media_type.startswith("image/") else "image/jpeg"
    )
