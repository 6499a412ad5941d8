"""Articles: every write that rests on a read carries the revision it read, in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update

from ..db.tables import ArticleRow, SectionRow
from ..domain import Article, NotFound, Page, PreconditionFailed
from . import rows
from .base import Repository

# What a reader of an entry sees: a change of these after first publication moves its
# updated; a re-import of the same text, a move or a new slug does not. The text is the
# source language's own; the rest every language shows.
SOURCE_TEXT = ("title", "summary", "body_html")
SHARED = ("author", "image_url", "tags", "source_name", "source_url")


def comparable(value: Any) -> Any:
    """A field value as the domain object holds it (lists are tuples)."""
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a listing or export reads, so API pages and JSONL exports share one query."""

    section_path: str | None = None  # the section and its subsections
    since: datetime | None = None  # changed (updated or deleted) at or after
    include_deleted: bool = False


class Articles(Repository):
    """Article rows as domain objects, so callers never hold ORM state across transactions."""

    def get(self, article_id: int) -> Article:
        """One article or NotFound, so API views answer 404 without checking for None."""
        found = self.many([article_id])
        if article_id not in found:
            raise NotFound(f"no article with id {article_id}")
        return found[article_id]

    def many(self, article_ids: Iterable[int]) -> dict[int, Article]:
        """Articles by id in one query (tombstones included), for pages and exports that
        would otherwise fetch them one by one; unknown ids are simply absent."""
        ids = sorted({article_id for article_id in article_ids if rows.storable_id(article_id)})
        if not ids:
            return {}
        # Plain columns, not ORM objects: a feed page reads 50 of these on every render.
        found = self.session.execute(
            select(*ArticleRow.__table__.c, SectionRow.path.label("section_path"))
            .join(SectionRow, SectionRow.id == ArticleRow.section_id)
            .where(ArticleRow.id.in_(ids))
        )
        return {row.id: rows.article_columns(row) for row in found}

    def by_external_id(self, external_id: str) -> Article | None:
        """The article a publisher's id names, so a re-import updates it, not duplicates it."""
        row = self.session.scalar(select(ArticleRow).where(ArticleRow.external_id == external_id))
        return rows.article(row) if row else None

    def by_external_ids(self, external_ids: Iterable[str]) -> dict[str, Article]:
        """Articles by publisher id in one query, so a bulk import batch avoids a query per line."""
        ids = list(set(external_ids))
        found = self.session.scalars(select(ArticleRow).where(ArticleRow.external_id.in_(ids)))
        return {row.external_id: rows.article(row) for row in found}

    def slug_taken(self, slug: str, except_id: int | None = None) -> bool:
        """Whether another article holds the slug, since slugs are unique URLs across the site."""
        query = select(ArticleRow.id).where(ArticleRow.slug == slug)
        if except_id is not None:
            query = query.where(ArticleRow.id != except_id)
        return self.session.scalar(query) is not None

    def slugs_starting_with(self, prefix: str) -> set[str]:
        """Slugs in use with this prefix, so a new slug can take the first free numbered suffix."""
        # A range, not LIKE: it uses the unique index on slug (slugs are ASCII).
        query = select(ArticleRow.slug).where(
            ArticleRow.slug >= prefix, ArticleRow.slug < prefix + "\x7f"
        )
        return set(self.session.scalars(query))

    def page(self, where: ArticleFilter, page: int, per_page: int) -> Page[Article]:
        """Articles newest first, or in change order with ``since`` so a sync misses none."""
        query = filtered(select(ArticleRow), where)
        total = self.session.scalar(filtered(select(func.count(ArticleRow.id)), where)) or 0
        order = (
            (ArticleRow.updated_at, ArticleRow.id)
            if where.since
            else (ArticleRow.published_at.desc(), ArticleRow.id.desc())
        )
        found = self.session.scalars(
            query.order_by(*order).limit(per_page).offset((page - 1) * per_page)
        )
        return Page([rows.article(row) for row in found], page, per_page, total)

    def all(self, batch: int = 500) -> Iterator[Article]:
        """Every article including tombstones, oldest first, streamed in batches."""
        last_id = 0
        while True:
            found = self.session.scalars(
                select(ArticleRow)
                .where(ArticleRow.id > last_id)
                .order_by(ArticleRow.id)
                .limit(batch)
            ).all()
            if not found:
                return
            yield from (rows.article(row) for row in found)
            last_id = found[-1].id

    def add(
        self, external_id: str, section_path: str, fields: dict[str, Any], now: datetime
    ) -> Article | None:
        """A new article, or None when a unique value (external_id, slug) is already taken,
        also by a writer that committed a moment ago: the caller decides what that means."""
        section = self.store.sections.row(section_path, lock="share")
        statement = (
            rows.upsert_insert(self.session, ArticleRow)
            .values(
                external_id=external_id,
                section_id=section.id,
                revision=1,
                created_at=now,
                updated_at=now,
                **fields,
            )
            .on_conflict_do_nothing()
            .returning(ArticleRow.id)
        )
        article_id = self.session.scalar(statement)
        if article_id is None:
            return None
        self.store.feeds.refresh_entries([article_id])
        self.store.feeds.touch([section_path], now)
        return self.get(article_id)

    def update(
        self,
        article_id: int,
        expected_revision: int,
        section_path: str,
        fields: dict[str, Any],
        now: datetime,
    ) -> Article:
        """Store new field values as the next revision (also revives a tombstone), only if
        the article is still at ``expected_revision``: a concurrent writer makes it fail."""
        before = self.get(article_id)
        section = self.store.sections.row(section_path, lock="share")

        def changed(names: tuple[str, ...]) -> bool:
            return any(
                name in fields and getattr(before, name) != comparable(fields[name])
                for name in names
            )

        revisions = {}
        if changed(SHARED):
            revisions = {"revised_at": now, "shared_revised_at": now}
        elif changed(SOURCE_TEXT):
            revisions = {"revised_at": now}
        self._write(
            article_id,
            expected_revision,
            section_id=section.id,
            deleted_at=None,
            updated_at=now,
            **revisions,
            **fields,
        )
        self.store.feeds.refresh_entries([article_id])
        self.store.feeds.touch([before.section_path, section_path], now)
        return rows.article(self._row(article_id, fresh=True))

    def delete(
        self,
        article_id: int,
        expected_revision: int,
        now: datetime,
        deleted_at: datetime | None = None,
    ) -> Article:
        """Soft delete: the row stays as a tombstone so sync clients see the deletion.
        ``deleted_at`` (default ``now``) lets an import keep an exported tombstone's time;
        ``updated_at`` is ``now`` all the same, since sync clients follow this store's changes."""
        before = self.get(article_id)
        self._write(article_id, expected_revision, deleted_at=deleted_at or now, updated_at=now)
        self.store.feeds.refresh_entries([article_id])
        self.store.feeds.touch([before.section_path], now)
        return rows.article(self._row(article_id, fresh=True))

    def _write(self, article_id: int, expected_revision: int, **values: Any) -> None:
        statement = (
            update(ArticleRow)
            .where(ArticleRow.id == article_id, ArticleRow.revision == expected_revision)
            .values(revision=ArticleRow.revision + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if self.changed(statement) != 1:
            raise PreconditionFailed(
                f"article {article_id} changed since revision {expected_revision}; fetch it again"
            )

    def _row(self, article_id: int, fresh: bool = False) -> ArticleRow:
        row = (
            self.session.get(ArticleRow, article_id, populate_existing=fresh)
            if rows.storable_id(article_id)
            else None
        )
        if row is None:
            raise NotFound(f"no article with id {article_id}")
        return row


def filtered(query: Select[Any], where: ArticleFilter) -> Select[Any]:
    """Applies an ArticleFilter, so the page query and its count always agree."""
    if where.section_path is not None:
        query = query.join(SectionRow, SectionRow.id == ArticleRow.section_id).where(
            or_(
                SectionRow.path == where.section_path,
                SectionRow.path.startswith(where.section_path + "/", autoescape=True),
            )
        )
    if where.since is not None:
        query = query.where(ArticleRow.updated_at >= where.since)
    if not where.include_deleted:
        query = query.where(ArticleRow.deleted_at.is_(None))
    return query
