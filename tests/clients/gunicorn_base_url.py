"""gunicorn settings that make FEEDSVC_BASE_URL the server's own address.

Feed readers follow the links a feed gives them, so the client suite needs feeds whose
links point at the live test server; its port is known only once gunicorn has bound
``127.0.0.1:0``. ``when_ready`` runs in the arbiter after binding and before any worker is
forked, and the workers load the app (no ``--preload``) with the environment set here.
Use it as ``GUNICORN_CMD_ARGS="--config python:tests.clients.gunicorn_base_url"``.
"""

from __future__ import annotations

import os

from gunicorn.arbiter import Arbiter


def when_ready(server: Arbiter) -> None:
    """Point the app's absolute URLs at the first address gunicorn listens on."""
    host, port = server.LISTENERS[0].getsockname()[:2]
    os.environ["FEEDSVC_BASE_URL"] = f"http://{host}:{port}"
