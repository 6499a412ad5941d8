"""nginx with the committed ``deploy/nginx.conf``, in the foreground, on a free port.

Only the values on the lines the file marks ``(test: …)`` change: the listen address, the
publish directory, the app's address and the log directory. pid file and start-up log go
to the test's directory through the command line; ``stop()`` ends the master, which ends
its workers.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from tests.live_server import Reply

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "nginx.conf"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
HOST = "127.0.0.1"
MARKER = re.compile(r"#\s*\(test: (\w+)\)\s*$")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


def missing() -> str | None:
    """Why nginx cannot run here, or None."""
    if nginx_binary() is None:
        return "nginx is not installed (apt-get install nginx libnginx-mod-http-brotli-static)"
    if not BROTLI_MODULE.exists():
        return f"{BROTLI_MODULE} is missing (apt-get install libnginx-mod-http-brotli-static)"
    return None


def render_config(port: int, root: Path, upstream: str, logs: Path, extra_http: str = "") -> str:
    """The committed file with the marked values replaced (each marker must be found), and
    ``extra_http`` (another server block, say) added at the end of its ``http`` block."""
    replacements = {
        "listen": lambda line: re.sub(r"listen \S+;", f"listen {HOST}:{port};", line),
        "root": lambda line: re.sub(r"root \S+;", f"root {root};", line),
        "upstream": lambda line: re.sub(r"server \S+;", f"server {upstream};", line),
        "logs": lambda line: line.replace("/var/log/nginx/", f"{logs}/"),
    }
    found: set[str] = set()
    lines = []
    for line in CONFIG.read_text().splitlines():
        if (marked := MARKER.search(line)) is not None:
            name = marked.group(1)
            replaced = replacements[name](line)
            assert replaced != line, f"deploy/nginx.conf: nothing to replace on {line!r}"
            found.add(name)
            line = replaced
        lines.append(line)
    lacking = set(replacements) - found
    assert not lacking, f"deploy/nginx.conf has no line marked (test: …) for {lacking}"
    text = "\n".join(lines) + "\n"
    if extra_http:
        end = text.rstrip().rfind("}")  # the http block closes the file
        text = text[:end] + extra_http + "\n" + text[end:]
    return text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class NginxServer:
    """A foreground nginx master (``daemon off``) serving ``root``; ``stop()`` ends it."""

    def __init__(self, process: subprocess.Popen[bytes], directory: Path, port: int) -> None:
        self.process = process
        self.directory = directory
        self.port = port
        self.base_url = f"http://{HOST}:{port}"

    @classmethod
    def start(
        cls,
        root: Path,
        upstream: str,
        directory: Path,
        extra_http: str = "",
        timeout: float = 10.0,
    ) -> NginxServer:
        directory.mkdir(parents=True, exist_ok=True)
        logs = directory / "logs"
        logs.mkdir(exist_ok=True)
        port = free_port()
        config = directory / "nginx.conf"
        config.write_text(render_config(port, root, upstream, logs, extra_http))
        binary = nginx_binary()
        assert binary is not None
        command = [
            binary,
            "-p",
            str(directory),
            "-c",
            str(config),
            "-e",
            str(logs / "startup.log"),
            "-g",
            f"daemon off; pid {directory / 'nginx.pid'};",
        ]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a SIGKILL reaches the workers
        )
        server = cls(process, directory, port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                return server
            except OSError:
                time.sleep(0.05)
        server.stop()
        raise RuntimeError(f"nginx did not start:\n{server.log()}")

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Reply:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.request(method, path, headers=dict(headers or {}))
            response = connection.getresponse()
            body = response.read()
            received = {name.lower(): value for name, value in response.getheaders()}
            return Reply(response.status, received, body, time.monotonic() - started)
        finally:
            connection.close()

    def log(self) -> str:
        logs = self.directory / "logs"
        return "\n".join(
            f"== {path.name}\n{path.read_text(errors='replace')}"
            for path in sorted(logs.glob("*.log"))
            if "access" not in path.name
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGQUIT: a graceful stop of the master and its workers; SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
