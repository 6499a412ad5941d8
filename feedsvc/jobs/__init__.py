"""Durable translation jobs: rows in the database are the truth; a worker thread, the
``feedsvc worker`` process or RQ on Redis only decide who runs them and when.

``worker`` runs jobs, ``dispatch`` tells a runner about them, ``process`` is the
``feedsvc worker`` command and RQ's job functions, ``extension`` wires them into an app.
RQ messages name ``feedsvc.jobs.run_rq_job`` and ``feedsvc.jobs.run_rq_sweep``: keep them
importable from here."""

from __future__ import annotations

from .dispatch import Dispatcher, NoDispatcher, RqDispatcher, ThreadDispatcher
from .extension import (
    EXACT,
    EXTENSION_KEY,
    INTERNAL_REQUEST,
    NOT_READ,
    WARM,
    JobsExtension,
    init_app,
    jobs,
    packages_dir,
)
from .process import run_rq_job, run_rq_sweep, run_worker, sweep_due_jobs
from .worker import LEASE, MAX_ATTEMPTS, RETRY, ScopeSweep, Worker, backoff

__all__ = [
    "EXACT",
    "EXTENSION_KEY",
    "INTERNAL_REQUEST",
    "LEASE",
    "MAX_ATTEMPTS",
    "NOT_READ",
    "RETRY",
    "WARM",
    "Dispatcher",
    "JobsExtension",
    "NoDispatcher",
    "RqDispatcher",
    "ScopeSweep",
    "ThreadDispatcher",
    "Worker",
    "backoff",
    "init_app",
    "jobs",
    "packages_dir",
    "run_rq_job",
    "run_rq_sweep",
    "run_worker",
    "sweep_due_jobs",
]
