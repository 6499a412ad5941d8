"""The worker: claims durable jobs from the database and runs them, one at a time, in
whatever process a dispatcher chose (a thread of the web server, ``feedsvc worker``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from .. import logs
from ..articles import Clock, utcnow
from ..config import SOURCE_LANGUAGE
from ..db import Database
from ..domain import Job, JobStatus, VariantStatus
from ..engine.argos import Engines
from ..store import LeaseLost, Store
from ..store.base import Ending
from ..translation import ALL_SHOWN, JobRunner

log = logging.getLogger(__name__)
# A sweep brings what is derived from feed scopes up to date; its argument says whether
# rendering into this process's cache helps anyone (see feedsvc.publish).
ScopeSweep = Callable[[bool], object]
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
RETRY = timedelta(seconds=10)


def backoff(attempts: int, base: timedelta = RETRY) -> timedelta:
    """10 s, 40 s, 2.7 min, 10.7 min … (for a 10 s base) between retries of a failing job,
    capped at an hour."""
    factor: int = 4 ** (attempts - 1)
    return min(base * factor, timedelta(hours=1))


@dataclass
class Worker:
    """Claims jobs from the database and runs them, one at a time."""

    database: Database
    engines: Engines
    clock: Clock = utcnow
    lease: timedelta = LEASE
    call_tokens: int = 4096
    max_attempts: int = MAX_ATTEMPTS
    retry: timedelta = RETRY
    # language → statuses its policy publishes
    shown: Mapping[str, tuple[VariantStatus, ...]] = field(default_factory=dict)
    # feedsvc.publish adds its sweep
    scope_sweeps: list[ScopeSweep] = field(default_factory=list, init=False)

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt, from this worker's configured first retry."""
        return backoff(attempts, self.retry)

    def run_next(self, job_id: int | None = None) -> bool:
        """Run one runnable job (or the job ``job_id`` if it is runnable); False if none."""
        with self.database.session() as session:
            store = Store(session)
            store.jobs.reclaim_expired(self.clock(), self.max_attempts, self.backoff)
            job = store.jobs.claim(self.clock(), self.lease, job_id)
        if job is None:
            return False
        with logs.bound(job_id=job.id, article_id=job.article_id, lang=job.lang):
            self._run(job)
        return True

    def run_pending(self, warm_cache: bool = True) -> int:
        """Run every runnable job, then sweep the scopes they and others changed."""
        ran = 0
        while self.run_next():
            ran += 1
        self.sweep_scopes(warm_cache)
        return ran

    def sweep_scopes(self, warm_cache: bool = True) -> None:
        """``warm_cache``: this process serves readers (or shares its cache), so rendering
        ahead of them helps. A failed sweep changes nothing the next one cannot redo."""
        for sweep in self.scope_sweeps:
            try:
                sweep(warm_cache)
            except Exception:
                log.exception("scope sweep failed; the next pass tries again")

    def wake_jobs_with_models(self) -> list[int]:
        """Waiting jobs whose language now has a package go back to the queue."""
        with self.database.session() as session:
            store = Store(session)
            waiting = {job.lang for job in store.jobs.all(JobStatus.WAITING)}
            woken: list[int] = []
            for lang in sorted(waiting):
                if self.engines.packages.find(SOURCE_LANGUAGE, lang) is not None:
                    woken += store.jobs.wake_waiting(lang, self.clock())
        return woken

    def _run(self, job: Job) -> None:
        """Run a claimed job; the log context (job, article, language) is already bound."""
        runner = JobRunner(
            self.database,
            self.engines.translator,
            self.clock,
            self.call_tokens,
            hold=lambda store: store.jobs.hold(job, self.clock() + self.lease),
            shown=self.shown.get(job.lang, ALL_SHOWN),
        )
        log.info("job started attempt=%d revision=%d", job.attempts, job.revision)
        try:
            outcome = runner.run(job)
        except LeaseLost:
            log.warning("lease lost, job left to its new owner attempt=%d", job.attempts)
            return
        except Exception as exc:  # any failure is recorded on the job, then retried
            log.exception("job failed attempt=%d", job.attempts)
            self._finish_failed(job, f"{exc.__class__.__name__}: {exc}")
            return
        status = JobStatus.WAITING if outcome.waiting_for_model else JobStatus.DONE
        if outcome.cancelled is not None:  # its article was deleted or edited meanwhile
            status = JobStatus.CANCELLED
        ending = Ending(status, outcome.cancelled or outcome.waiting_for_model)
        try:
            with self.database.session() as session:
                status = Store(session).jobs.finish(job, ending, self.clock())
        except LeaseLost:
            log.warning("lease lost before finishing")
            return
        if outcome.published:
            log.info("variant published revision=%d", job.revision)
        log.info(
            "job finished status=%s engine_segments=%d memory=%d published=%s",
            status.value,
            outcome.sent_to_engine,
            outcome.from_memory,
            outcome.published,
        )

    def _finish_failed(self, job: Job, error: str) -> None:
        try:
            with self.database.session() as session:
                if job.attempts >= self.max_attempts:
                    ending = Ending(JobStatus.FAILED, error)
                else:
                    retry_at = self.clock() + self.backoff(job.attempts)
                    ending = Ending(JobStatus.QUEUED, error, retry_at)
                Store(session).jobs.finish(job, ending, self.clock())
        except LeaseLost:
            log.warning("lease lost before recording a failure")
