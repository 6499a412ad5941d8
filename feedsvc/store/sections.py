"""Sections: a tree of slash-separated paths, with display names and move aliases."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from ..db.tables import ArticleRow, SectionAliasRow, SectionNameRow, SectionRow
from ..domain import Conflict, NotFound, Section
from . import rows
from .base import Repository

if TYPE_CHECKING:
    from . import Store

Lock = Literal["share", "update"] | None


class Sections(Repository):
    """Sections and their names, cached per unit of work since every page reads them."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._rows: dict[str, SectionRow] = {}  # path → row, for this unit of work

    def all(self) -> list[Section]:
        """Every section with its names, read as plain columns since every render needs them."""
        # Plain columns, not ORM objects: every feed render and page reads them all.
        names: dict[int, dict[str, str]] = {}
        for section_id, lang, name in self.session.execute(
            select(SectionNameRow.section_id, SectionNameRow.lang, SectionNameRow.name)
        ):
            names.setdefault(section_id, {})[lang] = name
        columns = (SectionRow.id, SectionRow.path, SectionRow.created_at, SectionRow.updated_at)
        found = self.session.execute(select(*columns).order_by(SectionRow.path))
        return [rows.section(row, names.get(row.id, {})) for row in found]

    def get(self, path: str) -> Section:
        """One section or NotFound, so API views answer 404 without checking for None."""
        return rows.section(self.row(path))

    def exists(self, path: str) -> bool:
        """Whether a section exists, for callers that branch instead of answering 404."""
        try:
            self.row(path)
        except NotFound:
            return False
        return True

    def alias(self, old_path: str) -> str | None:
        """The current path of a section that used to live at ``old_path``."""
        query = (
            select(SectionRow.path)
            .join(SectionAliasRow, SectionAliasRow.section_id == SectionRow.id)
            .where(SectionAliasRow.path == old_path)
        )
        return self.session.scalar(query)

    def add(self, path: str, names: dict[str, str], now: datetime) -> Section:
        """Creates a section under an existing parent (Conflict if taken), retiring an old alias."""
        parent_path, _, _ = path.rpartition("/")
        parent = self.row(parent_path, lock="share") if parent_path else None
        row = SectionRow(
            path=path,
            parent_id=parent.id if parent else None,
            created_at=now,
            updated_at=now,
            names=[SectionNameRow(lang=lang, name=name) for lang, name in names.items()],
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:  # created by a concurrent writer a moment ago
            raise Conflict(f"section {path!r} already exists") from exc
        self.session.execute(delete(SectionAliasRow).where(SectionAliasRow.path == path))
        self.store.feeds.touch([path], now)
        return rows.section(row)

    def rename(self, path: str, names: dict[str, str], now: datetime) -> Section:
        """Merges new display names and bumps the subtree's feeds, whose titles show them."""
        row = self.row(path, lock="update")
        existing = {name.lang: name for name in row.names}
        for lang, name in names.items():
            if lang in existing:
                existing[lang].name = name
            else:
                row.names.append(SectionNameRow(lang=lang, name=name))
        row.updated_at = now
        self.session.flush()
        self._touch_subtree(path, now)
        return rows.section(row)

    def move(self, path: str, new_path: str, now: datetime) -> Section:
        """Give a section (and its subtree) a new path; old paths become aliases."""
        row = self.row(path, lock="update")
        parent_path, _, _ = new_path.rpartition("/")
        parent = self.row(parent_path, lock="share") if parent_path else None
        subtree = self.session.scalars(
            select(SectionRow).where(
                or_(
                    SectionRow.id == row.id, SectionRow.path.startswith(path + "/", autoescape=True)
                )
            )
        ).all()
        old_paths = {member.id: member.path for member in subtree}
        self._rows.clear()
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
        try:
            self.session.flush()
        except IntegrityError as exc:  # the new path was taken by a concurrent writer
            raise Conflict(f"section {new_path!r} already exists") from exc
        moved = self.session.scalars(
            select(ArticleRow.id).where(ArticleRow.section_id.in_(list(old_paths)))
        ).all()
        for start in range(0, len(moved), 500):
            self.store.feeds.refresh_entries(moved[start : start + 500])
        self.store.feeds.touch([*old_paths.values(), *new_paths], now)
        return rows.section(row)

    def row(self, path: str, lock: Lock = None) -> SectionRow:
        """The section at ``path``. With a lock (PostgreSQL; SQLite writers are serialized
        anyway) the row is read again and held until commit: "share" by a write that files
        an article under it, "update" by a move or rename, so a move waits for those writes
        and they never file under a path that has just moved away."""
        row = self._rows.get(path) if lock is None else None
        if row is None:
            query = select(SectionRow).where(SectionRow.path == path)
            if lock is not None and rows.is_postgresql(self.session):
                query = query.with_for_update(read=lock == "share").execution_options(
                    populate_existing=True
                )
            row = self.session.scalar(query)
            if row is None:
                raise NotFound(f"no section at path {path!r}")
            self._rows[path] = row
        return row

    def _touch_subtree(self, path: str, now: datetime) -> None:
        """A section's own text changed: every feed below it and above it shows it."""
        below = self.session.scalars(
            select(SectionRow.path).where(SectionRow.path.startswith(path + "/", autoescape=True))
        ).all()
        self.store.feeds.touch([path, *below], now)
