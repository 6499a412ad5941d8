"""Durable translation jobs: rows in the database are the truth; a worker thread, the
``feedsvc worker`` process or RQ on Redis only decide who runs them and when."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app, request

from .articles import Clock, utcnow
from .config import SOURCE_LANGUAGE, Settings
from .db import Database
from .domain import Job, JobStatus, VariantStatus
from .engine.argos import EngineOptions, Engines
from .engine.packages import Packages
from .store import LeaseLost, Store
from .translation import ALL_SHOWN, JobRunner

log = logging.getLogger(__name__)
# A sweep brings what is derived from feed scopes up to date; its argument says whether
# rendering into this process's cache helps anyone (see feedsvc.publish).
ScopeSweep = Callable[[bool], object]
EXTENSION_KEY = "feedsvc.jobs"
RQ_QUEUE = "feedsvc-translation"
RQ_SCOPES_QUEUE = "feedsvc-scopes"  # sweeps after scope changes (feedsvc.publish)
SWEEP_PENDING_KEY = "scope-sweep-pending"  # after FEEDSVC_REDIS_PREFIX
SWEEP_PENDING_SECONDS = 300  # a lost sweep message blocks new ones at most this long
REDIS_TIMEOUT_SECONDS = 2  # connect and reply: past this the job waits for the sweep
INTERNAL_REQUEST = "feedsvc.internal"  # WSGI environ key of the app's requests to itself
# ... and what they ask for: the current version's bytes, to publish (never a render the
# grace window would still serve), or a render ahead of readers (what they would get).
EXACT, WARM = "exact", "warm"
NOT_READ = 204  # the answer to a warming GET of a feed no reader has asked for
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
RETRY = timedelta(seconds=10)


def backoff(attempts: int, base: timedelta = RETRY) -> timedelta:
    """10 s, 40 s, 2.7 min, 10.7 min … (for a 10 s base) between retries of a failing job,
    capped at an hour."""
    return min(base * 4 ** (attempts - 1), timedelta(hours=1))


class Worker:
    """Claims jobs from the database and runs them, one at a time."""

    def __init__(
        self,
        database: Database,
        engines: Engines,
        clock: Clock = utcnow,
        lease: timedelta = LEASE,
        call_tokens: int = 4096,
        max_attempts: int = MAX_ATTEMPTS,
        retry: timedelta = RETRY,
        shown: Mapping[str, tuple[VariantStatus, ...]] | None = None,
    ) -> None:
        self.database = database
        self.engines = engines
        self.clock = clock
        self.lease = lease
        self.call_tokens = call_tokens
        self.max_attempts = max_attempts
        self.retry = retry
        self.shown = shown or {}  # language → statuses its policy publishes
        self.scope_sweeps: list[ScopeSweep] = []  # feedsvc.publish adds its sweep

    def backoff(self, attempts: int) -> timedelta:
        return backoff(attempts, self.retry)

    def run_next(self, job_id: int | None = None) -> bool:
        """Run one runnable job (or the job ``job_id`` if it is runnable); False if none."""
        with self.database.session() as session:
            store = Store(session)
            store.jobs.reclaim_expired(self.clock(), self.max_attempts, self.backoff)
            job = store.jobs.claim(self.clock(), self.lease, job_id)
        if job is None:
            return False
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
        runner = JobRunner(
            self.database,
            self.engines.translator,
            self.clock,
            self.call_tokens,
            hold=lambda store: store.jobs.hold(job, self.clock() + self.lease),
            shown=self.shown.get(job.lang, ALL_SHOWN),
        )
        context = f"job_id={job.id} article_id={job.article_id} lang={job.lang}"
        try:
            outcome = runner.run(job)
        except LeaseLost:
            log.warning(
                "lease lost, job left to its new owner %s attempt=%d", context, job.attempts
            )
            return
        except Exception as exc:  # any failure is recorded on the job, then retried
            log.exception("job failed %s attempt=%d", context, job.attempts)
            self._finish_failed(job, f"{exc.__class__.__name__}: {exc}")
            return
        status = JobStatus.WAITING if outcome.waiting_for_model else JobStatus.DONE
        if outcome.cancelled is not None:  # its article was deleted or edited meanwhile
            status = JobStatus.CANCELLED
        try:
            with self.database.session() as session:
                status = Store(session).jobs.finish(
                    job, status, self.clock(), outcome.cancelled or outcome.waiting_for_model
                )
        except LeaseLost:
            log.warning("lease lost before finishing %s", context)
            return
        log.info(
            "job %s %s engine_segments=%d memory=%d published=%s",
            status.value,
            context,
            outcome.sent_to_engine,
            outcome.from_memory,
            outcome.published,
        )

    def _finish_failed(self, job: Job, error: str) -> None:
        try:
            with self.database.session() as session:
                jobs_store = Store(session).jobs
                if job.attempts >= self.max_attempts:
                    jobs_store.finish(job, JobStatus.FAILED, self.clock(), error)
                else:
                    retry_at = self.clock() + self.backoff(job.attempts)
                    jobs_store.finish(job, JobStatus.QUEUED, self.clock(), error, retry_at)
        except LeaseLost:
            log.warning("lease lost before recording a failure job_id=%d", job.id)


class Dispatcher(Protocol):
    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        """Hand jobs to whoever runs them; the ids that could not be handed over now (they
        wait in the database for the next sweep)."""

    def queue_state(self) -> str:
        """ "ok", or "unreachable" when the queue the jobs go through cannot be reached."""

    def scopes_changed(self) -> None:
        """A commit changed feed scopes: sweep soon (called after the commit)."""

    def stop(self) -> None: ...


class ThreadDispatcher:
    """The default: a daemon thread in this process, woken when jobs are queued."""

    def __init__(self, worker: Worker, poll_seconds: float = 5.0) -> None:
        self.worker = worker
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._loop, name="feedsvc-worker", daemon=True
                )
                self._thread.start()

    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        if list(job_ids):
            self.start()
            self._wake.set()
        return []

    def queue_state(self) -> str:
        return "ok"

    def scopes_changed(self) -> None:
        # Wakes a running thread only: a CLI command (whose app never starts one) leaves
        # its changes to the server's periodic pass.
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.worker.wake_jobs_with_models()
                self.worker.run_pending()
            except Exception:  # the thread must outlive a database hiccup
                log.exception("worker loop error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


class RqDispatcher:
    """Jobs go through RQ on Redis; ``feedsvc worker`` processes run them."""

    def __init__(self, redis_url: str, prefix: str = "feedsvc:") -> None:
        from redis import Redis
        from rq import Queue

        self.sweep_pending_key = prefix + SWEEP_PENDING_KEY
        # A Redis that does not answer must not hold a request: the job waits in the
        # database and the worker's sweep enqueues it later.
        self.connection = Redis.from_url(
            redis_url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.queue = Queue(RQ_QUEUE, connection=self.connection)
        self.scopes_queue = Queue(RQ_SCOPES_QUEUE, connection=self.connection)

    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        from redis.exceptions import RedisError

        deferred = []
        for job_id in job_ids:
            if deferred:  # Redis just failed: do not wait on it once per job
                deferred.append(job_id)
                continue
            try:
                self.queue.enqueue(
                    "feedsvc.jobs.run_rq_job",
                    job_id,
                    job_id=f"feedsvc-{job_id}-{uuid.uuid4().hex[:12]}",
                )
            except RedisError as exc:
                # The job is safe in the database; the worker's sweep enqueues it later.
                log.warning("could not enqueue job_id=%d error=%s", job_id, exc)
                deferred.append(job_id)
        return deferred

    def queue_state(self) -> str:
        from redis.exceptions import RedisError

        try:
            self.connection.ping()
        except RedisError:
            return "unreachable"
        return "ok"

    def scopes_changed(self) -> None:
        """At most one sweep waits in the queue: a burst of changes costs one sweep, which
        clears the flag before it reads the scopes, so no change is left behind."""
        from redis.exceptions import RedisError

        try:
            pending = self.sweep_pending_key
            if self.connection.set(pending, "1", nx=True, ex=SWEEP_PENDING_SECONDS):
                self.scopes_queue.enqueue(
                    "feedsvc.jobs.run_rq_sweep", job_id=f"feedsvc-sweep-{uuid.uuid4().hex[:12]}"
                )
        except RedisError as exc:  # the worker's periodic sweep catches up
            log.warning("could not enqueue a scope sweep error=%s", exc)

    def stop(self) -> None:
        pass


class NoDispatcher:
    """FEEDSVC_WORKER=none: jobs wait in the database for a ``feedsvc worker`` process."""

    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        return []

    def queue_state(self) -> str:
        return "ok"

    def scopes_changed(self) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class JobsExtension:
    worker: Worker
    dispatcher: Dispatcher
    packages: Packages

    def dispatch_from_command(self, job_ids: Iterable[int]) -> None:
        """A short-lived command starts no worker thread: the server's worker polls the
        queue; only RQ needs to be told."""
        if isinstance(self.dispatcher, RqDispatcher):
            self.dispatcher.dispatch(job_ids)


def packages_dir(app: Flask, settings: Settings) -> str:
    return settings.argos_packages_dir or f"{app.instance_path}/argos-packages"


def init_app(app: Flask, settings: Settings, database: Database) -> JobsExtension:
    packages = Packages(Path(packages_dir(app, settings)))
    engines = Engines(
        packages,
        EngineOptions(
            device=settings.engine_device,
            compute_type=settings.engine_compute_type,
            threads=settings.engine_threads,
            inter_threads=settings.engine_inter_threads,
            beam_size=settings.engine_beam_size,
        ),
    )
    worker = Worker(
        database,
        engines,
        lease=timedelta(seconds=settings.job_lease_seconds),
        call_tokens=settings.engine_call_tokens,
        max_attempts=settings.job_max_attempts,
        retry=timedelta(seconds=settings.job_retry_seconds),
        shown={language.tag: language.shown for language in settings.target_languages},
    )
    dispatcher: Dispatcher
    if settings.redis_url:
        dispatcher = RqDispatcher(settings.redis_url, settings.redis_prefix)
    elif settings.worker == "thread":
        dispatcher = ThreadDispatcher(worker)
    else:
        dispatcher = NoDispatcher()
    extension = JobsExtension(worker, dispatcher, packages)
    app.extensions[EXTENSION_KEY] = extension
    if isinstance(dispatcher, ThreadDispatcher):
        thread = dispatcher

        @app.before_request
        def start_worker_thread() -> None:
            """Jobs left by another process run once this process serves; not for a scope
            sweep's own GETs, which may come from a command (`feedsvc publish`)."""
            if not request.environ.get(INTERNAL_REQUEST):
                thread.start()

    return extension


def jobs() -> JobsExtension:
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


_rq_app: Flask | None = None


def _rq_application() -> Flask:
    """The app of a ``feedsvc worker`` process, from the environment, built once."""
    global _rq_app
    if _rq_app is None:
        from . import create_app

        _rq_app = create_app()
    return _rq_app


def run_rq_job(job_id: int) -> bool:
    """The RQ job function of a translation job."""
    app = _rq_application()
    with app.app_context():
        return app.extensions[EXTENSION_KEY].worker.run_next(job_id)


def run_rq_sweep() -> None:
    """The RQ job function of a scope sweep. The flag goes first: a change committed from
    now on queues another sweep, one committed before is seen by this one."""
    app = _rq_application()
    extension: JobsExtension = app.extensions[EXTENSION_KEY]
    if isinstance(extension.dispatcher, RqDispatcher):
        extension.dispatcher.connection.delete(extension.dispatcher.sweep_pending_key)
    with app.app_context():
        extension.worker.sweep_scopes()


def run_worker(app: Flask, burst: bool, poll: float) -> None:
    """``feedsvc worker``: an RQ worker when Redis is configured, else a database poller."""
    extension: JobsExtension = app.extensions[EXTENSION_KEY]
    worker = extension.worker
    if isinstance(extension.dispatcher, RqDispatcher):
        # SimpleWorker runs each job in this process: RQ's default forks a child per job,
        # which would build the app, its engine and the loaded models again every time.
        from rq import SimpleWorker

        queue = extension.dispatcher.queue
        sweep_due_jobs(worker, extension.dispatcher)
        stop = threading.Event()
        if not burst:  # retries, lost messages and newly installed models reach RQ this way
            threading.Thread(
                target=_sweep_loop, args=(worker, extension.dispatcher, stop, poll), daemon=True
            ).start()
        global _rq_app
        _rq_app = app
        # Sweeps first: they are short, and readers wait for them; translations can queue.
        queues = [extension.dispatcher.scopes_queue, queue]
        SimpleWorker(queues, connection=queue.connection).work(burst=burst, with_scheduler=False)
        stop.set()
        return
    while True:
        worker.wake_jobs_with_models()
        # No Redis: this process's render cache serves no reader, so it only publishes.
        ran = worker.run_pending(warm_cache=False)
        if burst and not ran:
            return
        if not ran:
            threading.Event().wait(poll)


def sweep_due_jobs(worker: Worker, dispatcher: RqDispatcher) -> None:
    woken = worker.wake_jobs_with_models()
    with worker.database.session() as session:
        due = [
            job.id
            for job in Store(session).jobs.all(JobStatus.QUEUED)
            if job.run_after <= worker.clock()
        ]
    dispatcher.dispatch(sorted(set(due) | set(woken)))
    worker.sweep_scopes()  # changes whose sweep message was lost


def _sweep_loop(
    worker: Worker, dispatcher: RqDispatcher, stop: threading.Event, poll: float
) -> None:
    while not stop.wait(poll * 6):
        try:
            sweep_due_jobs(worker, dispatcher)
        except Exception:
            log.exception("sweep failed")
