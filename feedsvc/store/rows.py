"""Row ↔ domain mapping, and the few SQL helpers every repository shares."""

from __future__ import annotations

import functools
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..db.tables import (
    ApiTokenRow,
    ArticleRow,
    GlossaryRow,
    JobRow,
    SectionRow,
    SegmentRow,
    VariantRow,
)
from ..domain import (
    ApiToken,
    Article,
    GlossaryTerm,
    Job,
    JobStatus,
    Role,
    Section,
    SegmentOrigin,
    SegmentStatus,
    StoredSegment,
    Variant,
    VariantOrigin,
    VariantStatus,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")
MAX_ID = 2**31 - 1


def storable_id(value: int) -> bool:
    """Ids beyond a 32-bit column can't exist; asking PostgreSQL would be an error."""
    return 0 < value <= MAX_ID


def upsert_insert(session: Session, table: Table | type[Any]) -> PostgresqlInsert | SqliteInsert:
    """An INSERT that takes ``ON CONFLICT`` on both backends (their two Insert classes
    spell it alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)


def is_postgresql(session: Session) -> bool:
    """Whether the session talks to PostgreSQL, for the locks and queries SQLite lacks."""
    return session.get_bind().dialect.name == "postgresql"


def aware(value: datetime | str) -> datetime:
    """Aggregates bypass the column type on SQLite; give them back their UTC zone."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _copy(kind: type[T], row: Any, **converted: Any) -> T:
    """A domain object from a row whose columns share its field names; ``converted``
    gives the fields that need more than a copy."""
    values = row._mapping if hasattr(row, "_mapping") else None  # a Core row: by key
    copied = {
        name: values[name] if values is not None else getattr(row, name)
        for name in _field_names(kind)
        if name not in converted
    }
    return kind(**copied, **converted)


@functools.cache
def _field_names(kind: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclass_fields(kind))


def section(row: SectionRow | Any, names: dict[str, str] | None = None) -> Section:
    """A section; ``names`` when the caller read them already (else from the row)."""
    parent_path, _, _ = row.path.rpartition("/")
    return Section(
        id=row.id,
        path=row.path,
        parent_path=parent_path or None,
        names=names if names is not None else {name.lang: name.name for name in row.names},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def article(row: ArticleRow) -> Article:
    """An article from its ORM row, detached so it outlives the session."""
    return _copy(Article, row, section_path=row.section.path, tags=tuple(row.tags or ()))


def article_columns(row: Any) -> Article:
    """An article from a Core row of its columns and its ``section_path``."""
    return _copy(Article, row, tags=tuple(row.tags or ()))


def variant(row: VariantRow | Any) -> Variant:
    """A variant from its ORM or Core row, with its enums parsed."""
    return _copy(Variant, row, origin=VariantOrigin(row.origin), status=VariantStatus(row.status))


def segment(row: SegmentRow) -> StoredSegment:
    """A segment from its ORM row, with its enums and JSON columns copied out."""
    return _copy(
        StoredSegment,
        row,
        placeholders=dict(row.placeholders or {}),
        origin=SegmentOrigin(row.origin) if row.origin else None,
        status=SegmentStatus(row.status),
        dismissed=tuple(row.dismissed or ()),
    )


def segment_values(state: StoredSegment) -> dict[str, Any]:
    """The columns a stored segment list carries (key, ids and times aside)."""
    return {
        "position": state.position,
        "source": state.source,
        "source_hash": state.source_hash,
        "placeholders": dict(state.placeholders),
        "target": state.target,
        "machine_target": state.machine_target,
        "origin": state.origin.value if state.origin else None,
        "status": state.status.value,
        "score": state.score,
        "engine": state.engine,
        "model_runs": state.model_runs,
        "previous_source": state.previous_source,
        "previous_target": state.previous_target,
        "dismissed": list(state.dismissed) or None,
        "words": state.words,
    }


def job(row: JobRow) -> Job:
    """A job from its ORM row, with its status parsed."""
    return _copy(Job, row, status=JobStatus(row.status))


def term(row: GlossaryRow) -> GlossaryTerm:
    """A glossary term from its ORM row, detached so it outlives the session."""
    return _copy(GlossaryTerm, row)


def token(row: ApiTokenRow) -> ApiToken:
    """An API token from its ORM row, with its role parsed."""
    return _copy(ApiToken, row, role=Role(row.role), languages=tuple(row.languages or ()))
