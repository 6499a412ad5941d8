"""Feed queries and feed scopes: a change counter per section path, so a rendered feed is
cached under its scope's version and a bump is exactly an invalidation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypedDict

from sqlalchemy import (
    ARRAY,
    Integer,
    case,
    column,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)

from ..config import SOURCE_LANGUAGE
from ..db.tables import (
    ArticleRow,
    FeedEntryCountRow,
    FeedEntryRow,
    FeedScopeRow,
    SectionRow,
    VariantRow,
)
from ..domain import Article, Page, Variant, VariantStatus
from . import rows
from .base import Repository

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


SOURCE = "source"  # the status of a source-language entry
ADVISORY_SPACE = 1_819_240_505  # the first key of feedsvc's article advisory locks
SHOWN = (VariantStatus.MACHINE_TRANSLATED.value, VariantStatus.REVIEWED.value)


class _EntryValues(TypedDict):
    """One feed_entries row to insert: where an article shows, in which language and state."""

    scope: str
    lang: str
    status: str
    published_at: datetime
    article_id: int


def scopes_of(path: str) -> list[str]:
    """The feed scopes an article in section ``path`` appears in: the site ('') and the
    section with each of its ancestors."""
    parts = path.split("/")
    return ["", *("/".join(parts[:n]) for n in range(1, len(parts) + 1))]


@dataclass
class _Deferred:
    """Feed bookkeeping collected by ``Feeds.batched``, applied once at its end."""

    article_ids: set[int] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    now: datetime | None = None


class Feeds(Repository):
    """Keeps the stored feed entries and scope versions in step with articles and variants."""

    _deferred: _Deferred | None = None

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Within: entry refreshes and scope touches are collected and made once at the end,
        in the same transaction (a bulk import: one pass per batch, not per article). A
        refresh reads the rows as they are then, so a line rolled back to its savepoint
        costs nothing but a look."""
        self._deferred = deferred = _Deferred()
        try:
            yield
        finally:
            self._deferred = None
        self.refresh_entries(deferred.article_ids)
        if deferred.now is not None:
            self.touch(deferred.paths, deferred.now)

    def page(
        self,
        section_path: str | None,
        lang: str,
        statuses: Sequence[VariantStatus] | None,
        page: int,
        per_page: int,
    ) -> Page[tuple[Article, Variant | None]]:
        """Published articles of a scope, newest first; with ``statuses`` only those with a
        variant in ``lang`` in one of them (None: the source language, no variant).

        A range of the feed_entries key per status, merged in SQL, and the page's rows by
        id: the cost is the page's, not the store's. The total is a maintained counter."""
        scope = section_path or ""
        keys = [SOURCE] if statuses is None else [status.value for status in statuses]
        total = self.session.scalar(
            select(func.coalesce(func.sum(FeedEntryCountRow.entries), 0)).where(
                FeedEntryCountRow.scope == scope,
                FeedEntryCountRow.lang == lang,
                FeedEntryCountRow.status.in_(keys),
            )
        )
        skip = (page - 1) * per_page
        ranges = [
            select(FeedEntryRow.published_at, FeedEntryRow.article_id)
            .where(
                FeedEntryRow.scope == scope,
                FeedEntryRow.lang == lang,
                FeedEntryRow.status == key,
            )
            .order_by(FeedEntryRow.published_at.desc(), FeedEntryRow.article_id.desc())
            .limit(skip + per_page)
            for key in keys
        ]
        if len(ranges) == 1:
            merged = ranges[0]
        else:  # each range a subquery: SQLite takes no LIMIT inside a compound's members
            members = [select(*r.subquery().c) for r in ranges]
            merged = union_all(*members).subquery().select()
        newest_first = merged.selected_columns
        ids = self.session.scalars(
            merged.with_only_columns(newest_first.article_id)
            .order_by(newest_first.published_at.desc(), newest_first.article_id.desc())
            .limit(per_page)
            .offset(skip)
        ).all()
        articles = self.store.articles.many(ids)
        variants = {}
        if statuses is not None:
            found = self.session.execute(
                select(*VariantRow.__table__.c).where(
                    VariantRow.article_id.in_(ids), VariantRow.lang == lang
                )
            )
            variants = {row.article_id: rows.variant(row) for row in found}
        items = [(articles[i], variants.get(i) if statuses is not None else None) for i in ids]
        return Page(items, page, per_page, total or 0)

    def refresh_entries(self, article_ids: Iterable[int]) -> None:
        """Bring the feed entries of these articles in line with their rows (called by every
        write that publishes, moves, withdraws or deletes), and the counters with them."""
        if self._deferred is not None:
            self._deferred.article_ids.update(article_ids)
            return
        ids = sorted(set(article_ids))
        if not ids:
            return
        if rows.is_postgresql(self.session):
            # One refresh of an article at a time (SQLite serializes writers anyway): two
            # transactions writing the same article (an edit and a translation job, two
            # jobs) would otherwise delete and insert its entries past each other, and
            # the second insert meets the first's rows. Taken in id order, after the
            # write's own row locks, and read-committed reads after it see the other's.
            self.session.execute(
                select(func.pg_advisory_xact_lock(ADVISORY_SPACE, column("id")))
                .select_from(func.unnest(literal(ids, ARRAY(Integer))).alias("id"))
                .order_by(column("id"))
            )
        before = Counter(
            self.session.execute(
                select(FeedEntryRow.scope, FeedEntryRow.lang, FeedEntryRow.status).where(
                    FeedEntryRow.article_id.in_(ids)
                )
            ).all()
        )
        self.session.execute(
            delete(FeedEntryRow)
            .where(FeedEntryRow.article_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        live = self.session.execute(
            select(ArticleRow.id, ArticleRow.published_at, SectionRow.path)
            .join(SectionRow, SectionRow.id == ArticleRow.section_id)
            .where(ArticleRow.id.in_(ids), ArticleRow.deleted_at.is_(None))
        ).all()
        shown: dict[int, list[tuple[str, str]]] = {}
        for article_id, variant_lang, status in self.session.execute(
            select(VariantRow.article_id, VariantRow.lang, VariantRow.status).where(
                VariantRow.article_id.in_(ids), VariantRow.status.in_(SHOWN)
            )
        ):
            shown.setdefault(article_id, []).append((variant_lang, status))
        entries: list[_EntryValues] = [
            {
                "scope": scope,
                "lang": entry_lang,
                "status": status,
                "published_at": published_at,
                "article_id": article_id,
            }
            for article_id, published_at, path in live
            for scope in scopes_of(path)
            for entry_lang, status in [(SOURCE_LANGUAGE, SOURCE), *shown.get(article_id, [])]
        ]
        if entries:
            self.session.execute(insert(FeedEntryRow), entries)
        after = Counter((e["scope"], e["lang"], e["status"]) for e in entries)
        after.subtract(before)
        for (scope, entry_lang, status), delta in sorted(after.items()):  # a fixed lock order
            if delta:
                statement = rows.upsert_insert(self.session, FeedEntryCountRow).values(
                    scope=scope, lang=entry_lang, status=status, entries=delta
                )
                self.session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[
                            FeedEntryCountRow.scope,
                            FeedEntryCountRow.lang,
                            FeedEntryCountRow.status,
                        ],
                        set_={"entries": FeedEntryCountRow.entries + delta},
                    )
                )

    def published_languages(
        self, article_ids: Sequence[int], statuses: Mapping[str, Sequence[VariantStatus]]
    ) -> dict[int, set[str]]:
        """For each article, the target languages it is published in."""
        found: dict[int, set[str]] = {article_id: set() for article_id in article_ids}
        result = self.session.execute(
            select(VariantRow.article_id, VariantRow.lang, VariantRow.status).where(
                VariantRow.article_id.in_(list(article_ids))
            )
        )
        for article_id, lang, status in result:
            if lang in statuses and VariantStatus(status) in statuses[lang]:
                found[article_id].add(lang)
        return found

    def scope(self, path: str) -> tuple[int, datetime]:
        """Version and time of the last change in a section's subtree ('' = everything)."""
        row = self.session.get(FeedScopeRow, path)
        return (row.version, row.changed_at) if row else (0, EPOCH)

    def touch(self, paths: Iterable[str], now: datetime) -> None:
        """Record a change in each of ``paths`` and in every ancestor of them. The change
        time never goes backwards, so neither does a feed's ``updated``."""
        if (deferred := self._deferred) is not None:
            deferred.paths.update(paths)
            deferred.now = max(now, deferred.now) if deferred.now else now
            return
        scopes = {""}
        for path in paths:
            parts = path.split("/")
            scopes.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
        self.session.info.setdefault("touched_scopes", set()).update(scopes)  # feeds/scopes.py
        for scope in sorted(scopes):  # a fixed order: concurrent writers never deadlock
            statement = rows.upsert_insert(self.session, FeedScopeRow).values(
                path=scope, version=1, changed_at=now
            )
            self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=[FeedScopeRow.path],
                    set_={
                        "version": FeedScopeRow.version + 1,
                        "changed_at": case(
                            (
                                FeedScopeRow.changed_at > statement.excluded.changed_at,
                                FeedScopeRow.changed_at,
                            ),
                            else_=statement.excluded.changed_at,
                        ),
                    },
                )
            )
