"""`feedsvc serve` is production-shaped: gunicorn with several workers, and /metrics
sums what every worker counted."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import make_config

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on a connection of its own (so gunicorn may hand it to any worker)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_serve_runs_gunicorn_workers_and_metrics_add_up(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    environment = (
        os.environ
        | make_config(database_url)
        | {
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            # Each worker is replaced after 10 requests: the sum must include the requests
            # of workers that are gone, which no single process's counters can show.
            "GUNICORN_CMD_ARGS": "--max-requests 10",
        }
    )
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feedsvc.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--threads",
            "2",
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, _ = get(port, "/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert status == 200
        assert headers["server"].startswith("gunicorn"), headers
        for _ in range(59):
            assert get(port, "/healthz")[0] == 200
        _, _, metrics = get(port, "/metrics")
        counted = sum(
            float(value)
            for value in re.findall(
                rb'^feedsvc_http_requests_total\{[^}]*endpoint="/healthz"[^}]*\} (\S+)$',
                metrics,
                re.MULTILINE,
            )
        )
        assert counted == 60, "every worker's requests are in the sum"
        log_text = (tmp_path / "serve.log").read_text()
        assert len(set(re.findall(r"Booting worker with pid: (\d+)", log_text))) >= 6
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        log.close()
