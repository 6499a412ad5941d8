"""Editing sections and articles: validation beyond the schema, slugs, revisions, upserts."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .config import SOURCE_LANGUAGE, Settings, canonical_language_tag
from .domain import (
    Article,
    Conflict,
    FieldError,
    Gone,
    Invalid,
    NotFound,
    PreconditionFailed,
    Section,
)
from .sanitize import TEXT_DECODE_ROUNDS, EncodedTooDeep, clean_html, clean_text
from .schemas import ArticleIn, ArticlePatch, SectionIn, SectionPatch, parse_document
from .segments import segment_html
from .store import Store
from .store.articles import comparable

Clock = Callable[[], datetime]
RESERVED_SLUGS = frozenset({"articles"})  # /{lang}/articles/… are article pages
UPSERT_TRIES = 5  # a POST that keeps losing races to other writers gives up (409)
ETagMatcher = Callable[[str], bool]


def utcnow() -> datetime:
    """The default clock; tests pass their own."""
    return datetime.now(UTC)


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII slug from a title: 'GDD's 3.2 bn plan' → 'gdds-3-2-bn-plan'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower().replace("'", ""))
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "article"


@dataclass(frozen=True)
class Limits:
    """How much work one article may cause: the size of its body as submitted, and the
    translation segments it cuts into (title and summary included)."""

    max_body_bytes: int = Settings.max_body_bytes
    max_segments: int = Settings.max_segments

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits a configuration sets."""
        return cls(settings.max_body_bytes, settings.max_segments)


def current_limits() -> Limits:
    """The running app's limits (API, CLI import, demo all run in an app context), or the
    defaults outside one."""
    from flask import current_app, has_app_context

    if has_app_context() and (settings := current_app.extensions.get("feedsvc.settings")):
        return Limits.of(settings)
    return Limits()


# More than the segments a body can cut into, counted without cutting it: a segment
# boundary is whitespace after a sentence's end (or before a bullet), a CJK full stop, a
# tag, or an alt/title attribute; "&" stands for whatever an entity might hide.
_TERMINAL_SPACE = re.compile(r"[.!?…][\"'”’»)\]」』）》]*\s")
_CJK_OR_BULLET = re.compile(r"[。！？•‣⁃◦▪●<&]")
_ATTRIBUTE = re.compile(r"(?:alt|title)\s*=", re.IGNORECASE)


def segments_at_most(body_html: str) -> int:
    """An upper bound on the segments of a body, cheap enough to refuse a huge one early."""
    return (
        len(_TERMINAL_SPACE.findall(body_html))
        + len(_CJK_OR_BULLET.findall(body_html))
        + len(_ATTRIBUTE.findall(body_html))
        + 1
    )


# The longest sentence one segment may hold: the model reads it whole, and QA and the
# review screens handle it in one piece.
MAX_SEGMENT_CHARS = 4000


def segment_count(title: str, summary: str | None, body_html: str) -> int:
    """Segments the translation job cuts (feedsvc.translation.cut): title, summary, body."""
    return 1 + (1 if summary else 0) + len(segment_html(body_html).segments)


class Unknown:
    """Marks an argument the caller has not looked up."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class Saved:
    """The outcome of a write: the stored article and what happened to it."""

    article: Article
    created: bool = False
    changed: bool = True
    jobs: tuple[int, ...] = ()  # translation jobs queued by this write; dispatch after commit


class Editor:
    """The editor's operations; one instance per unit of work."""

    def __init__(
        self,
        store: Store,
        targets: Sequence[str] = (),
        clock: Clock = utcnow,
        defer_jobs: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.limits = limits or current_limits()
        self.targets = targets  # the languages every article is translated into
        self.clock = clock
        # defer_jobs: translation jobs are collected here (article id, language, revision)
        # instead of inserted one by one; queue_deferred_jobs() inserts them all at once.
        self.defer_jobs = defer_jobs
        self.deferred_jobs: list[tuple[int, str, int]] = []
        self._slug_clashes = 0

    # -- sections ---------------------------------------------------------

    def create_section(self, doc: SectionIn) -> Section:
        """A new section under an existing parent."""
        names = _section_names(doc.names, require_source=True)
        if self.store.sections.exists(doc.path):
            raise Conflict(f"section {doc.path!r} already exists")
        self._require_parent(doc.path, "/path")
        return self.store.sections.add(doc.path, names, self.clock())

    def update_section(self, path: str, doc: SectionPatch) -> Section:
        """Rename and/or move a section; its articles follow it."""
        section = self.store.sections.get(path)
        now = self.clock()
        if doc.names:
            section = self.store.sections.rename(path, _section_names(doc.names), now)
        if doc.path is not None and doc.path != path:
            if doc.path == path or doc.path.startswith(path + "/"):
                raise Invalid([FieldError("/path", "a section cannot move below itself")])
            if self.store.sections.exists(doc.path):
                raise Conflict(f"section {doc.path!r} already exists")
            self._require_parent(doc.path, "/path")
            section = self.store.sections.move(path, doc.path, now)
        return section

    def _require_parent(self, path: str, pointer: str) -> None:
        if path.split("/", 1)[0] in RESERVED_SLUGS:
            raise Invalid([FieldError(pointer, f"{path.split('/', 1)[0]!r} is reserved for URLs")])
        parent, _, _ = path.rpartition("/")
        if parent and not self.store.sections.exists(parent):
            raise Invalid([FieldError(pointer, f"parent section {parent!r} does not exist")])

    # -- articles ---------------------------------------------------------

    def upsert(self, doc: ArticleIn, existing: Article | None | Unknown = UNKNOWN) -> Saved:
        """POST semantics: create, or update the article with the same external_id.

        ``existing`` lets a bulk caller pass what it already looked up for many lines at once.
        Two writers racing on one new external_id both succeed: the insert that loses the
        race (ON CONFLICT) becomes an update of the winner's row.
        """
        for _ in range(UPSERT_TRIES):
            if isinstance(existing, Unknown):
                existing = (
                    self.store.articles.by_external_id(doc.external_id) if doc.external_id else None
                )
            try:
                if existing is None:
                    saved = self._create(doc)
                    if saved is not None:
                        return saved
                else:
                    return self._save(existing, doc.section, self._fields(doc, existing))
            except PreconditionFailed:  # a concurrent update won; POST has no precondition
                pass
            existing = UNKNOWN
        raise Conflict(f"article {doc.external_id!r} is being written by others; retry")

    def replace(self, article_id: int, doc: ArticleIn, if_match: ETagMatcher) -> Saved:
        """PUT: the whole article as given, if the caller saw the current revision."""
        current = self._current(article_id, if_match)
        if doc.external_id is not None and doc.external_id != current.external_id:
            raise Invalid([FieldError("/external_id", "cannot be changed")])
        return self._save(current, doc.section, self._fields(doc, current))

    def patch(self, article_id: int, doc: ArticlePatch, if_match: ETagMatcher) -> Saved:
        """PATCH: the given fields over the current article, validated as a whole."""
        current = self._current(article_id, if_match)
        given = doc.model_dump(exclude_unset=True)
        for required in ("section", "title", "body_html", "published_at"):
            if required in given and given[required] is None:
                raise Invalid([FieldError(f"/{required}", "cannot be null")])
        merged = current.document() | given
        return self._save(
            current, merged["section"], self._fields(parse_document(ArticleIn, merged), current)
        )

    def delete(self, article_id: int, if_match: ETagMatcher | None) -> Article:
        """Soft delete. Without If-Match the client asked for no precondition, so a
        concurrent edit is no reason to refuse: read again and delete that revision."""
        for _ in range(UPSERT_TRIES):
            current = self._current(article_id, if_match)
            try:
                return self.store.articles.delete(current.id, current.revision, self.clock())
            except PreconditionFailed:
                if if_match is not None:
                    raise
        raise Conflict(f"article {article_id} is being written by others; retry")

    def restore_tombstone(
        self, doc: ArticleIn, deleted_at: datetime, existing: Article | None | Unknown = UNKNOWN
    ) -> Saved:
        """Import of an exported tombstone: upsert the article, then delete it again at the
        time the export gives (not now), so export → import reproduces the store. A tombstone
        already in that state is left alone: re-importing an export changes nothing. No
        translations are queued, a deleted article is never translated."""
        if isinstance(existing, Unknown):
            existing = (
                self.store.articles.by_external_id(doc.external_id) if doc.external_id else None
            )
        if (
            existing is not None
            and existing.deleted_at == deleted_at
            and _same_content(existing, doc.section, self._fields(doc, existing))
        ):
            return Saved(existing, changed=False)
        saved = Editor(self.store, (), self.clock, limits=self.limits).upsert(doc, existing)
        article = self.store.articles.delete(
            saved.article.id, saved.article.revision, self.clock(), deleted_at
        )
        return Saved(article, created=saved.created)

    def _current(self, article_id: int, if_match: ETagMatcher | None) -> Article:
        article = self.store.articles.get(article_id)
        if article.deleted_at is not None:
            raise Gone(f"article {article_id} was deleted at {article.deleted_at.isoformat()}")
        if if_match is not None and not if_match(article.etag):
            raise PreconditionFailed(
                f"article {article_id} is at revision {article.revision}; fetch it again"
            )
        return article

    def _create(self, doc: ArticleIn) -> Saved | None:
        """None when the external_id was taken meanwhile (the caller updates instead)."""
        fields = self._fields(doc, None)
        self._require_section(doc.section)
        external_id = doc.external_id or f"urn:uuid:{uuid.uuid4()}"
        with _section_moved(doc.section):
            article = self.store.articles.add(external_id, doc.section, fields, self.clock())
        if article is None:
            if self.store.articles.by_external_id(external_id) is not None:
                return None
            # The slug was taken meanwhile by another article: the next try adds a random
            # suffix, so writers racing on one title do not keep choosing the same slug.
            self._slug_clashes += 1
            raise PreconditionFailed(f"slug {fields['slug']!r} was taken meanwhile")
        return Saved(article, created=True, jobs=self._queue_translations(article))

    def _save(self, current: Article, section: str, fields: dict[str, Any]) -> Saved:
        self._require_section(section)
        if current.deleted_at is None and _same_content(current, section, fields):
            return Saved(current, changed=False)
        with _section_moved(section):
            article = self.store.articles.update(
                current.id, current.revision, section, fields, self.clock()
            )
        return Saved(article, jobs=self._queue_translations(article))

    def queue_deferred_jobs(self) -> tuple[int, ...]:
        """Insert the deferred translation jobs in one statement; the ids of the new ones."""
        queued = self.store.jobs.enqueue_many(self.deferred_jobs, self.clock())
        self.deferred_jobs.clear()
        return tuple(queued)

    def _queue_translations(self, article: Article) -> tuple[int, ...]:
        keys = [(article.id, lang, article.revision) for lang in self.targets]
        if self.defer_jobs:
            self.deferred_jobs += keys
            return ()
        queued = (self.store.jobs.enqueue(*key, self.clock()) for key in keys)
        return tuple(job_id for job_id in queued if job_id is not None)

    def _require_section(self, path: str) -> None:
        if not self.store.sections.exists(path):
            raise Invalid([FieldError("/section", f"section {path!r} does not exist")])

    def _fields(self, doc: ArticleIn, current: Article | None) -> dict[str, Any]:
        """Sanitized column values; the slug and publication time stay put unless given."""
        size = len(doc.body_html.encode("utf-8", "surrogatepass"))
        if size > self.limits.max_body_bytes:
            raise Invalid(
                [
                    FieldError(
                        "/body_html",
                        f"is {size} bytes long; at most {self.limits.max_body_bytes} bytes "
                        "(UTF-8) are accepted",
                    )
                ]
            )
        body_html = clean_html(doc.body_html)
        title = _plain_text("/title", doc.title)
        summary = (_plain_text("/summary", doc.summary) or None) if doc.summary else None
        errors = []
        if not body_html:
            errors.append(FieldError("/body_html", "has no content left after sanitizing"))
        if not title:
            errors.append(FieldError("/title", "has no text left after removing markup"))
        if errors:
            raise Invalid(errors)
        self._check_segments(title, summary, body_html)
        return {
            "title": title,
            "summary": summary,
            "body_html": body_html,
            "author": doc.author or None,
            "published_at": (
                doc.published_at.astimezone(UTC)
                if doc.published_at
                else (current.published_at if current else self.clock())
            ),
            "source_name": doc.source_name or None,
            "source_url": doc.source_url,
            "image_url": doc.image_url,
            "tags": list(dict.fromkeys(tag for tag in doc.tags if tag)),
            "slug": self._slug(doc, current),
        }

    def _check_segments(self, title: str, summary: str | None, body_html: str) -> None:
        """Refuse what would cut into more segments than allowed. Cutting costs far less than
        translating (about 0.5 s for 200 KB of prose), and only a body whose cheap upper
        bound is over the limit is cut here."""
        limit = self.limits.max_segments
        if 2 + segments_at_most(body_html) <= limit and len(body_html) <= MAX_SEGMENT_CHARS:
            return
        segments = segment_html(body_html).segments
        if (count := 1 + (1 if summary else 0) + len(segments)) > limit:
            raise Invalid(
                [
                    FieldError(
                        "/body_html",
                        f"cuts into {count} translation segments (sentences, alt and title "
                        f"texts, with the title and summary); at most {limit} are accepted",
                    )
                ]
            )
        longest = max((len(segment.source) for segment in segments), default=0)
        if longest > MAX_SEGMENT_CHARS:
            raise Invalid(
                [
                    FieldError(
                        "/body_html",
                        f"holds a sentence of {longest} characters; one segment may have at "
                        f"most {MAX_SEGMENT_CHARS} (the model translates it in one piece)",
                    )
                ]
            )

    def _slug(self, doc: ArticleIn, current: Article | None) -> str:
        current_id = current.id if current else None
        if doc.slug:
            if self.store.articles.slug_taken(doc.slug, except_id=current_id):
                raise Conflict(f"slug {doc.slug!r} is used by another article")
            return doc.slug
        if current is not None:
            return current.slug
        base = slugify(doc.title)
        if self._slug_clashes:
            return f"{base}-{secrets.token_hex(3)}"
        if not self.store.articles.slug_taken(base):
            return base
        taken = self.store.articles.slugs_starting_with(base + "-")
        return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def _plain_text(pointer: str, value: str) -> str:
    """A title or summary as stored: plain text (see sanitize's Decisions); text still
    decoding after TEXT_DECODE_ROUNDS rounds is refused for its field."""
    try:
        return clean_text(value, TEXT_DECODE_ROUNDS)
    except EncodedTooDeep as exc:
        raise Invalid([FieldError(pointer, str(exc))]) from exc


@contextmanager
def _section_moved(path: str) -> Iterator[None]:
    """The section was moved away between the check and the write (the store re-reads
    it under a lock): the document names a section that no longer exists."""
    try:
        yield
    except NotFound as exc:
        raise Invalid([FieldError("/section", f"section {path!r} does not exist")]) from exc


def _same_content(current: Article, section: str, fields: dict[str, Any]) -> bool:
    """Whether writing ``fields`` would leave the article as it is (deletion aside)."""
    return section == current.section_path and all(
        getattr(current, name) == comparable(value) for name, value in fields.items()
    )


def _section_names(names: dict[str, str], require_source: bool = False) -> dict[str, str]:
    canonical: dict[str, str] = {}
    errors = []
    for tag, name in names.items():
        try:
            # A name is text like a title: it reaches feed titles, OPML and pages.
            text = _plain_text(f"/names/{tag}", name)
            if not text:
                errors.append(FieldError(f"/names/{tag}", "the name has no text"))
            canonical[canonical_language_tag(tag)] = text
        except ValueError as exc:
            errors.append(FieldError(f"/names/{tag}", str(exc)))
        except Invalid as exc:
            errors.extend(exc.errors)
    if require_source and SOURCE_LANGUAGE not in canonical and not errors:
        errors.append(FieldError("/names/en", "an English name is required"))
    if errors:
        raise Invalid(errors)
    return canonical
