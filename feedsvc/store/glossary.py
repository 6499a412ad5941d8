"""Glossary terms per language pair; uniqueness of a term is the table's, not a read's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..db.tables import GlossaryRow
from ..domain import Conflict, GlossaryTerm, NotFound
from . import rows
from .base import Repository


class Glossary(Repository):
    """Glossary terms; every change bumps the feeds, since terms change published translations."""

    def terms(self, source_lang: str, target_lang: str) -> list[GlossaryTerm]:
        """A language pair's terms in source order, as the engine and the review UI apply them."""
        pair = GlossaryRow.of_pair(source_lang, target_lang)
        query = select(GlossaryRow).where(pair).order_by(GlossaryRow.source_key)
        return [rows.term(row) for row in self.session.scalars(query)]

    def get(self, term_id: int) -> GlossaryTerm:
        """One term or NotFound, so API views answer 404 without checking for None."""
        return rows.term(self._row(term_id))

    def add(
        self,
        source_lang: str,
        target_lang: str,
        source_term: str,
        target_term: str,
        do_not_translate: bool,
        now: datetime,
    ) -> GlossaryTerm:
        """Adds a term (Conflict on a duplicate source) and bumps the feeds it may change."""
        row = GlossaryRow(
            source_lang=source_lang,
            target_lang=target_lang,
            source_term=source_term,
            source_key=source_term.casefold(),
            target_term=target_term,
            do_not_translate=do_not_translate,
            created_at=now,
            updated_at=now,
        )
        self._flush_unique(source_term, partial(self.session.add, row))
        self._touch_feeds(now)
        return rows.term(row)

    def update(
        self,
        term_id: int,
        source_term: str,
        target_term: str,
        do_not_translate: bool,
        now: datetime,
    ) -> GlossaryTerm:
        """Edits a term (Conflict on a duplicate source) and bumps the feeds it may change."""
        row = self._row(term_id)

        def change() -> None:
            row.source_term, row.source_key = source_term, source_term.casefold()
            row.target_term, row.do_not_translate, row.updated_at = (
                target_term,
                do_not_translate,
                now,
            )

        self._flush_unique(source_term, change)
        self._touch_feeds(now)
        return rows.term(row)

    def delete(self, term_id: int, now: datetime) -> None:
        """Removes a term, NotFound if a concurrent writer got there first, and bumps the feeds."""
        try:
            with self.session.begin_nested():
                self.session.delete(self._row(term_id))
                self.session.flush()
        except StaleDataError as exc:  # deleted by a concurrent writer
            raise NotFound(f"no glossary term with id {term_id}") from exc
        self._touch_feeds(now)

    def _touch_feeds(self, now: datetime) -> None:
        """Feeds show tags through the glossary: every cached feed is stale now."""
        self.store.feeds.touch([section.path for section in self.store.sections.all()], now)

    def _flush_unique(self, source_term: str, change: Callable[[], None]) -> None:
        """Apply ``change`` in a savepoint; a clash with another term is a Conflict."""
        try:
            with self.session.begin_nested():
                change()
                self.session.flush()
        except IntegrityError as exc:
            raise Conflict(f"the glossary already has {source_term!r}") from exc
        except StaleDataError as exc:  # deleted by a concurrent writer
            raise NotFound(f"the glossary term {source_term!r} was deleted meanwhile") from exc

    def _row(self, term_id: int) -> GlossaryRow:
        row = self.session.get(GlossaryRow, term_id) if rows.storable_id(term_id) else None
        if row is None:
            raise NotFound(f"no glossary term with id {term_id}")
        return row
