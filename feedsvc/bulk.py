"""Bulk JSONL import and export of articles: idempotent by external_id, line by line.

``export --include-deleted`` writes tombstones with a ``deleted_at``; import restores them, so
an export imported into an empty database gives the same articles and tombstones."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .articles import Editor, Limits, Saved
from .db import Database
from .domain import Article, DomainError, FieldError, Invalid
from .schemas import ArticleIn, parse_document, parse_rfc3339
from .store import Store

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class BulkImportReport:
    """Counts and rejected lines of a bulk import, for the CLI to print."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    @property
    def total(self) -> int:
        """Every line read, whatever became of it."""
        return self.created + self.updated + self.unchanged + len(self.rejected)


@dataclass(frozen=True)
class Line:
    """A parsed import line; ``deleted_at`` is set on an exported tombstone."""

    doc: ArticleIn
    deleted_at: datetime | None = None


def _parse_line(text: str) -> Line:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(
            [FieldError("/", f"not valid JSON ({exc.msg} at column {exc.colno})")]
        ) from exc
    errors: list[FieldError] = []
    deleted_at = None
    if isinstance(data, dict) and "deleted_at" in data:
        # Taken out before ArticleIn sees it: only an export's tombstones may set it,
        # API clients delete with DELETE. null is a live article, as the API shows it.
        try:
            deleted_at = _deleted_at(data.pop("deleted_at"))
        except ValueError as exc:
            errors.append(FieldError("/deleted_at", str(exc)))
    try:
        doc: ArticleIn = parse_document(ArticleIn, data)
    except Invalid as exc:
        raise Invalid(errors + exc.errors) from exc
    if errors:
        raise Invalid(errors)
    if not doc.external_id:
        raise Invalid(
            [FieldError("/external_id", "is required for import (it makes re-imports idempotent)")]
        )
    return Line(doc, deleted_at)


def _deleted_at(value: Any) -> datetime | None:
    return None if value is None else parse_rfc3339(value).astimezone(UTC)


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
    limits: Limits | None = None,
) -> BulkImportReport:
    """Upsert each line; a bad line is reported and skipped, never aborts the rest.
    Translation jobs into ``targets`` are queued with one INSERT per batch, and dispatched
    after the batch commits. ``limits``: body size and segments per article (default: the
    running app's settings), checked on every line as on the API."""
    report = BulkImportReport()
    for batch in _numbered(lines):
        with database.session() as session:
            store = Store(session)
            editor = Editor(store, targets, defer_jobs=True, limits=limits)
            queued: list[int] = []
            parsed: list[tuple[int, Line | DomainError]] = []
            for number, text in batch:
                try:
                    parsed.append((number, _parse_line(text)))
                except DomainError as exc:
                    parsed.append((number, exc))
            existing = store.articles.by_external_ids(
                line.doc.external_id
                for _, line in parsed
                if isinstance(line, Line) and line.doc.external_id
            )
            with store.feeds.batched():
                _apply_batch(editor, session, parsed, existing, report, queued)
            queued += editor.queue_deferred_jobs()
        dispatch(queued)
        log.info("import batch done lines=%d total=%d", len(batch), report.total)
    return report


def _apply_batch(
    editor: Editor,
    session: Session,
    parsed: list[tuple[int, Line | DomainError]],
    existing: dict[str, Article],
    report: BulkImportReport,
    queued: list[int],
) -> None:
    """Each line in a savepoint of its own: a bad line is reported and changes nothing."""
    for number, line in parsed:
        deferred = len(editor.deferred_jobs)
        try:
            if isinstance(line, DomainError):
                raise line
            with session.begin_nested():
                saved = _apply(editor, line, existing.get(line.doc.external_id or ""))
        except (DomainError, SQLAlchemyError) as exc:
            del editor.deferred_jobs[deferred:]  # its savepoint was rolled back
            report.rejected.append((number, _reason(exc)))
            continue
        # A later line with the same external_id in this batch updates this article.
        existing[saved.article.external_id] = saved.article
        queued.extend(saved.jobs)
        if saved.created:
            report.created += 1
        elif saved.changed:
            report.updated += 1
        else:
            report.unchanged += 1


def _apply(editor: Editor, line: Line, existing: Article | None) -> Saved:
    if line.deleted_at is None:
        return editor.upsert(line.doc, existing)
    return editor.restore_tombstone(line.doc, line.deleted_at, existing)


def _reason(exc: Exception) -> str:
    if isinstance(exc, SQLAlchemyError):
        return f"storage refused the article ({exc.__class__.__name__})"
    return str(exc)


def article_line(article: Article) -> dict[str, Any]:
    """An article as an import line: the export re-imports to the same state."""
    document = {"external_id": article.external_id} | article.document()
    document["published_at"] = article.published_at.isoformat()
    if article.deleted_at is not None:
        document["deleted_at"] = article.deleted_at.isoformat()
    return document


def export_articles(database: Database, out: TextIO, include_deleted: bool = False) -> int:
    """Write every article as one import line each; the count written."""
    count = 0
    with database.session() as session:
        for article in Store(session).articles.all():
            if article.deleted_at is not None and not include_deleted:
                continue
            out.write(json.dumps(article_line(article), ensure_ascii=False) + "\n")
            count += 1
    return count
