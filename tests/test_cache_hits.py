"""Cache hits and 304s without the database; one render per change across processes.

SQL is counted with engine events on the requesting thread (the test client runs the
request there): a hit must execute no statement and check out no connection, while a miss
after a change must execute some, so the count can tell the two apart. Other processes'
writes are seen within the documented bound (``feeds/scopes.py``): two apps on one
database, as two gunicorn workers would be.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event

from feedsvc.db import database
from feedsvc.demo import load_demo
from tests.conftest import Api, running_app

BASE = "http://feeds.test"
# A site feed, section feeds (one nested), both OPML lists.
HIT_URLS = [
    "/en/feed.atom",
    "/en/news/feed.rss",
    "/zh-hans/news/media-views-of-huangpu/feed.json",
    "/feeds.opml",
    "/en/feeds.opml?leaves=1",
]
POLL = 0.2  # FEEDSVC_SCOPE_POLL_SECONDS in these tests
BOUND = POLL + 1.0  # the poll interval, one reload, and room for a busy 2-core machine


@contextmanager
def sql_on_this_thread(engine: Engine) -> Iterator[list[str]]:
    """Statements executed, and connections checked out, by the calling thread."""
    seen: list[str] = []
    me = threading.get_ident()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if threading.get_ident() == me:
            seen.append(sql)

    def checkout(*_args: Any) -> None:
        if threading.get_ident() == me:
            seen.append("<pool checkout>")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "checkout", checkout)


def edit_title_in_news(editor: Api, title: str) -> None:
    article = editor.get("/articles?section=news&per_page=1").json["items"][0]
    response = editor.patch(
        f"/articles/{article['id']}", {"title": title}, headers={"If-Match": "*"}
    )
    assert response.status_code == 200, response.json


@pytest.fixture
def demo(app: Flask) -> Flask:
    with app.app_context():
        load_demo(database())
    return app


def test_hits_and_304s_run_no_sql_and_a_miss_does(demo: Flask, editor: Api) -> None:
    client = demo.test_client()
    with demo.app_context():
        engine = database().engine
    validators = {}
    for url in HIT_URLS:
        first = client.get(url, base_url=BASE, headers={"Accept-Encoding": "gzip"})
        assert first.status_code == 200, url
        validators[url] = (first.headers["ETag"], first.headers["Last-Modified"], first.data)

    def hits() -> None:
        for url, (etag, last_modified, data) in validators.items():
            gzip_only = {"Accept-Encoding": "gzip"}
            again = client.get(url, base_url=BASE, headers=gzip_only)
            assert (again.status_code, again.data) == (200, data), url
            by_etag = client.get(url, base_url=BASE, headers=gzip_only | {"If-None-Match": etag})
            assert (by_etag.status_code, by_etag.data) == (304, b""), url
            assert by_etag.headers["ETag"] == etag
            by_date = client.get(url, base_url=BASE, headers={"If-Modified-Since": last_modified})
            assert by_date.status_code == 304, url
            assert client.get(url, base_url=BASE).status_code == 200  # identity: its own bytes
            assert client.head(url, base_url=BASE).status_code == 200

    with sql_on_this_thread(engine) as on_hits:
        hits()
    assert on_hits == []

    # A change in the news scope: the snapshot reloads and the news feeds render again.
    edit_title_in_news(editor, "A title the cache has not seen")
    with sql_on_this_thread(engine) as on_miss:
        changed = client.get(
            "/en/news/feed.rss", base_url=BASE, headers={"Accept-Encoding": "gzip"}
        )
    assert changed.status_code == 200 and len(on_miss) > 0
    validators["/en/news/feed.rss"] = (
        changed.headers["ETag"],
        changed.headers["Last-Modified"],
        changed.data,
    )
    for url in list(validators):  # the site scope changed too: render those again
        response = client.get(url, base_url=BASE, headers={"Accept-Encoding": "gzip"})
        validators[url] = (
            response.headers["ETag"],
            response.headers["Last-Modified"],
            response.data,
        )
    with sql_on_this_thread(engine) as on_hits_again:
        hits()
    assert on_hits_again == []


def test_unknown_and_moved_sections_still_ask_the_database(demo: Flask, editor: Api) -> None:
    client = demo.test_client()
    assert client.get("/en/news/feed.atom").status_code == 200
    assert client.get("/en/no-such-section/feed.atom").status_code == 404
    moved = editor.patch("/sections/culture", {"path": "arts"})
    assert moved.status_code == 200, moved.json
    redirect = client.get("/en/culture/feed.atom")
    assert redirect.status_code == 301
    assert redirect.headers["Location"].endswith("/en/arts/feed.atom")
    assert client.get("/en/arts/feed.atom").status_code == 200


def test_a_write_in_another_app_is_served_within_the_bound(
    demo: Flask, editor: Api, database_url: str
) -> None:
    """The editor writes through one app; another app on the same database (as another
    gunicorn worker would) learns of it by LISTEN/NOTIFY or by polling."""
    with running_app(database_url, FEEDSVC_SCOPE_POLL_SECONDS=str(POLL)) as reader:
        client = reader.test_client()
        url = "/en/news/feed.atom"
        assert b"Seen elsewhere" not in client.get(url).data
        assert client.get(url).status_code == 200  # a hit: the reader's watcher runs

        edit_title_in_news(editor, "Seen elsewhere")
        written = time.monotonic()
        while b"Seen elsewhere" not in client.get(url).data:
            assert time.monotonic() - written < BOUND, "the change did not arrive in time"
            time.sleep(0.02)

        # A section the reader's snapshot has never seen is served at once, from the store.
        created = editor.post("/sections", {"path": "weather", "names": {"en": "Weather"}})
        assert created.status_code == 201
        assert client.get("/en/weather/feed.atom").status_code == 200
