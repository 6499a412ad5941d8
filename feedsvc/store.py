"""Every query. Takes a Session, returns domain objects, raises NotFound."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .db.tables import (
    ApiTokenRow,
    ArticleRow,
    FeedScopeRow,
    GlossaryRow,
    JobRow,
    MemoryRow,
    SectionAliasRow,
    SectionNameRow,
    SectionRow,
    SegmentHistoryRow,
    SegmentRow,
    VariantRow,
)
from .domain import (
    ApiToken,
    Article,
    Conflict,
    GlossaryTerm,
    HistoryEntry,
    Job,
    JobStatus,
    NotFound,
    Page,
    QueueItem,
    Role,
    Section,
    SegmentOrigin,
    SegmentState,
    SegmentStatus,
    Variant,
    VariantOrigin,
    VariantStatus,
)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
T = TypeVar("T")

MAX_ID = 2**31 - 1


def token_digest(secret: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ArticleFilter:
    section_path: str | None = None  # the section and its subsections
    since: datetime | None = None  # changed (updated or deleted) at or after
    include_deleted: bool = False


class Store:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._sections: dict[str, SectionRow] = {}  # path → row, for this unit of work

    # -- sections ---------------------------------------------------------

    def sections(self) -> list[Section]:
        rows = self.session.scalars(select(SectionRow).order_by(SectionRow.path))
        return [_section(row) for row in rows]

    def section(self, path: str) -> Section:
        return _section(self._section_row(path))

    def section_exists(self, path: str) -> bool:
        try:
            self._section_row(path)
        except NotFound:
            return False
        return True

    def section_alias(self, old_path: str) -> str | None:
        """The current path of a section that used to live at ``old_path``."""
        query = (
            select(SectionRow.path)
            .join(SectionAliasRow, SectionAliasRow.section_id == SectionRow.id)
            .where(SectionAliasRow.path == old_path)
        )
        return self.session.scalar(query)

    def add_section(self, path: str, names: dict[str, str], now: datetime) -> Section:
        parent_path, _, _ = path.rpartition("/")
        parent = self._section_row(parent_path) if parent_path else None
        row = SectionRow(
            path=path,
            parent_id=parent.id if parent else None,
            created_at=now,
            updated_at=now,
            names=[SectionNameRow(lang=lang, name=name) for lang, name in names.items()],
        )
        self.session.add(row)
        self.session.flush()
        self.session.execute(delete(SectionAliasRow).where(SectionAliasRow.path == path))
        self.touch_scopes([path], now)
        return _section(row)

    def rename_section(self, path: str, names: dict[str, str], now: datetime) -> Section:
        row = self._section_row(path)
        existing = {name.lang: name for name in row.names}
        for lang, name in names.items():
            if lang in existing:
                existing[lang].name = name
            else:
                row.names.append(SectionNameRow(lang=lang, name=name))
        row.updated_at = now
        self.session.flush()
        self._touch_subtree(path, now)
        return _section(row)

    def move_section(self, path: str, new_path: str, now: datetime) -> Section:
        """Give a section (and its subtree) a new path; old paths become aliases."""
        row = self._section_row(path)
        parent_path, _, _ = new_path.rpartition("/")
        parent = self._section_row(parent_path) if parent_path else None
        subtree = self.session.scalars(
            select(SectionRow).where(
                or_(
                    SectionRow.id == row.id, SectionRow.path.startswith(path + "/", autoescape=True)
                )
            )
        ).all()
        old_paths = {member.id: member.path for member in subtree}
        self._sections.clear()
        # Two steps so the unique index on path never sees a transient clash.
        for member in subtree:
            member.path = f"\x1fmoving\x1f{member.id}"
        self.session.flush()
        new_paths = [new_path + old_paths[m.id][len(path) :] for m in subtree]
        self.session.execute(delete(SectionAliasRow).where(SectionAliasRow.path.in_(new_paths)))
        for member, member_path in zip(subtree, new_paths, strict=True):
            member.path = member_path
            self.session.add(
                SectionAliasRow(path=old_paths[member.id], section_id=member.id, created_at=now)
            )
        row.parent_id = parent.id if parent else None
        row.updated_at = now
        self.session.flush()
        self.touch_scopes([*old_paths.values(), *new_paths], now)
        return _section(row)

    def _section_row(self, path: str) -> SectionRow:
        row = self._sections.get(path)
        if row is None:
            row = self.session.scalar(select(SectionRow).where(SectionRow.path == path))
            if row is None:
                raise NotFound(f"no section at path {path!r}")
            self._sections[path] = row
        return row

    # -- articles ---------------------------------------------------------

    def article(self, article_id: int) -> Article:
        return _article(self._article_row(article_id))

    def article_by_external_id(self, external_id: str) -> Article | None:
        row = self.session.scalar(select(ArticleRow).where(ArticleRow.external_id == external_id))
        return _article(row) if row else None

    def articles_by_external_id(self, external_ids: Iterable[str]) -> dict[str, Article]:
        ids = list(set(external_ids))
        rows = self.session.scalars(select(ArticleRow).where(ArticleRow.external_id.in_(ids)))
        return {row.external_id: _article(row) for row in rows}

    def slug_taken(self, slug: str, except_id: int | None = None) -> bool:
        query = select(ArticleRow.id).where(ArticleRow.slug == slug)
        if except_id is not None:
            query = query.where(ArticleRow.id != except_id)
        return self.session.scalar(query) is not None

    def slugs_starting_with(self, prefix: str) -> set[str]:
        # A range, not LIKE: it uses the unique index on slug (slugs are ASCII).
        query = select(ArticleRow.slug).where(
            ArticleRow.slug >= prefix, ArticleRow.slug < prefix + "\x7f"
        )
        return set(self.session.scalars(query))

    def articles(self, where: ArticleFilter, page: int, per_page: int) -> Page[Article]:
        query = self._filtered(select(ArticleRow), where)
        total = self.session.scalar(self._filtered(select(func.count(ArticleRow.id)), where)) or 0
        order = (
            (ArticleRow.updated_at, ArticleRow.id)
            if where.since
            else (ArticleRow.published_at.desc(), ArticleRow.id.desc())
        )
        rows = self.session.scalars(
            query.order_by(*order).limit(per_page).offset((page - 1) * per_page)
        )
        return Page([_article(row) for row in rows], page, per_page, total)

    def all_articles(self, batch: int = 500) -> Iterator[Article]:
        """Every article including tombstones, oldest first, streamed in batches."""
        last_id = 0
        while True:
            rows = self.session.scalars(
                select(ArticleRow)
                .where(ArticleRow.id > last_id)
                .order_by(ArticleRow.id)
                .limit(batch)
            ).all()
            if not rows:
                return
            yield from (_article(row) for row in rows)
            last_id = rows[-1].id

    def _filtered(self, query: Select[Any], where: ArticleFilter) -> Select[Any]:
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

    def add_article(
        self, external_id: str, section_path: str, fields: dict[str, Any], now: datetime
    ) -> Article:
        row = ArticleRow(
            external_id=external_id,
            section=self._section_row(section_path),
            revision=1,
            created_at=now,
            updated_at=now,
            **fields,
        )
        self.session.add(row)
        self.session.flush()
        self.touch_scopes([section_path], now)
        return _article(row)

    def update_article(
        self, article_id: int, section_path: str, fields: dict[str, Any], now: datetime
    ) -> Article:
        """Store new field values as a new revision (also revives a tombstone)."""
        row = self._article_row(article_id)
        self.touch_scopes([row.section.path, section_path], now)
        row.section = self._section_row(section_path)
        for name, value in fields.items():
            setattr(row, name, value)
        row.revision += 1
        row.updated_at = now
        row.deleted_at = None
        self.session.flush()
        return _article(row)

    def delete_article(self, article_id: int, now: datetime) -> Article:
        """Soft delete: the row stays as a tombstone so sync clients see the deletion."""
        row = self._article_row(article_id)
        self.touch_scopes([row.section.path], now)
        row.deleted_at = now
        row.updated_at = now
        row.revision += 1
        self.session.flush()
        return _article(row)

    def _article_row(self, article_id: int) -> ArticleRow:
        row = self.session.get(ArticleRow, article_id) if _storable_id(article_id) else None
        if row is None:
            raise NotFound(f"no article with id {article_id}")
        return row

    # -- variants ---------------------------------------------------------

    def variants_of(self, article_ids: Sequence[int]) -> dict[int, list[Variant]]:
        found: dict[int, list[Variant]] = {article_id: [] for article_id in article_ids}
        rows = self.session.scalars(
            select(VariantRow)
            .where(VariantRow.article_id.in_(list(article_ids)))
            .order_by(VariantRow.lang)
        )
        for row in rows:
            found[row.article_id].append(_variant(row))
        return found

    def save_variant(self, variant: Variant) -> Variant:
        """Insert or replace the variant of (article, lang). Its updated time (and the feeds
        that show it) move only when what readers see changes: text, status or origin."""
        row = self.session.scalar(
            select(VariantRow).where(
                VariantRow.article_id == variant.article_id, VariantRow.lang == variant.lang
            )
        )
        visible = {
            "title": variant.title,
            "summary": variant.summary,
            "body_html": variant.body_html,
            "origin": variant.origin.value,
            "status": variant.status.value,
        }
        bookkeeping = {"source_revision": variant.source_revision, "engine": variant.engine}
        if row is None:
            row = VariantRow(
                article_id=variant.article_id,
                lang=variant.lang,
                created_at=variant.updated_at,
                updated_at=variant.updated_at,
                **visible,
                **bookkeeping,
            )
            self.session.add(row)
            changed = True
        else:
            changed = any(getattr(row, name) != value for name, value in visible.items())
            for name, value in (visible | bookkeeping).items():
                setattr(row, name, value)
            if changed:
                row.updated_at = variant.updated_at
        self.session.flush()
        if changed:
            article = self._article_row(variant.article_id)
            self.touch_scopes([article.section.path], variant.updated_at)
        return _variant(row)

    # -- feeds ------------------------------------------------------------

    def feed_page(
        self,
        section_path: str | None,
        lang: str,
        statuses: Sequence[VariantStatus] | None,
        page: int,
        per_page: int,
    ) -> Page[tuple[Article, Variant | None]]:
        """Published articles of a scope, newest first; with ``statuses`` only those with a
        variant in ``lang`` in one of them (None: the source language, no variant)."""
        where = ArticleFilter(section_path)
        query = self._filtered(select(ArticleRow), where)
        count = self._filtered(select(func.count(ArticleRow.id)), where)
        if statuses is not None:
            published = (
                (VariantRow.article_id == ArticleRow.id)
                & (VariantRow.lang == lang)
                & (VariantRow.status.in_([s.value for s in statuses]))
            )
            query = query.join(VariantRow, published).add_columns(VariantRow)
            count = count.join(VariantRow, published)
        total = self.session.scalar(count) or 0
        rows = self.session.execute(
            query.order_by(ArticleRow.published_at.desc(), ArticleRow.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        items = [
            (_article(row[0]), _variant(row[1]) if statuses is not None else None) for row in rows
        ]
        return Page(items, page, per_page, total)

    def published_languages(
        self, article_ids: Sequence[int], statuses: dict[str, Sequence[VariantStatus]]
    ) -> dict[int, set[str]]:
        """For each article, the target languages it is published in."""
        found: dict[int, set[str]] = {article_id: set() for article_id in article_ids}
        rows = self.session.execute(
            select(VariantRow.article_id, VariantRow.lang, VariantRow.status).where(
                VariantRow.article_id.in_(list(article_ids))
            )
        )
        for article_id, lang, status in rows:
            if lang in statuses and VariantStatus(status) in statuses[lang]:
                found[article_id].add(lang)
        return found

    def scope(self, path: str) -> tuple[int, datetime]:
        """Version and time of the last change in a section's subtree ('' = everything)."""
        row = self.session.get(FeedScopeRow, path)
        return (row.version, row.changed_at) if row else (0, EPOCH)

    def touch_scopes(self, paths: Iterable[str], now: datetime) -> None:
        """Record a change in each of ``paths`` and in every ancestor of them."""
        scopes = {""}
        for path in paths:
            parts = path.split("/")
            scopes.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        for scope in sorted(scopes):  # a fixed order: concurrent writers never deadlock
            statement = insert(FeedScopeRow).values(path=scope, version=1, changed_at=now)
            self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=[FeedScopeRow.path],
                    set_={"version": FeedScopeRow.version + 1, "changed_at": now},
                )
            )

    def _touch_subtree(self, path: str, now: datetime) -> None:
        """A section's own text changed: every feed below it and above it shows it."""
        below = self.session.scalars(
            select(SectionRow.path).where(SectionRow.path.startswith(path + "/", autoescape=True))
        ).all()
        self.touch_scopes([path, *below], now)

    def variant(self, article_id: int, lang: str) -> Variant | None:
        row = self.session.scalar(
            select(VariantRow).where(VariantRow.article_id == article_id, VariantRow.lang == lang)
        )
        return _variant(row) if row else None

    # -- segments ---------------------------------------------------------

    def segments(self, article_id: int, lang: str) -> list[SegmentState]:
        rows = self.session.scalars(
            select(SegmentRow)
            .where(SegmentRow.article_id == article_id, SegmentRow.lang == lang)
            .order_by(SegmentRow.position)
        )
        return [_segment(row) for row in rows]

    def replace_segments(
        self, article_id: int, lang: str, segments: Sequence[SegmentState], now: datetime
    ) -> None:
        """Store the article's segment list: rows are updated by key, added, or removed."""
        rows = {
            row.key: row
            for row in self.session.scalars(
                select(SegmentRow).where(
                    SegmentRow.article_id == article_id, SegmentRow.lang == lang
                )
            )
        }
        wanted = {segment.key for segment in segments}
        for key, row in rows.items():
            if key not in wanted:
                self.session.delete(row)
        self.session.flush()
        for segment in segments:
            values = _segment_values(segment)
            row = rows.get(segment.key)
            if row is None:
                self.session.add(
                    SegmentRow(
                        article_id=article_id, lang=lang, key=segment.key, updated_at=now, **values
                    )
                )
            elif any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = now
        self.session.flush()

    def record_machine_targets(
        self, article_id: int, lang: str, results: dict[str, tuple[str, float, str]], now: datetime
    ) -> None:
        """Model output for some segments (key → text, score, engine), stored at once."""
        rows = self.session.scalars(
            select(SegmentRow).where(
                SegmentRow.article_id == article_id,
                SegmentRow.lang == lang,
                SegmentRow.key.in_(list(results)),
            )
        )
        for row in rows:
            text, score, engine = results[row.key]
            row.target = row.machine_target = text
            row.score, row.engine = score, engine
            row.origin = SegmentOrigin.MODEL.value
            row.status = SegmentStatus.TRANSLATED.value
            row.model_runs += 1
            row.updated_at = now
        self.session.flush()

    def segment(self, article_id: int, lang: str, key: str) -> SegmentState:
        return _segment(self._segment_row(article_id, lang, key))

    def _segment_row(self, article_id: int, lang: str, key: str) -> SegmentRow:
        row = (
            self.session.scalar(
                select(SegmentRow).where(
                    SegmentRow.article_id == article_id,
                    SegmentRow.lang == lang,
                    SegmentRow.key == key,
                )
            )
            if _storable_id(article_id)
            else None
        )
        if row is None:
            raise NotFound(f"no segment {key!r} of article {article_id} in {lang}")
        return row

    def change_segment(
        self,
        article_id: int,
        lang: str,
        key: str,
        target: str | None,
        status: SegmentStatus,
        origin: SegmentOrigin | None,
        actor: str,
        action: str,
        now: datetime,
    ) -> SegmentState:
        """A person's change to one segment, recorded in its history."""
        row = self._segment_row(article_id, lang, key)
        self.session.add(
            SegmentHistoryRow(
                segment_id=row.id,
                actor=actor,
                action=action,
                before_target=row.target,
                after_target=target,
                before_status=row.status,
                after_status=status.value,
                at=now,
            )
        )
        row.target, row.status = target, status.value
        row.origin = origin.value if origin else None
        row.updated_at = now
        self.session.flush()
        return _segment(row)

    def segment_history(self, segment_id: int) -> list[HistoryEntry]:
        rows = self.session.scalars(
            select(SegmentHistoryRow)
            .where(SegmentHistoryRow.segment_id == segment_id)
            .order_by(SegmentHistoryRow.id.desc())
        )
        return [
            HistoryEntry(
                r.actor,
                r.action,
                r.before_target,
                r.after_target,
                r.before_status,
                r.after_status,
                r.at,
            )
            for r in rows
        ]

    def review_queue(self, lang: str, section_path: str | None = None) -> list[QueueItem]:
        """Articles with segments in ``lang``, with their review counts."""
        approved = func.sum(case((SegmentRow.status == SegmentStatus.APPROVED.value, 1), else_=0))
        pending = func.sum(case((SegmentRow.status == SegmentStatus.PENDING.value, 1), else_=0))
        query = (
            select(
                ArticleRow.id,
                ArticleRow.title,
                SectionRow.path,
                func.count(SegmentRow.id),
                approved,
                pending,
                func.min(SegmentRow.score),
                func.min(SegmentRow.updated_at),
            )
            .join(SegmentRow, SegmentRow.article_id == ArticleRow.id)
            .join(SectionRow, SectionRow.id == ArticleRow.section_id)
            .where(SegmentRow.lang == lang, ArticleRow.deleted_at.is_(None))
            .group_by(ArticleRow.id, ArticleRow.title, SectionRow.path)
        )
        if section_path:
            query = query.where(
                or_(
                    SectionRow.path == section_path,
                    SectionRow.path.startswith(section_path + "/", autoescape=True),
                )
            )
        return [
            QueueItem(
                row[0],
                row[1],
                row[2],
                row[3],
                int(row[4] or 0),
                int(row[5] or 0),
                row[6],
                _aware(row[7]),
            )
            for row in self.session.execute(query)
        ]

    def memory_candidates(
        self, source_lang: str, target_lang: str, length: int, limit: int = 500
    ) -> list[tuple[str, str]]:
        """(source, target) pairs of similar length, for fuzzy suggestions."""
        rows = self.session.execute(
            select(MemoryRow.source, MemoryRow.target)
            .where(
                MemoryRow.source_lang == source_lang,
                MemoryRow.target_lang == target_lang,
                func.length(MemoryRow.source).between(int(length * 0.6), int(length * 1.6)),
            )
            .order_by(MemoryRow.updated_at.desc())
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    # -- translation memory -------------------------------------------------

    def memory_matches(
        self, source_lang: str, target_lang: str, hashes: Iterable[str]
    ) -> dict[str, str]:
        """Approved targets by normalized-source hash; each hit is counted as a use."""
        wanted = list(set(hashes))
        if not wanted:
            return {}
        rows = self.session.scalars(
            select(MemoryRow).where(
                MemoryRow.source_lang == source_lang,
                MemoryRow.target_lang == target_lang,
                MemoryRow.source_hash.in_(wanted),
            )
        ).all()
        for row in rows:
            row.uses += 1
        return {row.source_hash: row.target for row in rows}

    def remember(
        self,
        source_lang: str,
        target_lang: str,
        source_hash: str,
        source: str,
        target: str,
        now: datetime,
    ) -> None:
        row = self.session.scalar(
            select(MemoryRow).where(
                MemoryRow.source_lang == source_lang,
                MemoryRow.target_lang == target_lang,
                MemoryRow.source_hash == source_hash,
            )
        )
        if row is None:
            self.session.add(
                MemoryRow(
                    source_lang=source_lang,
                    target_lang=target_lang,
                    source_hash=source_hash,
                    source=source,
                    target=target,
                    uses=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        elif row.target != target:
            row.target, row.updated_at = target, now
        self.session.flush()

    def memory_size(self, source_lang: str, target_lang: str) -> int:
        return (
            self.session.scalar(
                select(func.count(MemoryRow.id)).where(
                    MemoryRow.source_lang == source_lang, MemoryRow.target_lang == target_lang
                )
            )
            or 0
        )

    # -- glossary -----------------------------------------------------------

    def glossary(self, source_lang: str, target_lang: str) -> list[GlossaryTerm]:
        rows = self.session.scalars(
            select(GlossaryRow)
            .where(GlossaryRow.source_lang == source_lang, GlossaryRow.target_lang == target_lang)
            .order_by(GlossaryRow.source_key)
        )
        return [_term(row) for row in rows]

    def glossary_term(self, term_id: int) -> GlossaryTerm:
        return _term(self._term_row(term_id))

    def add_glossary_term(
        self,
        source_lang: str,
        target_lang: str,
        source_term: str,
        target_term: str,
        do_not_translate: bool,
        now: datetime,
    ) -> GlossaryTerm:
        key = source_term.casefold()
        exists = self.session.scalar(
            select(GlossaryRow.id).where(
                GlossaryRow.source_lang == source_lang,
                GlossaryRow.target_lang == target_lang,
                GlossaryRow.source_key == key,
            )
        )
        if exists is not None:
            raise Conflict(f"the glossary already has {source_term!r} (id {exists})")
        row = GlossaryRow(
            source_lang=source_lang,
            target_lang=target_lang,
            source_term=source_term,
            source_key=key,
            target_term=target_term,
            do_not_translate=do_not_translate,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return _term(row)

    def update_glossary_term(
        self,
        term_id: int,
        source_term: str,
        target_term: str,
        do_not_translate: bool,
        now: datetime,
    ) -> GlossaryTerm:
        row = self._term_row(term_id)
        key = source_term.casefold()
        clash = self.session.scalar(
            select(GlossaryRow.id).where(
                GlossaryRow.source_lang == row.source_lang,
                GlossaryRow.target_lang == row.target_lang,
                GlossaryRow.source_key == key,
                GlossaryRow.id != row.id,
            )
        )
        if clash is not None:
            raise Conflict(f"the glossary already has {source_term!r} (id {clash})")
        row.source_term, row.source_key, row.target_term = source_term, key, target_term
        row.do_not_translate, row.updated_at = do_not_translate, now
        self.session.flush()
        return _term(row)

    def delete_glossary_term(self, term_id: int) -> None:
        self.session.delete(self._term_row(term_id))
        self.session.flush()

    def _term_row(self, term_id: int) -> GlossaryRow:
        row = self.session.get(GlossaryRow, term_id) if _storable_id(term_id) else None
        if row is None:
            raise NotFound(f"no glossary term with id {term_id}")
        return row

    # -- jobs ---------------------------------------------------------------

    def enqueue_job(self, article_id: int, lang: str, revision: int, now: datetime) -> int | None:
        """A job for this (article revision, language) unless one exists; its id, or None."""
        exists = self.session.scalar(
            select(JobRow.id).where(
                JobRow.article_id == article_id, JobRow.lang == lang, JobRow.revision == revision
            )
        )
        if exists is not None:
            return None
        row = JobRow(
            article_id=article_id,
            lang=lang,
            revision=revision,
            status=JobStatus.QUEUED.value,
            attempts=0,
            run_after=now,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def job(self, job_id: int) -> Job:
        row = self.session.get(JobRow, job_id) if _storable_id(job_id) else None
        if row is None:
            raise NotFound(f"no job with id {job_id}")
        return _job(row)

    def latest_job(self, article_id: int, lang: str) -> Job | None:
        row = self.session.scalar(
            select(JobRow)
            .where(JobRow.article_id == article_id, JobRow.lang == lang)
            .order_by(JobRow.id.desc())
            .limit(1)
        )
        return _job(row) if row else None

    def jobs(self, status: JobStatus | None = None) -> list[Job]:
        query = select(JobRow).order_by(JobRow.id)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        return [_job(row) for row in self.session.scalars(query)]

    def claim_job(self, now: datetime, lease: timedelta, job_id: int | None = None) -> Job | None:
        """Take the next runnable job (or ``job_id``) for ``lease``; a worker that dies
        loses its jobs back to the queue when their lease runs out."""
        self.session.execute(
            update(JobRow)
            .where(JobRow.status == JobStatus.RUNNING.value, JobRow.lease_until < now)
            .values(status=JobStatus.QUEUED.value, run_after=now)
        )
        query = select(JobRow).where(
            JobRow.status == JobStatus.QUEUED.value, JobRow.run_after <= now
        )
        if job_id is not None:
            query = query.where(JobRow.id == job_id)
        query = query.order_by(JobRow.run_after, JobRow.id).limit(1)
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = self.session.scalar(query)
        if row is None:
            return None
        row.status = JobStatus.RUNNING.value
        row.attempts += 1
        row.lease_until = now + lease
        row.started_at = now
        self.session.flush()
        return _job(row)

    def extend_lease(self, job_id: int, until: datetime) -> None:
        self.session.execute(update(JobRow).where(JobRow.id == job_id).values(lease_until=until))

    def finish_job(
        self,
        job_id: int,
        status: JobStatus,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status.value, "last_error": error, "lease_until": None}
        if status in (JobStatus.DONE, JobStatus.FAILED):
            values["finished_at"] = now
        if retry_at is not None:
            values["run_after"] = retry_at
        self.session.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

    def wake_waiting_jobs(self, lang: str | None, now: datetime) -> list[int]:
        """Jobs waiting for a model go back to the queue (after a package install)."""
        query = select(JobRow.id).where(JobRow.status == JobStatus.WAITING.value)
        if lang is not None:
            query = query.where(JobRow.lang == lang)
        ids = list(self.session.scalars(query))
        if ids:
            self.session.execute(
                update(JobRow)
                .where(JobRow.id.in_(ids))
                .values(status=JobStatus.QUEUED.value, run_after=now)
            )
        return ids

    # -- tokens -----------------------------------------------------------

    def add_token(
        self, name: str, secret: str, role: Role, languages: Sequence[str], now: datetime
    ) -> ApiToken:
        row = ApiTokenRow(
            name=name,
            token_hash=token_digest(secret),
            prefix=secret[:12],
            role=role.value,
            languages=list(languages),
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return _token(row)

    def token_by_secret(self, secret: str) -> ApiToken | None:
        row = self.session.scalar(
            select(ApiTokenRow).where(ApiTokenRow.token_hash == token_digest(secret))
        )
        return _token(row) if row else None

    def touch_token(self, token_id: int, now: datetime) -> None:
        self.session.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now)
        )

    def tokens(self) -> list[ApiToken]:
        return [
            _token(row)
            for row in self.session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))
        ]

    def token(self, token_id: int) -> ApiToken | None:
        row = self.session.get(ApiTokenRow, token_id) if _storable_id(token_id) else None
        return _token(row) if row else None

    def revoke_token(self, token_id: int, now: datetime) -> ApiToken:
        row = self.session.get(ApiTokenRow, token_id) if _storable_id(token_id) else None
        if row is None:
            raise NotFound(f"no token with id {token_id}")
        if row.revoked_at is None:
            row.revoked_at = now
        self.session.flush()
        return _token(row)


def _aware(value: datetime | str) -> datetime:
    """Aggregates bypass the column type on SQLite; give them back their UTC zone."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _storable_id(value: int) -> bool:
    """Ids beyond a 32-bit column can't exist; asking PostgreSQL would be an error."""
    return 0 < value <= MAX_ID


def _section(row: SectionRow) -> Section:
    parent_path, _, _ = row.path.rpartition("/")
    return Section(
        id=row.id,
        path=row.path,
        parent_path=parent_path or None,
        names={name.lang: name.name for name in row.names},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _segment_values(segment: SegmentState) -> dict[str, Any]:
    return {
        "position": segment.position,
        "source": segment.source,
        "source_hash": segment.source_hash,
        "placeholders": dict(segment.placeholders),
        "target": segment.target,
        "machine_target": segment.machine_target,
        "origin": segment.origin.value if segment.origin else None,
        "status": segment.status.value,
        "score": segment.score,
        "engine": segment.engine,
        "model_runs": segment.model_runs,
    }


def _copy(kind: type[T], row: Any, **converted: Any) -> T:
    """A domain object from a row whose columns share its field names; ``converted``
    gives the fields that need more than a copy."""
    names = (f.name for f in dataclass_fields(kind))  # type: ignore[arg-type]
    return kind(
        **{name: getattr(row, name) for name in names if name not in converted}, **converted
    )


def _article(row: ArticleRow) -> Article:
    return _copy(Article, row, section_path=row.section.path, tags=tuple(row.tags or ()))


def _variant(row: VariantRow) -> Variant:
    return _copy(Variant, row, origin=VariantOrigin(row.origin), status=VariantStatus(row.status))


def _segment(row: SegmentRow) -> SegmentState:
    return _copy(
        SegmentState,
        row,
        placeholders=dict(row.placeholders or {}),
        origin=SegmentOrigin(row.origin) if row.origin else None,
        status=SegmentStatus(row.status),
    )


def _job(row: JobRow) -> Job:
    return _copy(Job, row, status=JobStatus(row.status))


def _term(row: GlossaryRow) -> GlossaryTerm:
    return _copy(GlossaryTerm, row)


def _token(row: ApiTokenRow) -> ApiToken:
    return _copy(ApiToken, row, role=Role(row.role), languages=tuple(row.languages or ()))
