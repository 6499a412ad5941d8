"""SQLAlchemy tables. Only ``feedsvc.store`` and the migrations use these rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value  # the driver's: naive from SQLite, aware from psycopg
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _unique_in_status(status: str, name: str, *columns: str) -> Index:
    """A unique index over the rows in one ``status`` only (a partial index on both
    backends): how a job table keeps one running or one pending copy of a job."""
    where = text(f"status = '{status}'")
    return Index(name, *columns, unique=True, sqlite_where=where, postgresql_where=where)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SectionRow(Base):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    names: Mapped[list[SectionNameRow]] = relationship(
        # Loaded when read: most lookups of a section want its id, not its names.
        cascade="all, delete-orphan",
        lazy="select",
        order_by="SectionNameRow.lang",
    )


class SectionNameRow(Base):
    """A section's display name in one language."""

    __tablename__ = "section_names"

    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True
    )
    lang: Mapped[str] = mapped_column(String(35), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class SectionAliasRow(Base):
    """A path a section had before it was moved, kept so old URLs can redirect."""

    __tablename__ = "section_aliases"

    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ArticleRow(Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_section_published", "section_id", "published_at"),
        Index("ix_articles_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_name: Mapped[str | None] = mapped_column(String(200))
    source_url: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When what readers see changed after first publication, for a feed entry's updated
    # (None: it reads as first published). revised_at: anything shown in the source
    # language; shared_revised_at: what every language shows (author, image, tags, source).
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared_revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    section: Mapped[SectionRow] = relationship(lazy="joined", innerjoin=True)


class VariantRow(Base):
    """An article in a target language. Segments, jobs and memory will hang off this."""

    __tablename__ = "article_variants"
    __table_args__ = (UniqueConstraint("article_id", "lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(35))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    source_revision: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # see ArticleRow
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first in a feed


class SegmentRow(Base):
    """One sentence (or the title, the summary) of an article in one target language."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("article_id", "lang", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(35))
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str] = mapped_column(String(64))
    placeholders: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    target: Mapped[str | None] = mapped_column(Text)
    machine_target: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    engine: Mapped[str | None] = mapped_column(String(200))
    model_runs: Mapped[int] = mapped_column(Integer, default=0)
    # The human translation set aside when the English changed, with the English it
    # translated: reviewed against the new sentence rather than lost.
    previous_source: Mapped[str | None] = mapped_column(Text)
    previous_target: Mapped[str | None] = mapped_column(Text)
    dismissed: Mapped[list[str] | None] = mapped_column(JSON)  # QA warnings set aside
    words: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # ORM writes carry "WHERE version = :seen" and bump it: a segment changed by someone
    # else since this unit of work read it is never overwritten (StaleDataError instead).
    __mapper_args__ = {"version_id_col": version}


class SegmentHistoryRow(Base):
    """Who changed a segment, when, and from what to what."""

    __tablename__ = "segment_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    before_target: Mapped[str | None] = mapped_column(Text)
    after_target: Mapped[str | None] = mapped_column(Text)
    before_status: Mapped[str] = mapped_column(String(20))
    after_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)  # a dismissal's reason, a bulk batch


class LanguagePairEntry:
    """An entry of a table kept per (source, target) language pair, as translation memory
    and the glossary are: every read of them is of one pair."""

    # First in the table, as the migrations create them (a mixin's columns come last).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)
    source_lang: Mapped[str] = mapped_column(String(35), sort_order=-1)
    target_lang: Mapped[str] = mapped_column(String(35), sort_order=-1)

    @classmethod
    def of_pair(cls, source_lang: str, target_lang: str) -> ColumnElement[bool]:
        """The condition that selects the entries of one language pair."""
        return and_(cls.source_lang == source_lang, cls.target_lang == target_lang)


class MemoryRow(LanguagePairEntry, Base):
    """A human-approved translation of a whitespace-normalized source sentence."""

    __tablename__ = "translation_memory"
    __table_args__ = (UniqueConstraint("source_lang", "target_lang", "source_hash"),)

    source_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GlossaryRow(LanguagePairEntry, Base):
    """A term the engine must render one way, or leave alone (do-not-translate)."""

    __tablename__ = "glossary_terms"
    __table_args__ = (UniqueConstraint("source_lang", "target_lang", "source_key"),)

    source_term: Mapped[str] = mapped_column(String(200))
    source_key: Mapped[str] = mapped_column(String(200))  # casefolded, for uniqueness
    target_term: Mapped[str] = mapped_column(String(200))
    do_not_translate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRow(Base):
    """A durable translation job: one per (article revision, language)."""

    __tablename__ = "translation_jobs"
    __table_args__ = (
        UniqueConstraint("article_id", "lang", "revision"),
        Index("ix_translation_jobs_status_run_after", "status", "run_after"),
        # At most one running job per (article, language), whatever the workers believe.
        _unique_in_status("running", "ux_translation_jobs_running", "article_id", "lang"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(35))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedScopeRow(Base):
    """A change counter per section path ('' is the whole site): rendered feeds of a
    scope are cached under its version, so a bump is exactly an invalidation."""

    __tablename__ = "feed_scopes"

    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedEntryRow(Base):
    """What feed pages list, kept in step with every write: one row per article, feed scope
    (its section, every ancestor, '' for the site) and language it is shown in. A page is
    then one range of the primary key, however large the store."""

    __tablename__ = "feed_entries"
    __table_args__ = (Index("ix_feed_entries_article_id", "article_id"),)

    scope: Mapped[str] = mapped_column(String(512), primary_key=True)
    lang: Mapped[str] = mapped_column(String(35), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)  # "source" or a variant's
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )


class FeedEntryCountRow(Base):
    """How many feed entries a scope, language and status has: a feed's last page without
    counting its entries on every render."""

    __tablename__ = "feed_entry_counts"

    scope: Mapped[str] = mapped_column(String(512), primary_key=True)
    lang: Mapped[str] = mapped_column(String(35), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    entries: Mapped[int] = mapped_column(Integer)


class ApiTokenRow(Base):
    """An API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(20))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised by each review sign-out: a session cookie of an earlier generation is refused.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class WebSubTopicRow(Base):
    """The last seen state of a feed's first page (a WebSub topic): a change of its entry
    list or title is what hubs and subscribers are told about, nothing else."""

    __tablename__ = "websub_topics"

    topic: Mapped[str] = mapped_column(String(1024), primary_key=True)
    scope: Mapped[str] = mapped_column(String(512))
    signature: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)  # of the scope, when last compared
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSubSubscriptionRow(Base):
    """A verified subscription of the built-in hub: (topic, callback) is its identity."""

    __tablename__ = "websub_subscriptions"
    __table_args__ = (Index("ix_websub_subscriptions_topic", "topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of topic and callback
    topic: Mapped[str] = mapped_column(String(1024))
    callback: Mapped[str] = mapped_column(String(2048))
    callback_host: Mapped[str] = mapped_column(String(255), index=True)
    secret: Mapped[str | None] = mapped_column(String(200))
    lease_seconds: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSubJobRow(Base):
    """A durable WebSub job: a publish ping to an external hub, a verification of intent
    or a content delivery of the built-in hub. At most one pending job per (kind, target,
    topic): a burst of changes costs one request."""

    __tablename__ = "websub_jobs"
    __table_args__ = (
        Index("ix_websub_jobs_status_run_after", "status", "run_after"),
        _unique_in_status("pending", "ux_websub_jobs_pending", "dedup"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # publish, verify, deliver
    target: Mapped[str] = mapped_column(String(2048))  # the hub, or the subscriber's callback
    topic: Mapped[str] = mapped_column(String(1024))
    dedup: Mapped[str] = mapped_column(String(64))  # SHA-256 of kind, target and topic
    mode: Mapped[str | None] = mapped_column(String(20))  # verify: subscribe or unsubscribe
    lease_seconds: Mapped[int | None] = mapped_column(Integer)
    secret: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # pending, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
