"""Browser-test fixtures: an app on a live server, Debian's chromium driven by Playwright.

Import what a test uses, e.g. ``from tests.browser import live_server, page, screenshot``.
The browser is Debian's ``chromium`` package (``apt-get install chromium``), never a
Playwright download. ``page`` opens in locale DEFAULT_LOCALE; for another, parametrize it
indirectly, ``@pytest.mark.parametrize("page", ["zh-CN"], indirect=True)``, or ask the
``new_page`` factory for as many pages, in as many locales, as a test needs.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import skip_or_fail

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def _find_chromium() -> str | None:
    found = os.environ.get("FEEDSVC_CHROMIUM") or shutil.which("chromium")
    if found is None and os.path.exists("/usr/bin/chromium"):
        found = "/usr/bin/chromium"
    return found


CHROMIUM: str | None = _find_chromium()
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container: the sandbox needs user namespaces
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers
]
DEFAULT_LOCALE = "en-US"
ARTIFACTS = Path(os.environ.get("FEEDSVC_ARTIFACTS", "artifacts")) / "screenshots"


def _chromium() -> str:
    """The chromium executable, or skip (fail under FEEDSVC_REQUIRE_SERVICES=1)."""
    if CHROMIUM and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    skip_or_fail("Debian chromium is not installed (apt-get install chromium)")
    raise AssertionError("unreachable: skip_or_fail raises")


def dev_server(app: WSGIApplication, port: int = 0) -> BaseWSGIServer:
    """werkzeug's threaded server for ``app`` on 127.0.0.1 (``port`` 0: a free one), each
    response body read and closed before it is sent. When a browser drops a connection,
    the dev server's clean-up reads the socket first, raises, and never closes the body:
    an open static file, then a ResourceWarning (an error here) in whichever test runs."""

    def closing_body(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return make_server("127.0.0.1", port, closing_body, threaded=True)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port; yield its base URL."""
    server = dev_server(app)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Debian chromium, closed after the test."""
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """A factory: ``new_page("zh-CN", **context_options)`` opens a page in a fresh context."""
    contexts: list[BrowserContext] = []

    def make(locale: str = DEFAULT_LOCALE, **options: Any) -> Page:
        context = browser.new_context(locale=locale, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, new_page: Callable[..., Page]) -> Page:
    """A page in a fresh context; its locale is the indirect param, else DEFAULT_LOCALE."""
    return new_page(getattr(request, "param", DEFAULT_LOCALE))


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of ``page`` as ARTIFACTS/<name>.png; return its path."""
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name).removesuffix('.png')}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
