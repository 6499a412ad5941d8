"""The ``feedsvc worker`` process: an RQ worker when Redis is configured, else a poller
of the database; and the functions RQ calls for each message."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from ..domain import JobStatus
from ..store import Store
from .dispatch import RqDispatcher
from .extension import EXTENSION_KEY, JobsExtension
from .worker import Worker

log = logging.getLogger(__name__)
_rq_app: Flask | None = None


def _rq_application() -> Flask:
    """The app of a ``feedsvc worker`` process, from the environment, built once."""
    global _rq_app
    if _rq_app is None:
        from .. import create_app

        _rq_app = create_app()
    return _rq_app


def run_rq_job(job_id: int) -> bool:
    """The RQ job function of a translation job."""
    app = _rq_application()
    extension: JobsExtension = app.extensions[EXTENSION_KEY]
    with app.app_context():
        return extension.worker.run_next(job_id)


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
    log.info("worker polling the database every %.1fs burst=%s", poll, burst)
    while True:
        worker.wake_jobs_with_models()
        # No Redis: this process's render cache serves no reader, so it only publishes.
        ran = worker.run_pending(warm_cache=False)
        if burst and not ran:
            return
        if not ran:
            threading.Event().wait(poll)


def sweep_due_jobs(worker: Worker, dispatcher: RqDispatcher) -> None:
    """Hand RQ the jobs due in the database (retries, lost messages, woken jobs) and
    sweep the scopes whose sweep message was lost."""
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
