"""Dispatchers: who is told that jobs are waiting. The database holds the jobs either way;
a dispatcher only hands their ids to a runner (this process's thread, RQ on Redis, or no
one: a ``feedsvc worker`` process polls)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from .worker import Worker

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

log = logging.getLogger(__name__)
RQ_QUEUE = "feedsvc-translation"
RQ_SCOPES_QUEUE = "feedsvc-scopes"  # sweeps after scope changes (feedsvc.publish)
# The job functions RQ imports by name. Messages already in Redis name these paths: they
# stay importable from ``feedsvc.jobs`` whichever module defines them.
RQ_JOB_FUNCTION = "feedsvc.jobs.run_rq_job"
RQ_SWEEP_FUNCTION = "feedsvc.jobs.run_rq_sweep"
SWEEP_PENDING_KEY = "scope-sweep-pending"  # after FEEDSVC_REDIS_PREFIX
SWEEP_PENDING_SECONDS = 300  # a lost sweep message blocks new ones at most this long
REDIS_TIMEOUT_SECONDS = 2  # connect and reply: past this the job waits for the sweep


class Dispatcher(Protocol):
    """The seam between queueing a job (a commit) and running it (some process)."""

    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        """Hand jobs to whoever runs them; the ids that could not be handed over now (they
        wait in the database for the next sweep)."""

    def queue_state(self) -> str:
        """ "ok", or "unreachable" when the queue the jobs go through cannot be reached."""

    def scopes_changed(self) -> None:
        """A commit changed feed scopes: sweep soon (called after the commit)."""

    def stop(self) -> None:
        """Stop what this dispatcher started (a thread); nothing for the others."""


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
        """Start the thread unless it runs: jobs left by another process then run here."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._loop, name="feedsvc-worker", daemon=True
                )
                self._thread.start()

    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        """Wake the thread; it finds the jobs in the database."""
        handed = list(job_ids)
        for job_id in handed:
            log.info("job queued queue=thread", extra={"job_id": job_id})
        if handed:
            self.start()
            self._wake.set()
        return []

    def queue_state(self) -> str:
        """Always "ok": the queue is this process's own."""
        return "ok"

    def scopes_changed(self) -> None:
        """Wake a running thread only: a CLI command (whose app never starts one) leaves
        its changes to the server's periodic pass."""
        self._wake.set()

    def stop(self) -> None:
        """Let the thread finish its job and end (tests, shutdown)."""
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
        self.connection: Redis = Redis.from_url(
            redis_url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.queue: Queue = Queue(RQ_QUEUE, connection=self.connection)
        self.scopes_queue: Queue = Queue(RQ_SCOPES_QUEUE, connection=self.connection)

    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        """Enqueue one RQ message per job; after a Redis error the rest wait for the sweep."""
        from redis.exceptions import RedisError

        deferred: list[int] = []
        for job_id in job_ids:
            if deferred:  # Redis just failed: do not wait on it once per job
                deferred.append(job_id)
                continue
            message_id = f"feedsvc-{job_id}-{uuid.uuid4().hex[:12]}"
            try:
                self.queue.enqueue(RQ_JOB_FUNCTION, job_id, job_id=message_id)
            except RedisError as exc:
                # The job is safe in the database; the worker's sweep enqueues it later.
                log.warning("could not enqueue job error=%s", exc, extra={"job_id": job_id})
                deferred.append(job_id)
            else:
                log.info("job queued queue=rq message=%s", message_id, extra={"job_id": job_id})
        return deferred

    def queue_state(self) -> str:
        """ "unreachable" when Redis does not answer a PING."""
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
                    RQ_SWEEP_FUNCTION, job_id=f"feedsvc-sweep-{uuid.uuid4().hex[:12]}"
                )
        except RedisError as exc:  # the worker's periodic sweep catches up
            log.warning("could not enqueue a scope sweep error=%s", exc)

    def stop(self) -> None:
        """Nothing runs in this process."""


class NoDispatcher:
    """FEEDSVC_WORKER=none: jobs wait in the database for a ``feedsvc worker`` process."""

    def dispatch(self, job_ids: Iterable[int]) -> list[int]:
        """Nothing to hand over: a ``feedsvc worker`` process polls the database."""
        for job_id in job_ids:
            log.info("job queued queue=database", extra={"job_id": job_id})
        return []

    def queue_state(self) -> str:
        """Always "ok": the queue is the database."""
        return "ok"

    def scopes_changed(self) -> None:
        """The worker process's periodic pass sweeps."""

    def stop(self) -> None:
        """Nothing runs in this process."""
