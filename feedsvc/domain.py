"""Plain data types and domain errors shared by services, storage and the web layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Role(StrEnum):
    """What an API token may do."""

    ADMIN = "admin"
    EDITOR = "editor"
    TRANSLATOR = "translator"


class VariantOrigin(StrEnum):
    """Who produced a translated variant's text."""

    HUMAN = "human"
    MACHINE = "machine"


class VariantStatus(StrEnum):
    """How far a translated variant has come; the publish policy reads it."""

    DRAFT = "draft"
    MACHINE_TRANSLATED = "machine_translated"
    REVIEWED = "reviewed"


@dataclass(frozen=True)
class Section:
    """A node of the section tree, with its display names by language."""

    id: int
    path: str
    parent_path: str | None
    names: dict[str, str]
    created_at: datetime
    updated_at: datetime

    @property
    def slug(self) -> str:
        """The last part of the path, as URLs show it."""
        return self.path.rsplit("/", 1)[-1]


# An article as an editor writes it, in the order its documents list it: the one list the
# API's article schemas, the articles table, this dataclass and the import/export follow.
# "section" is the section's path (``section_path`` here, ``section_id`` in the table).
# tests/test_article_fields.py checks every place that cannot be derived from it.
ARTICLE_FIELDS: tuple[str, ...] = (
    "section",
    "slug",
    "title",
    "summary",
    "body_html",
    "author",
    "published_at",
    "source_name",
    "source_url",
    "image_url",
    "tags",
)
# What the store keeps beside them: identity, revision and times.
ARTICLE_RECORD_FIELDS: tuple[str, ...] = (
    "id",
    "external_id",
    "revision",
    "created_at",
    "updated_at",
    "deleted_at",
    "revised_at",
    "shared_revised_at",
)
_ARTICLE_ATTRIBUTES = {"section": "section_path"}  # a document's name → the attribute


@dataclass(frozen=True)
class Article:
    """A stored English article: the editor's fields, its identity, revision and times."""

    id: int
    external_id: str
    section_path: str
    slug: str
    title: str
    summary: str | None
    body_html: str
    author: str | None
    published_at: datetime
    source_name: str | None
    source_url: str | None
    image_url: str | None
    tags: tuple[str, ...]
    revision: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    revised_at: datetime | None = None  # the last change readers see after first publication
    shared_revised_at: datetime | None = None  # the same, of what every language shows

    @property
    def etag(self) -> str:
        """Strong validator (unquoted) for If-Match: changes with every stored revision."""
        return f"article-{self.id}-r{self.revision}"

    def document(self) -> dict[str, Any]:
        """The article as an editor writes it (ARTICLE_FIELDS): what a patch merges into
        and an export writes, so both follow the one field list."""
        values = {
            name: getattr(self, _ARTICLE_ATTRIBUTES.get(name, name)) for name in ARTICLE_FIELDS
        }
        values["tags"] = list(self.tags)
        return values


@dataclass(frozen=True)
class Variant:
    """An article's text in a target language (human or machine made)."""

    article_id: int
    lang: str
    title: str
    summary: str | None
    body_html: str
    origin: VariantOrigin
    status: VariantStatus
    source_revision: int
    updated_at: datetime
    engine: str | None = None  # the machine engine and version, if a machine made it
    revised_at: datetime | None = None  # the last change readers see after first publication
    shown_at: datetime | None = None  # when the language's policy first let it into feeds


@dataclass(frozen=True)
class ApiToken:
    """A bearer token's record (never the secret), for authorization."""

    id: int
    name: str
    role: Role
    languages: tuple[str, ...]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    session_generation: int = 0

    def live(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def may_translate(self, lang: str) -> bool:
        """Whether the token may edit translations of ``lang``."""
        return self.role is Role.ADMIN or (self.role is Role.TRANSLATOR and lang in self.languages)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, with what a client needs to ask for the next."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """The number of pages, at least one."""
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class FieldError:
    """One invalid input: a JSON pointer into the body (or a query parameter) and a message."""

    pointer: str | None
    detail: str
    parameter: str | None = None

    @property
    def where(self) -> str:
        """The pointer, or the query parameter as ``?name``."""
        return self.pointer or f"?{self.parameter}"


# Domain errors: services raise them, the web layer maps each to one HTTP status.


class DomainError(Exception):
    """Base for errors a caller can act on."""


class NotFound(DomainError):
    """The thing does not exist (404)."""

    pass


class Gone(DomainError):
    """The thing existed and was deleted; a tombstone remains."""


class Conflict(DomainError):
    """The request clashes with stored state (409)."""

    pass


class PreconditionFailed(DomainError):
    """An If-Match validator no longer matches the stored revision."""


@dataclass
class Invalid(DomainError):
    """Input failed validation; carries one message per field."""

    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{e.where}: {e.detail}" for e in self.errors)


# -- translation ----------------------------------------------------------------


class SegmentOrigin(StrEnum):
    """Who or what wrote a segment's target."""

    MODEL = "model"
    MEMORY = "memory"  # a human-approved translation of the same source text
    GLOSSARY = "glossary"  # the whole segment is a glossary term
    HUMAN = "human"
    # OpenCC's conversion of the approved segment of the language this one is derived
    # from (zh-Hant from zh-Hans): not a person's text, not the model's either.
    CONVERTED = "converted"


class SegmentStatus(StrEnum):
    """How far a segment's review has come."""

    PENDING = "pending"  # no target yet
    TRANSLATED = "translated"  # a machine or memory target, not approved
    APPROVED = "approved"


class JobStatus(StrEnum):
    """Where a translation job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"  # for a model to be installed, or for base text to convert
    DONE = "done"
    FAILED = "failed"
    # Stopped between engine calls: its article was deleted, or edited into a newer
    # revision whose own job takes over (last_error says which).
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class StoredSegment:
    """A stored segment of an article in one target language."""

    id: int
    article_id: int
    lang: str
    key: str
    position: int
    source: str
    source_hash: str
    placeholders: dict[str, str]
    target: str | None
    machine_target: str | None
    origin: SegmentOrigin | None
    status: SegmentStatus
    score: float | None
    engine: str | None
    model_runs: int
    updated_at: datetime
    version: int = 1  # bumped by every write: what a conditional write compares
    # The human translation set aside when the English changed, and the English it
    # translated; while set, the segment needs review against the new sentence.
    previous_source: str | None = None
    previous_target: str | None = None
    dismissed: tuple[str, ...] = ()  # QA warning codes a translator set aside
    words: int = 0  # English words of the source

    @property
    def source_changed(self) -> bool:
        """Whether the English changed under a human translation."""
        return self.previous_source is not None


@dataclass(frozen=True)
class Job:
    """A durable translation job of one article revision into one language."""

    id: int
    article_id: int
    lang: str
    revision: int
    status: JobStatus
    attempts: int
    last_error: str | None
    run_after: datetime
    lease_until: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lease_owner: str | None = None


@dataclass(frozen=True)
class GlossaryTerm:
    """A stored glossary entry of one language pair."""

    id: int
    source_lang: str
    target_lang: str
    source_term: str
    target_term: str
    do_not_translate: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a segment, for the reviewer's history and undo."""

    actor: str
    action: str
    before_target: str | None
    after_target: str | None
    before_status: str
    after_status: str
    at: datetime
    note: str | None = None  # a dismissal's reason, or "batch:<id>" of a bulk approval


@dataclass(frozen=True)
class QueueItem:
    """An article in a translator's queue: how far its review has come."""

    article_id: int
    title: str
    section_path: str
    total: int
    approved: int
    pending: int
    lowest_score: float | None
    oldest_change: datetime
    words: int = 0  # English words of all its segments
    words_to_review: int = 0  # of the segments not yet approved
    changed: int = 0  # segments whose English changed under a human translation
    errors: int = 0  # segments whose text has a blocking QA issue (filled for a page only)
    waiting: str | None = None  # why its latest job waits (for a model, for base text)

    @property
    def progress(self) -> int:
        """Approved segments in percent (100 for none)."""
        return round(100 * self.approved / self.total) if self.total else 100
