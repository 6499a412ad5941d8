"""A real gunicorn serving feedsvc in a subprocess, and a plain http.client to talk to it.

``GunicornServer.start(config, directory)`` runs ``gunicorn wsgi:app`` with the given
``FEEDSVC_*`` settings in its environment, binds a free port on 127.0.0.1, waits for
``/healthz`` and logs everything (gunicorn and the app, levels included) to a file, so a
test can look for tracebacks in what the workers wrote.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gunicorn.config

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
# Lines that mean a worker hit something unexpected: a traceback, a warning or worse.
TROUBLE = re.compile(r"Traceback|\[(WARNING|ERROR|CRITICAL)\]")
GENERIC_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
# gunicorn's records, the app's (INFO and up) and any library's warnings go to stderr,
# each with its level and logger name.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {
        "feedsvc": {"level": "INFO"},
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "stream": "ext://sys.stderr",
        }
    },
    "formatters": {"generic": {"format": GENERIC_FORMAT, "class": "logging.Formatter"}},
}


@dataclass(frozen=True)
class Reply:
    """One HTTP response, read in full."""

    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")


def _has_setting(name: str) -> bool:
    return any(setting.name == name for setting in gunicorn.config.KNOWN_SETTINGS)


class GunicornServer:
    """A gunicorn process group serving ``wsgi:app``; ``stop()`` ends it."""

    def __init__(self, process: subprocess.Popen[bytes], log_path: Path, port: int) -> None:
        self.process = process
        self.log_path = log_path
        self.port = port
        self.base_url = f"http://{HOST}:{port}"

    @classmethod
    def start(
        cls,
        config: Mapping[str, str],
        directory: Path,
        workers: int = 4,
        timeout: float = 30.0,
    ) -> GunicornServer:
        """Start gunicorn with ``config`` added to the environment; wait until it serves."""
        directory.mkdir(parents=True, exist_ok=True)
        log_path = directory / "gunicorn.log"
        log_config = directory / "gunicorn-logging.json"
        log_config.write_text(json.dumps(LOG_CONFIG))
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:0",
            "--log-config-json",
            str(log_config),
            "--graceful-timeout",
            "10",
        ]
        if _has_setting("control_socket_disable"):  # gunicorn ≥ 24: one socket per HOME
            command.append("--no-control-socket")
        command.append("wsgi:app")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=os.environ | dict(config),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the workers too
            )
        server: GunicornServer | None = None
        try:
            port = cls._wait_for_port(process, log_path, timeout)
            server = cls(process, log_path, port)
            server._wait_until_healthy(timeout)
        except BaseException:
            if server is None:
                server = cls(process, log_path, 0)
            server.stop()
            raise
        return server

    @staticmethod
    def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (found := LISTENING.search(log_path.read_text(errors="replace"))) is not None:
                return int(found.group(1))
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not start:\n{log_path.read_text(errors='replace')}")

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if (reply := self.request("GET", "/healthz", timeout=5)).status == 200:
                    return
                last = reply.status
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not healthy ({last!r}):\n{self.log()}")

    def connection(self, timeout: float = 60.0) -> http.client.HTTPConnection:
        """A connection already open, so a request on it can start at once."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        connection.connect()
        return connection

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        connection: http.client.HTTPConnection | None = None,
        timeout: float = 60.0,
    ) -> Reply:
        """Send one request (on ``connection`` if given, which is then closed)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        connection = connection or http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            received = {name.lower(): value for name, value in response.getheaders()}
            return Reply(response.status, received, data, time.monotonic() - started)
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def trouble(self) -> list[str]:
        """Log lines showing a traceback, a warning or an error."""
        return [line for line in self.log().splitlines() if TROUBLE.search(line)]

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the process group (graceful), SIGKILL if it lingers."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
