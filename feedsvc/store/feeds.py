"""Feed queries and feed scopes: a change counter per section path, so a rendered feed is
cached under its scope's version and a bump is exactly an invalidation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import case, func, select

from ..db.tables import ArticleRow, FeedScopeRow, VariantRow
from ..domain import Article, Page, Variant, VariantStatus
from . import rows
from .articles import ArticleFilter, filtered
from .base import Repository

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class Feeds(Repository):
    def page(
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
        query = filtered(select(ArticleRow), where)
        count = filtered(select(func.count(ArticleRow.id)), where)
        if statuses is not None:
            published = (
                (VariantRow.article_id == ArticleRow.id)
                & (VariantRow.lang == lang)
                & (VariantRow.status.in_([s.value for s in statuses]))
            )
            query = query.join(VariantRow, published).add_columns(VariantRow)
            count = count.join(VariantRow, published)
        total = self.session.scalar(count) or 0
        found = self.session.execute(
            query.order_by(ArticleRow.published_at.desc(), ArticleRow.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        items = [
            (rows.article(row[0]), rows.variant(row[1]) if statuses is not None else None)
            for row in found
        ]
        return Page(items, page, per_page, total)

    def published_languages(
        self, article_ids: Sequence[int], statuses: dict[str, Sequence[VariantStatus]]
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
        scopes = {""}
        for path in paths:
            parts = path.split("/")
            scopes.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
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
