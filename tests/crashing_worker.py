"""A worker process whose engine kills it mid-job (SIGKILL), at a given clock time.

Run as ``python -m tests.crashing_worker 2026-01-01T00:00:00+00:00 JOB_ID`` with FEEDSVC_*
variables set: exits 0 when the job was not runnable at that time, dies otherwise."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.engine import Term, Translated
from feedsvc.jobs import jobs


class Crash:
    name = "crash"

    def translate(self, sources: Sequence[str], terms: Sequence[Term] = ()) -> list[Translated]:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


class CrashingEngines:
    def translator(self, source: str, target: str) -> Crash:
        return Crash()


def main(now: datetime, job_id: int) -> int:
    app = create_app()
    with app.app_context():
        worker = jobs().worker
        worker.engines = CrashingEngines()  # type: ignore[assignment]
        worker.clock = lambda: now
        ran = worker.run_next(job_id)
        database().engine.dispose()
    return 3 if ran else 0


if __name__ == "__main__":
    sys.exit(main(datetime.fromisoformat(sys.argv[1]), int(sys.argv[2])))
