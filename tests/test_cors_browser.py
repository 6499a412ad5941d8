"""A partner page on another origin revalidates a feed with fetch() and If-None-Match:
the browser sends a CORS preflight first, and the 304 must come through."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from playwright.sync_api import Page

from feedsvc.db import database
from feedsvc.demo import load_demo


class PartnerPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        body = b"<!doctype html><title>partner</title><p>partner site</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def partner_origin() -> Iterator[str]:
    """A second loopback origin (another host name and port than the feeds)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PartnerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()


REVALIDATE = """async (url) => {
  const first = await fetch(url, {cache: "no-store"});
  const etag = first.headers.get("ETag");
  const modified = first.headers.get("Last-Modified");
  await first.text();
  const again = await fetch(url, {cache: "no-store", headers: {"If-None-Match": etag}});
  return {first: first.status, etag, modified, again: again.status};
}"""


def test_a_partner_page_revalidates_a_feed_through_cors(
    app: Flask, live_server: str, partner_origin: str, page: Page
) -> None:
    with app.app_context():
        load_demo(database(), ("zh-Hans",))
    page.goto(partner_origin)
    result = page.evaluate(REVALIDATE, f"{live_server}/zh-hans/feed.json")
    assert result["first"] == 200 and result["etag"], result
    assert result["again"] == 304, result
    assert result["modified"], "Last-Modified is exposed to the partner's script"
