"""Variants (an article in a target language) and their segments, with review history.

Three writers meet here: the engine (through a job), translators and the editor's
re-cut of a changed article. Each write names, in SQL, the state it was decided on."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select, update

from ..db.tables import (
    ArticleRow,
    JobRow,
    SectionRow,
    SegmentHistoryRow,
    SegmentRow,
    VariantRow,
)
from ..domain import (
    HistoryEntry,
    JobStatus,
    NotFound,
    PreconditionFailed,
    QueueItem,
    SegmentOrigin,
    SegmentStatus,
    StoredSegment,
    Variant,
    VariantStatus,
)
from . import rows
from .base import Repository

# What a change of makes a revision of a shown variant: its text, and its provenance
# (machine-translated ↔ reviewed, which feed entries state).
REVISING = ("title", "summary", "body_html", "origin", "status")
SHOWN = (VariantStatus.MACHINE_TRANSLATED, VariantStatus.REVIEWED)


@dataclass(frozen=True)
class QueueFilter:
    """Which articles of a language the review queue lists, so a page of it and its totals
    over all pages select the same ones. ``status``: all | todo (not all approved) | done |
    changed (an English sentence changed under a human translation)."""

    lang: str  # articles with segments in this language
    section_path: str | None = None  # the section and its subsections
    search: str | None = None  # in the title, an English sentence or its translation (any case)
    status: str = "all"


class SegmentsChanged(Exception):
    """A translator changed a segment between the job's read and its write: read again."""


class Variants(Repository):
    """Translated variants of articles: what the feeds and pages of other languages show."""

    def of(self, article_ids: Sequence[int]) -> dict[int, list[Variant]]:
        """The variants of many articles in one query, so a listing avoids a query per article."""
        found: dict[int, list[Variant]] = {article_id: [] for article_id in article_ids}
        result = self.session.scalars(
            select(VariantRow)
            .where(VariantRow.article_id.in_(list(article_ids)))
            .order_by(VariantRow.lang)
        )
        for row in result:
            found[row.article_id].append(rows.variant(row))
        return found

    def get(self, article_id: int, lang: str) -> Variant | None:
        """The variant of (article, language), or None before its first translation."""
        row = self.session.scalar(
            select(VariantRow).where(VariantRow.article_id == article_id, VariantRow.lang == lang)
        )
        return rows.variant(row) if row else None

    def save(
        self, variant: Variant, section_path: str, shown: Collection[VariantStatus] = SHOWN
    ) -> bool:
        """Insert or replace the variant of (article, lang), unless the stored one was made
        from a newer source revision (False then). Its updated time, and the feeds that show
        it, move only when what readers see changes: text, status or origin. ``shown``: the
        statuses the language's policy publishes. The first time the variant has one of
        them is its first publication (``shown_at``); a later change of its text, or of
        its status among them, is a revision (``revised_at``, a feed entry's updated)."""
        visible = {
            "title": variant.title,
            "summary": variant.summary,
            "body_html": variant.body_html,
            "origin": variant.origin.value,
            "status": variant.status.value,
        }
        bookkeeping = {"source_revision": variant.source_revision, "engine": variant.engine}
        now = variant.updated_at
        is_shown = variant.status in shown
        inserted = self.session.scalar(
            rows.upsert_insert(self.session, VariantRow)
            .values(
                article_id=variant.article_id,
                lang=variant.lang,
                created_at=now,
                updated_at=now,
                shown_at=now if is_shown else None,
                **visible,
                **bookkeeping,
            )
            .on_conflict_do_nothing()
            .returning(VariantRow.id)
        )
        changed = inserted is not None
        if not changed:
            query = select(VariantRow).where(
                VariantRow.article_id == variant.article_id, VariantRow.lang == variant.lang
            )
            if rows.is_postgresql(self.session):
                query = query.with_for_update()
            row = self.session.scalars(query.execution_options(populate_existing=True)).one()
            if row.source_revision > variant.source_revision:
                return False
            changed = any(getattr(row, name) != value for name, value in visible.items())
            if changed and is_shown:
                if row.shown_at is None:
                    row.shown_at = now
                elif any(getattr(row, name) != visible[name] for name in REVISING):
                    row.revised_at = now
            for name, value in (visible | bookkeeping).items():
                setattr(row, name, value)
            if changed:
                row.updated_at = now
            self.session.flush()
        if changed:
            self.store.feeds.refresh_entries([variant.article_id])
            self.store.feeds.touch([section_path], now)
        return True

    def withdraw(self, article_id: int, lang: str, section_path: str, now: datetime) -> bool:
        """Take a variant out of the feeds (its text is no longer what readers may see)."""
        matched = self.changed(
            update(VariantRow)
            .where(
                VariantRow.article_id == article_id,
                VariantRow.lang == lang,
                VariantRow.status != VariantStatus.DRAFT.value,
            )
            .values(status=VariantStatus.DRAFT.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if matched:
            self.store.feeds.refresh_entries([article_id])
            self.store.feeds.touch([section_path], now)
        return bool(matched)


class Segments(Repository):
    """Translation segments and their history: the unit translators review and approve."""

    def of(self, article_id: int, lang: str) -> list[StoredSegment]:
        """A variant's segments in text order, re-read so a concurrent job's writes show."""
        found = self.session.scalars(
            select(SegmentRow)
            .where(SegmentRow.article_id == article_id, SegmentRow.lang == lang)
            .order_by(SegmentRow.position)
            .execution_options(populate_existing=True)
        )
        return [rows.segment(row) for row in found]

    def of_articles(self, article_ids: Sequence[int], lang: str) -> dict[int, list[StoredSegment]]:
        """Segments of many articles in one query, by article, in reading order."""
        found: dict[int, list[StoredSegment]] = {article_id: [] for article_id in article_ids}
        result = self.session.scalars(
            select(SegmentRow)
            .where(SegmentRow.article_id.in_(list(article_ids)), SegmentRow.lang == lang)
            .order_by(SegmentRow.article_id, SegmentRow.position)
        )
        for row in result:
            found[row.article_id].append(rows.segment(row))
        return found

    def get(self, article_id: int, lang: str, key: str) -> StoredSegment:
        """One segment by key or NotFound, so API views answer 404 without checking for None."""
        return rows.segment(self._row(article_id, lang, key))

    def replace(
        self, article_id: int, lang: str, segments: Sequence[StoredSegment], now: datetime
    ) -> None:
        """Store the article's segment list: rows are updated by key, added, or removed.
        Only the job that holds the lease of (article, lang) calls this, with states it read
        earlier in the same transaction: a row whose version moved since (a translator's
        commit in between) raises SegmentsChanged, and the ORM's version check covers the
        rest of the way to the flush."""
        existing = {
            row.key: row
            for row in self.session.scalars(
                select(SegmentRow)
                .where(SegmentRow.article_id == article_id, SegmentRow.lang == lang)
                .execution_options(populate_existing=True)
            )
        }
        wanted = {segment.key for segment in segments}
        for key, gone in existing.items():
            if key not in wanted:
                self.session.delete(gone)
        self.session.flush()
        for segment in segments:
            values = rows.segment_values(segment)
            row = existing.get(segment.key)
            if row is None:
                self.session.add(
                    SegmentRow(
                        article_id=article_id,
                        lang=lang,
                        key=segment.key,
                        updated_at=now,
                        **values,
                    )
                )
            elif row.id == segment.id and row.version != segment.version:
                raise SegmentsChanged(f"segment {segment.key} changed since it was read")
            elif any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = now
        self.session.flush()

    def fill(
        self,
        segment: StoredSegment,
        target: str,
        origin: SegmentOrigin,
        status: SegmentStatus,
        now: datetime,
        score: float | None = None,
        engine: str | None = None,
    ) -> bool:
        """Machine text (engine, memory, glossary) for a segment that is still pending for
        the same source sentence. False when a translator or a newer cut got there first."""
        values: dict[str, object] = {
            "target": target,
            "origin": origin.value,
            "status": status.value,
            "version": SegmentRow.version + 1,
            "updated_at": now,
        }
        if origin is SegmentOrigin.MODEL:
            values |= {
                "machine_target": target,
                "score": score,
                "engine": engine,
                "model_runs": SegmentRow.model_runs + 1,
            }
        elif score is not None:
            values["score"] = score
        if origin is SegmentOrigin.MEMORY and status is SegmentStatus.APPROVED:
            # An approved translation of this very sentence: nothing set aside to review.
            values |= {"previous_source": None, "previous_target": None}
        matched = self.changed(
            update(SegmentRow)
            .where(
                SegmentRow.id == segment.id,
                SegmentRow.status == SegmentStatus.PENDING.value,
                SegmentRow.source_hash == segment.source_hash,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return matched == 1

    def change(
        self,
        segment: StoredSegment,
        target: str | None,
        status: SegmentStatus,
        origin: SegmentOrigin | None,
        actor: str,
        action: str,
        now: datetime,
        note: str | None = None,
        reviewed: bool = False,
        dismissed: tuple[str, ...] | None = None,
    ) -> StoredSegment:
        """A person's change to one segment as they saw it (its version), with history;
        PreconditionFailed when someone or something changed it in between. ``reviewed``:
        the person has dealt with a translation set aside by a source change (it goes).
        Dismissed warnings belong to a text: a new text starts with none unless given."""
        values: dict[str, object] = {
            "target": target,
            "status": status.value,
            "origin": origin.value if origin else None,
            "version": SegmentRow.version + 1,
            "updated_at": now,
        }
        if dismissed is not None:
            values["dismissed"] = list(dismissed) or None
        elif target != segment.target:
            values["dismissed"] = None
        if reviewed:
            values |= {"previous_source": None, "previous_target": None}
        matched = self.changed(
            update(SegmentRow)
            .where(SegmentRow.id == segment.id, SegmentRow.version == segment.version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if matched != 1:
            raise PreconditionFailed(
                f"segment {segment.key} changed since you loaded it; reload it"
            )
        self.session.add(
            SegmentHistoryRow(
                segment_id=segment.id,
                actor=actor,
                action=action,
                before_target=segment.target,
                after_target=target,
                before_status=segment.status.value,
                after_status=status.value,
                at=now,
                note=note,
            )
        )
        self.session.flush()
        return self.get(segment.article_id, segment.lang, segment.key)

    def missing_text(self, article_id: int, lang: str) -> bool:
        """Whether a segment of the variant has no text yet."""
        query = select(SegmentRow.id).where(
            SegmentRow.article_id == article_id,
            SegmentRow.lang == lang,
            SegmentRow.target.is_(None),
        )
        return self.session.scalar(query.limit(1)) is not None

    def rejected(self, segment_ids: Sequence[int]) -> set[int]:
        """Those of ``segment_ids`` that a reviewer has ever rejected."""
        if not segment_ids:
            return set()
        return set(
            self.session.scalars(
                select(SegmentHistoryRow.segment_id)
                .where(
                    SegmentHistoryRow.segment_id.in_(list(segment_ids)),
                    SegmentHistoryRow.action == "reject",
                )
                .distinct()
            )
        )

    def dismiss(
        self, segment: StoredSegment, codes: tuple[str, ...], actor: str, reason: str, now: datetime
    ) -> StoredSegment:
        """Set QA warnings aside for the segment's current text, with the reason in its
        history; PreconditionFailed when it changed since it was read."""
        matched = self.changed(
            update(SegmentRow)
            .where(SegmentRow.id == segment.id, SegmentRow.version == segment.version)
            .values(dismissed=list(codes) or None, version=SegmentRow.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if matched != 1:
            raise PreconditionFailed(
                f"segment {segment.key} changed since you loaded it; reload it"
            )
        status = segment.status.value
        self.session.add(
            SegmentHistoryRow(
                segment_id=segment.id,
                actor=actor,
                action="dismiss",
                before_target=segment.target,
                after_target=segment.target,
                before_status=status,
                after_status=status,
                at=now,
                note=reason,
            )
        )
        self.session.flush()
        return self.get(segment.article_id, segment.lang, segment.key)

    def last_changed_by(self, article_id: int, lang: str, note: str) -> list[StoredSegment]:
        """Segments of the variant whose latest history entry carries ``note`` (a bulk
        approval's batch): those nobody has changed since."""
        latest = (
            select(func.max(SegmentHistoryRow.id))
            .join(SegmentRow, SegmentRow.id == SegmentHistoryRow.segment_id)
            .where(SegmentRow.article_id == article_id, SegmentRow.lang == lang)
            .group_by(SegmentHistoryRow.segment_id)
        )
        ids = self.session.scalars(
            select(SegmentHistoryRow.segment_id).where(
                SegmentHistoryRow.id.in_(latest), SegmentHistoryRow.note == note
            )
        ).all()
        return [s for s in self.of(article_id, lang) if s.id in set(ids)]

    def history(self, segment_id: int) -> list[HistoryEntry]:
        """One segment's history, newest first; ``histories`` reads many in one query."""
        return self.histories([segment_id])[segment_id]

    def histories(self, segment_ids: Sequence[int]) -> dict[int, list[HistoryEntry]]:
        """Histories of many segments in one query, newest first."""
        found: dict[int, list[HistoryEntry]] = {segment_id: [] for segment_id in segment_ids}
        result = self.session.scalars(
            select(SegmentHistoryRow)
            .where(SegmentHistoryRow.segment_id.in_(list(segment_ids)))
            .order_by(SegmentHistoryRow.id.desc())
        )
        for r in result:
            found[r.segment_id].append(
                HistoryEntry(
                    r.actor,
                    r.action,
                    r.before_target,
                    r.after_target,
                    r.before_status,
                    r.after_status,
                    r.at,
                    r.note,
                )
            )
        return found

    def review_queue(
        self,
        where: QueueFilter,
        *,
        order: str = "oldest",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[QueueItem]:
        """The articles ``where`` selects, with their review counts, one page of them.
        ``order``: oldest | confidence | changed."""
        grouped, columns = self._queue_query(where)
        if order == "confidence":
            keys = [case((columns["lowest"].is_(None), 1), else_=0), columns["lowest"]]
        elif order == "changed":
            keys = [columns["changed"].desc(), columns["oldest"]]
        else:
            keys = [columns["oldest"]]
        query = grouped.order_by(*keys, ArticleRow.id).offset(max(offset, 0))
        if limit is not None:
            query = query.limit(limit)
        return [
            QueueItem(
                row.id,
                row.title,
                row.path,
                row.total,
                int(row.approved or 0),
                int(row.pending or 0),
                row.lowest,
                rows.aware(row.oldest),
                words=int(row.words or 0),
                words_to_review=int(row.to_review or 0),
                changed=int(row.changed or 0),
            )
            for row in self.session.execute(query)
        ]

    def review_queue_totals(self, where: QueueFilter) -> dict[str, int]:
        """What :meth:`review_queue` finds over all its pages, in one query: articles,
        segments, approved segments, words and words still to review."""
        grouped, _ = self._queue_query(where)
        found = grouped.subquery()
        row = self.session.execute(
            select(
                func.count(),
                func.sum(found.c.total),
                func.sum(found.c.approved),
                func.sum(found.c.words),
                func.sum(found.c.to_review),
            ).select_from(found)
        ).one()
        names = ("articles", "segments", "approved", "words", "words_to_review")
        return {name: int(value or 0) for name, value in zip(names, row, strict=True)}

    def _queue_query(self, where: QueueFilter) -> tuple[Select[Any], dict[str, Any]]:
        approved_value = SegmentStatus.APPROVED.value
        to_review = or_(
            SegmentRow.status != approved_value, SegmentRow.previous_source.is_not(None)
        )
        columns: dict[str, Any] = {
            "total": func.count(SegmentRow.id),
            "approved": func.sum(case((SegmentRow.status == approved_value, 1), else_=0)),
            "pending": func.sum(
                case((SegmentRow.status == SegmentStatus.PENDING.value, 1), else_=0)
            ),
            "lowest": func.min(SegmentRow.score),
            "oldest": func.min(SegmentRow.updated_at),
            "words": func.coalesce(func.sum(SegmentRow.words), 0),
            "to_review": func.coalesce(func.sum(case((to_review, SegmentRow.words), else_=0)), 0),
            "changed": func.sum(case((SegmentRow.previous_source.is_not(None), 1), else_=0)),
        }
        query = (
            select(
                ArticleRow.id,
                ArticleRow.title,
                SectionRow.path,
                *(column.label(name) for name, column in columns.items()),
            )
            .join(SegmentRow, SegmentRow.article_id == ArticleRow.id)
            .join(SectionRow, SectionRow.id == ArticleRow.section_id)
            .where(SegmentRow.lang == where.lang, ArticleRow.deleted_at.is_(None))
            .group_by(ArticleRow.id, ArticleRow.title, SectionRow.path)
        )
        if where.section_path:
            query = query.where(
                or_(
                    SectionRow.path == where.section_path,
                    SectionRow.path.startswith(where.section_path + "/", autoescape=True),
                )
            )
        if where.search and where.search.strip():
            text = where.search.strip()
            matching = select(SegmentRow.article_id).where(
                SegmentRow.lang == where.lang,
                or_(
                    SegmentRow.source.icontains(text, autoescape=True),
                    SegmentRow.target.icontains(text, autoescape=True),
                ),
            )
            query = query.where(
                or_(ArticleRow.title.icontains(text, autoescape=True), ArticleRow.id.in_(matching))
            )
        if where.status == "todo":
            query = query.having(
                or_(columns["approved"] < columns["total"], columns["changed"] > 0)
            )
        elif where.status == "done":
            query = query.having(columns["approved"] == columns["total"], columns["changed"] == 0)
        elif where.status == "changed":
            query = query.having(columns["changed"] > 0)
        return query, columns

    def latest_waiting(self, article_ids: Sequence[int], lang: str) -> dict[int, str]:
        """Of these articles, those whose latest job in ``lang`` waits (for a model to be
        installed, or for base text to convert), with the reason the worker recorded."""
        if not article_ids:
            return {}
        latest = (
            select(func.max(JobRow.id))
            .where(JobRow.article_id.in_(list(article_ids)), JobRow.lang == lang)
            .group_by(JobRow.article_id)
        )
        found = self.session.execute(
            select(JobRow.article_id, JobRow.last_error).where(
                JobRow.id.in_(latest), JobRow.status == JobStatus.WAITING.value
            )
        )
        return {article_id: reason or "" for article_id, reason in found}

    def _row(self, article_id: int, lang: str, key: str) -> SegmentRow:
        row = (
            self.session.scalar(
                select(SegmentRow)
                .where(
                    SegmentRow.article_id == article_id,
                    SegmentRow.lang == lang,
                    SegmentRow.key == key,
                )
                .execution_options(populate_existing=True)
            )
            if rows.storable_id(article_id)
            else None
        )
        if row is None:
            raise NotFound(f"no segment {key!r} of article {article_id} in {lang}")
        return row
