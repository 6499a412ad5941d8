"""What every repository shares: the unit of work's session and its sibling repositories,
and the leased job queue that translation jobs and WebSub jobs both are."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from sqlalchemy import CursorResult, Executable, Select, select, update
from sqlalchemy.orm import Session

from ..db.tables import JobRow, WebSubJobRow
from . import rows

if TYPE_CHECKING:
    from . import Store

Backoff = Callable[[int], timedelta]  # attempts so far → how long to wait before the next
LeasedRow = TypeVar("LeasedRow", JobRow, WebSubJobRow)
Query = TypeVar("Query", bound=Select[Any])
Status = TypeVar("Status", bound=str)  # a queue's job statuses: JobStatus, or WebSub's strings


class Repository:
    """One aggregate's queries over the unit of work's session (miniflux's storage files)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.session: Session = store.session

    def changed(self, statement: Executable) -> int:
        """The rows an UPDATE or DELETE matched: how a write that carries its condition in SQL
        learns whether the condition held."""
        # Session.execute is typed to return a Result; for DML it is a CursorResult.
        result = cast("CursorResult[*tuple[Any, ...]]", self.session.execute(statement))
        return result.rowcount


class LeasedQueue(Repository, Generic[LeasedRow]):
    """A job table whose running rows are held under a lease with an owner token: a claim is
    a conditional UPDATE (``SKIP LOCKED`` on PostgreSQL), and only the owner writes to a
    running job, so a worker whose lease ran out (and whose job another took over) changes
    nothing."""

    table: type[LeasedRow]
    queued: str  # the status of a job waiting for its turn
    running: str  # the status of a job under a lease

    def _skip_locked(self, query: Query) -> Query:
        """``query`` taking row locks other workers skip, on PostgreSQL (SQLite has none)."""
        if rows.is_postgresql(self.session):
            return query.with_for_update(skip_locked=True)
        return query

    def _expired(self, now: datetime) -> Sequence[LeasedRow]:
        """Running jobs whose lease ran out (their worker died or stalled), locked."""
        table = self.table
        query = select(table).where(table.status == self.running, table.lease_until < now)
        return self.session.scalars(self._skip_locked(query)).all()

    def _claim(
        self, candidates: Select[int], now: datetime, lease: timedelta, **values: Any
    ) -> LeasedRow | None:
        """The first job of ``candidates`` (a query of ids), running under a new owner token
        for ``lease`` with ``values`` set too; None if there is none or another worker took
        it first."""
        candidate = self.session.scalar(self._skip_locked(candidates))
        if candidate is None:
            return None
        table = self.table
        claimed = self.changed(
            update(table)
            .where(table.id == candidate, table.status == self.queued)
            .values(
                status=self.running,
                attempts=table.attempts + 1,
                lease_owner=uuid.uuid4().hex,
                lease_until=now + lease,
                **values,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed != 1:
            return None
        row = self.session.get(table, candidate, populate_existing=True)
        assert row is not None
        return row

    def _owned_update(self, job_id: int, owner: str | None, values: dict[str, Any]) -> bool:
        """Write ``values`` to a running job as the owner of its lease; False if the lease
        is no longer ``owner``'s."""
        table = self.table
        matched = self.changed(
            update(table)
            .where(table.id == job_id, table.lease_owner == owner, table.status == self.running)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return matched == 1


@dataclass(frozen=True)
class Ending(Generic[Status]):
    """How a run of a leased job ended, as the worker decided it: the job's new status,
    the error to record (None clears the last one), and when to run it again if at all."""

    status: Status
    error: str | None = None
    retry_at: datetime | None = None


def ended(ending: Ending[Any], now: datetime, final: bool) -> dict[str, Any]:
    """What ends a run of a leased job: its lease released, the ``ending`` recorded, and
    the finish time if the job is ``final``."""
    values: dict[str, Any] = {
        "status": str(ending.status),  # a status enum's value: the column holds text
        "last_error": ending.error,
        "lease_until": None,
        "lease_owner": None,
    }
    if final:
        values["finished_at"] = now
    if ending.retry_at is not None:
        values["run_after"] = ending.retry_at
    return values
