"""Sitemap queries: which public pages exist in which language, read from the feed entries
(the site scope '' holds one row per live article and language it is published in).

Every query names only the columns a sitemap writes and reads article ids in order by
range (keyset), so a file costs its own rows, never an OFFSET over the ones before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from ..db.tables import ArticleRow, FeedEntryCountRow, FeedEntryRow, VariantRow
from .base import Repository

SITE = ""  # the site scope: every live article, once per language it is published in


@dataclass(frozen=True)
class PageRow:
    """An article page of one language: what its ``<url>`` needs."""

    article_id: int
    slug: str
    lastmod: datetime


@dataclass(frozen=True)
class FileSummary:
    """One numbered sitemap file of a language: how many pages and the newest change."""

    number: int
    pages: int
    lastmod: datetime


@dataclass(frozen=True)
class NewsRow:
    """One article of a Google News sitemap: what its <url> element needs, and no more."""

    article_id: int
    slug: str
    title: str
    published_at: datetime
    lastmod: datetime


def _newest(*moments: datetime | None) -> datetime:
    return max(moment for moment in moments if moment is not None)


class Sitemaps(Repository):
    """Keyset-paged sitemap queries, so a sitemap file costs only its own rows."""

    def _entries(self, lang: str, keys: Sequence[str], source: bool) -> Select[*tuple[Any, ...]]:
        """The published pages of ``lang`` joined to what their lastmod is made of: the
        source text's revision for the source language, else the shared fields' and the
        variant's (as a feed entry's ``updated``)."""
        article_changed = ArticleRow.revised_at if source else ArticleRow.shared_revised_at
        columns = (
            FeedEntryRow.article_id,
            ArticleRow.published_at,
            article_changed,
        )
        query = (
            select(*columns)
            .join(ArticleRow, ArticleRow.id == FeedEntryRow.article_id)
            .where(
                FeedEntryRow.scope == SITE,
                FeedEntryRow.lang == lang,
                FeedEntryRow.status.in_(list(keys)),
            )
        )
        if not source:
            query = query.outerjoin(
                VariantRow,
                (VariantRow.article_id == FeedEntryRow.article_id) & (VariantRow.lang == lang),
            ).add_columns(VariantRow.revised_at)
        return query

    def files(
        self, lang: str, keys: Sequence[str], source: bool, per_file: int
    ) -> list[FileSummary]:
        """The non-empty numbered files of ``lang``: file n holds the article ids from
        (n-1)·per_file+1 to n·per_file, so an article never moves to another file and a
        deletion changes one file only. One grouped query."""
        query = self._entries(lang, keys, source)
        bucket = ((FeedEntryRow.article_id - 1) // per_file).label("bucket")
        maxima = [func.max(c) for c in list(query.selected_columns)[1:]]
        grouped = (
            query.with_only_columns(bucket, func.count(), *maxima, maintain_column_froms=True)
            .group_by(bucket)
            .order_by(bucket)
        )
        return [
            FileSummary(number + 1, pages, _newest(*moments))
            for number, pages, *moments in self.session.execute(grouped)
        ]

    def pages(
        self,
        lang: str,
        keys: Sequence[str],
        source: bool,
        after_id: int,
        up_to_id: int,
        limit: int,
    ) -> list[PageRow]:
        """Up to ``limit`` article pages of ``lang`` with ids in (after_id, up_to_id], in id
        order: call again with the last id seen for the next chunk."""
        query = self._entries(lang, keys, source)
        chunk = (
            query.add_columns(ArticleRow.slug)
            .where(FeedEntryRow.article_id > after_id, FeedEntryRow.article_id <= up_to_id)
            .order_by(FeedEntryRow.article_id)
            .limit(limit)
        )
        rows = self.session.execute(chunk)
        return [PageRow(row[0], row[-1], _newest(*row[1:-1])) for row in rows]

    def languages(self, first_id: int, last_id: int) -> dict[int, list[tuple[str, str]]]:
        """(language, status) of every feed entry of the articles first_id..last_id: the
        caller keeps those its languages' policies show."""
        found: dict[int, list[tuple[str, str]]] = {}
        for article_id, lang, status in self.session.execute(
            select(FeedEntryRow.article_id, FeedEntryRow.lang, FeedEntryRow.status).where(
                FeedEntryRow.scope == SITE,
                FeedEntryRow.article_id >= first_id,
                FeedEntryRow.article_id <= last_id,
            )
        ):
            found.setdefault(article_id, []).append((lang, status))
        return found

    def scope_entries(self) -> list[tuple[str, str, str]]:
        """(scope, language, status) of every section scope that has entries: which
        section pages list something in which language. The maintained counters, no scan."""
        return [
            (scope, lang, status)
            for scope, lang, status in self.session.execute(
                select(FeedEntryCountRow.scope, FeedEntryCountRow.lang, FeedEntryCountRow.status)
                .where(FeedEntryCountRow.entries > 0, FeedEntryCountRow.scope != SITE)
                .order_by(FeedEntryCountRow.scope)
            )
        ]

    def news(
        self,
        lang: str,
        keys: Sequence[str],
        source: bool,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> list[NewsRow]:
        """The newest ``limit`` articles of ``lang`` published in [since, until], with their
        title in ``lang``: a range of the feed entries' (scope, lang, status, published_at)
        key."""
        query = self._entries(lang, keys, source)
        title = ArticleRow.title if source else func.coalesce(VariantRow.title, ArticleRow.title)
        recent = (
            query.add_columns(ArticleRow.slug, title)
            .where(FeedEntryRow.published_at >= since, FeedEntryRow.published_at <= until)
            .order_by(FeedEntryRow.published_at.desc(), FeedEntryRow.article_id.desc())
            .limit(limit)
        )
        return [
            NewsRow(row[0], row[-2], row[-1], row[1], _newest(*row[1:-2]))
            for row in self.session.execute(recent)
        ]
