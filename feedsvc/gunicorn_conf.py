"""gunicorn for ``feedsvc serve``: the command line, and the server hooks it loads.

Several worker processes each count requests; ``/metrics`` must show the sum, so every
process writes its metrics to a shared directory (prometheus_client's multiprocess
mode) that the command creates fresh for each server. gunicorn's own lines go through
feedsvc's logging configuration (``GunicornLogger``), so the server writes one format."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

from gunicorn.config import KNOWN_SETTINGS
from gunicorn.glogging import Logger
from prometheus_client import multiprocess

from . import logs
from .config import log_options

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def gunicorn_command(
    host: str, port: int, workers: int, threads: int
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run the app under gunicorn."""
    environment = dict(os.environ)
    directory = environment.get(MULTIPROC_VARIABLE) or tempfile.mkdtemp(prefix="feedsvc-metrics-")
    shutil.rmtree(directory, ignore_errors=True)  # counts of an earlier server are stale
    os.makedirs(directory)
    environment[MULTIPROC_VARIABLE] = directory
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--config",
        "python:feedsvc.gunicorn_conf",
    ]
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        command.append("--no-control-socket")  # gunicorn ≥ 24 shares one per HOME
    return [*command, "feedsvc:create_app()"], environment


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: a dead worker's live gauges leave the sums (counters stay)."""
    if os.environ.get(MULTIPROC_VARIABLE):
        multiprocess.mark_process_dead(worker.pid)


class GunicornLogger(Logger):
    """gunicorn's logger, its error log (boot, worker exits) sent through feedsvc's
    configuration (``FEEDSVC_LOG_FORMAT``, ``FEEDSVC_LOG_LEVEL``) instead of a format of
    its own; an operator's ``--log-config``, ``--error-logfile`` or syslog still wins."""

    def setup(self, cfg: Any) -> None:
        """Drops gunicorn's own error-log handlers unless an operator configured logging."""
        super().setup(cfg)
        chosen = cfg.logconfig or cfg.logconfig_dict or cfg.logconfig_json or cfg.syslog
        if chosen or cfg.errorlog != "-":
            return
        for handler in list(self.error_log.handlers):
            if getattr(handler, "_gunicorn", False):
                self.error_log.removeHandler(handler)
        self.error_log.propagate = True
        logs.configure(*log_options(os.environ))


logger_class = GunicornLogger  # read by gunicorn from this module (--config)
