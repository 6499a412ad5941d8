"""Durable translation jobs. A running job has a lease with an owner token: only the owner
extends it, writes under it and finishes the job, so a worker whose lease ran out (and whose
job another worker took over) can change nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..db.tables import ArticleRow, JobRow
from ..domain import Job, JobStatus, NotFound
from . import rows
from .base import Backoff, Ending, LeasedQueue, ended

ENQUEUE_ROWS = 1000  # rows per multi-row INSERT: 7 parameters each, far below any limit


class LeaseLost(Exception):
    """The job's lease expired and another worker may own it now; stop without writing."""


class Jobs(LeasedQueue[JobRow]):
    """The translation job queue in the database, leased so a crashed worker's job runs again."""

    table = JobRow
    queued = JobStatus.QUEUED.value
    running = JobStatus.RUNNING.value

    def enqueue(self, article_id: int, lang: str, revision: int, now: datetime) -> int | None:
        """A job for this (article revision, language) unless one exists; its id, or None."""
        queued = self.enqueue_many([(article_id, lang, revision)], now)
        return queued[0] if queued else None

    def enqueue_many(self, keys: Iterable[tuple[int, str, int]], now: datetime) -> list[int]:
        """``enqueue`` for many (article id, language, revision) keys in multi-row INSERTs;
        the ids of the jobs that did not exist yet, ascending."""
        unique = list(dict.fromkeys(keys))
        queued: list[int] = []
        for start in range(0, len(unique), ENQUEUE_ROWS):
            values = [
                {
                    "article_id": article_id,
                    "lang": lang,
                    "revision": revision,
                    "status": JobStatus.QUEUED.value,
                    "attempts": 0,
                    "run_after": now,
                    "created_at": now,
                }
                for article_id, lang, revision in unique[start : start + ENQUEUE_ROWS]
            ]
            queued += sorted(
                self.session.scalars(
                    rows.upsert_insert(self.session, JobRow)
                    .values(values)
                    .on_conflict_do_nothing()
                    .returning(JobRow.id)
                )
            )
        return queued

    def requeue(self, article_id: int, lang: str, revision: int, now: datetime) -> int | None:
        """Run (article revision, language) again, e.g. after a reviewer's reject: a new job,
        or the existing one back to the queue if it is not running."""
        job_id = self.enqueue(article_id, lang, revision, now)
        if job_id is not None:
            return job_id
        return self.session.scalar(
            update(JobRow)
            .where(
                JobRow.article_id == article_id,
                JobRow.lang == lang,
                JobRow.revision == revision,
                JobRow.status != JobStatus.RUNNING.value,
            )
            .values(
                status=JobStatus.QUEUED.value,
                attempts=0,
                run_after=now,
                finished_at=None,
                last_error=None,
            )
            .returning(JobRow.id)
            .execution_options(synchronize_session=False)
        )

    def get(self, job_id: int) -> Job:
        """One job or NotFound, so API views answer 404 without checking for None."""
        row = self.session.get(JobRow, job_id) if rows.storable_id(job_id) else None
        if row is None:
            raise NotFound(f"no job with id {job_id}")
        return rows.job(row)

    def latest(self, article_id: int, lang: str) -> Job | None:
        """The newest job of (article, language): what a translation's status reports."""
        row = self.session.scalar(
            select(JobRow)
            .where(JobRow.article_id == article_id, JobRow.lang == lang)
            .order_by(JobRow.id.desc())
            .limit(1)
        )
        return rows.job(row) if row else None

    def all(self, status: JobStatus | None = None) -> list[Job]:
        """Every job, optionally of one status, in queue order: for tests and operators."""
        query = select(JobRow).order_by(JobRow.id)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        return [rows.job(row) for row in self.session.scalars(query)]

    def reclaim_expired(self, now: datetime, max_attempts: int, backoff: Backoff) -> list[int]:
        """Jobs whose worker died (lease ran out): the lost run counts as an attempt, so the
        job waits out a backoff, or ends failed after ``max_attempts``."""
        reclaimed = []
        for row in self._expired(now):
            error = f"lease expired after attempt {row.attempts} (worker died or stalled)"
            values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
            if row.attempts >= max_attempts:
                values |= {
                    "status": JobStatus.FAILED.value,
                    "finished_at": now,
                    "last_error": f"{row.last_error or error}; gave up after {row.attempts} "
                    "attempts",
                }
            else:
                values |= {
                    "status": JobStatus.QUEUED.value,
                    "run_after": now + backoff(row.attempts),
                    "last_error": error,
                }
            self._write_owned(row.id, row.lease_owner, values)
            reclaimed.append(row.id)
        return reclaimed

    def claim(self, now: datetime, lease: timedelta, job_id: int | None = None) -> Job | None:
        """Take the next runnable job (or ``job_id``) for ``lease`` under a new owner token.
        At most one job of an (article, language) runs at a time: a unique index on running
        jobs enforces it, the query only avoids asking for a clash."""
        running = aliased(JobRow)
        query = select(JobRow.id).where(
            JobRow.status == JobStatus.QUEUED.value,
            JobRow.run_after <= now,
            ~exists().where(
                and_(
                    running.article_id == JobRow.article_id,
                    running.lang == JobRow.lang,
                    running.status == JobStatus.RUNNING.value,
                )
            ),
        )
        if job_id is not None:
            query = query.where(JobRow.id == job_id)
        query = query.order_by(JobRow.run_after, JobRow.id).limit(1)
        try:
            with self.session.begin_nested():
                row = self._claim(query, now, lease, started_at=now)
        except IntegrityError:  # another job of this (article, language) started meanwhile
            return None
        return rows.job(row) if row else None

    def hold(self, job: Job, until: datetime) -> None:
        """Extend the lease as its owner, and lock the job row for this transaction, so a
        reclaim cannot slip in before the writes that follow commit."""
        self._write_owned(job.id, job.lease_owner, {"lease_until": until})

    def finish(self, job: Job, ending: Ending[JobStatus], now: datetime) -> JobStatus:
        """End the run as its owner; the status it ended in. A job that would be done while
        its variant still has a segment without text (a reviewer rejected one while it ran,
        and the reject could not re-queue a running job) goes back to the queue at once
        instead: the reject and this check meet on the job row, so one of them sees the
        other."""
        done = ending.status is JobStatus.DONE
        if done and self.store.segments.missing_text(job.article_id, job.lang):
            ending = Ending(JobStatus.QUEUED, "segments changed while it ran", retry_at=now)
            self._write_owned(job.id, job.lease_owner, {"attempts": 0})
        final = ending.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
        self._write_owned(job.id, job.lease_owner, ended(ending, now, final))
        return ending.status

    def cancelled_by(self, article_id: int, revision: int) -> str | None:
        """Why a job working on ``revision`` of the article should stop: the article was
        deleted (or is gone), or edited into a newer revision; None to go on. One small
        query, asked between engine calls."""
        row = self.session.execute(
            select(ArticleRow.revision, ArticleRow.deleted_at).where(ArticleRow.id == article_id)
        ).one_or_none()
        if row is None or row.deleted_at is not None:
            return "cancelled: the article was deleted"
        if row.revision != revision:
            return f"superseded: the article is at revision {row.revision} (job cut {revision})"
        return None

    def wake_waiting(self, lang: str | None, now: datetime) -> list[int]:
        """Jobs waiting for a model go back to the queue (after a package install)."""
        statement = update(JobRow).where(JobRow.status == JobStatus.WAITING.value)
        if lang is not None:
            statement = statement.where(JobRow.lang == lang)
        return list(
            self.session.scalars(
                statement.values(status=JobStatus.QUEUED.value, run_after=now)
                .returning(JobRow.id)
                .execution_options(synchronize_session=False)
            )
        )

    def _write_owned(self, job_id: int, owner: str | None, values: dict[str, Any]) -> None:
        """``_owned_update``, raising LeaseLost when the lease is no longer ``owner``'s."""
        if not self._owned_update(job_id, owner, values):
            raise LeaseLost(f"job {job_id} is no longer held by lease {owner}")
