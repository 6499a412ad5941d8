"""The jobs extension of an app: the engine wiring, the worker, the dispatcher chosen by
configuration, and ``jobs()`` for code that runs inside the app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, request

from ..config import Settings
from ..db import Database
from ..engine.argos import EngineOptions, Engines
from ..engine.packages import Packages
from .dispatch import Dispatcher, NoDispatcher, RqDispatcher, ThreadDispatcher
from .worker import Worker

EXTENSION_KEY = "feedsvc.jobs"
INTERNAL_REQUEST = "feedsvc.internal"  # WSGI environ key of the app's requests to itself
# ... and what they ask for: the current version's bytes, to publish (never a render the
# grace window would still serve), or a render ahead of readers (what they would get).
EXACT, WARM = "exact", "warm"
NOT_READ = 204  # the answer to a warming GET of a feed no reader has asked for


@dataclass
class JobsExtension:
    """What an app keeps for jobs: who runs them, who is told, where the models live."""

    worker: Worker
    dispatcher: Dispatcher
    packages: Packages

    def dispatch_from_command(self, job_ids: Iterable[int]) -> None:
        """A short-lived command starts no worker thread: the server's worker polls the
        queue; only RQ needs to be told."""
        if isinstance(self.dispatcher, RqDispatcher):
            self.dispatcher.dispatch(job_ids)


def packages_dir(app: Flask, settings: Settings) -> str:
    """Where Argos packages are installed: configured, or the app's instance folder."""
    return settings.argos_packages_dir or f"{app.instance_path}/argos-packages"


def init_app(app: Flask, settings: Settings, database: Database) -> JobsExtension:
    """Build the engines, the worker and the configured dispatcher; start nothing yet."""
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
    """The current app's jobs extension."""
    extension: JobsExtension = current_app.extensions[EXTENSION_KEY]
    return extension
