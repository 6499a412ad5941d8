"""Bulk JSONL import and export of articles: idempotent by external_id, line by line."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from .articles import Editor
from .db import Database
from .domain import Article, DomainError, FieldError, Invalid
from .schemas import ArticleIn, parse_document
from .store import Store

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


def _parse_line(text: str) -> ArticleIn:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(
            [FieldError("/", f"not valid JSON ({exc.msg} at column {exc.colno})")]
        ) from exc
    doc: ArticleIn = parse_document(ArticleIn, data)
    if not doc.external_id:
        raise Invalid(
            [FieldError("/external_id", "is required for import (it makes re-imports idempotent)")]
        )
    return doc


def _numbered(lines: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            batch.append((number, line))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def import_articles(
    database: Database,
    lines: Iterable[str],
    targets: Sequence[str] = (),
    dispatch: Callable[[Iterable[int]], None] = lambda ids: None,
) -> ImportReport:
    """Upsert each line; a bad line is reported and skipped, never aborts the rest.
    Translation jobs into ``targets`` are queued, and dispatched after each batch commits."""
    report = ImportReport()
    for batch in _numbered(lines):
        with database.session() as session:
            store = Store(session)
            editor = Editor(store, targets)
            queued: list[int] = []
            parsed: list[tuple[int, ArticleIn | DomainError]] = []
            for number, line in batch:
                try:
                    parsed.append((number, _parse_line(line)))
                except DomainError as exc:
                    parsed.append((number, exc))
            existing = store.articles_by_external_id(
                doc.external_id
                for _, doc in parsed
                if isinstance(doc, ArticleIn) and doc.external_id
            )
            for number, doc in parsed:
                try:
                    if isinstance(doc, DomainError):
                        raise doc
                    with session.begin_nested():
                        saved = editor.upsert(doc, existing.get(doc.external_id or ""))
                except (DomainError, SQLAlchemyError) as exc:
                    report.rejected.append((number, _reason(exc)))
                    continue
                queued += saved.jobs
                if saved.created:
                    report.created += 1
                elif saved.changed:
                    report.updated += 1
                else:
                    report.unchanged += 1
        dispatch(queued)
        log.info("import batch done lines=%d total=%d", len(batch), report.total)
    return report


def _reason(exc: Exception) -> str:
    if isinstance(exc, SQLAlchemyError):
        return f"storage refused the article ({exc.__class__.__name__})"
    return str(exc)


def article_document(article: Article) -> dict[str, Any]:
    """An article as an import line: the export re-imports to the same state."""
    return {
        "external_id": article.external_id,
        "section": article.section_path,
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "body_html": article.body_html,
        "author": article.author,
        "published_at": article.published_at.isoformat(),
        "source_name": article.source_name,
        "source_url": article.source_url,
        "image_url": article.image_url,
        "tags": list(article.tags),
    }


def export_articles(database: Database, out: TextIO, include_deleted: bool = False) -> int:
    count = 0
    with database.session() as session:
        for article in Store(session).all_articles():
            if article.deleted_at is not None and not include_deleted:
                continue
            document = article_document(article)
            if article.deleted_at is not None:
                document["deleted_at"] = article.deleted_at.isoformat()
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
            count += 1
    return count
