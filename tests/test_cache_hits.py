"""Cache hits and 304s without the database; one render per change across processes.

SQL is counted with engine events on the requesting thread (the test client runs the
request there): a hit must execute no statement and check out no connection, while a miss
after a change must execute some, so the count can tell the two apart. Other processes'
writes are seen within the documented bound (``feeds/scopes.py``): two apps on one
database here, and real gunicorn workers with Redis below.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.feeds.http import RenderCache, Rendered
from feedsvc.feeds.scopes import EXTENSION_KEY as SCOPES
from feedsvc.feeds.shared import RedisRenders
from feedsvc.store import Store
from feedsvc.web.feeds import CachedFeeds, known_query
from tests.conftest import Api, make_config, running_app, skip_or_fail
from tests.live_server import GunicornServer

BASE = "http://feeds.test"
# A site feed, section feeds (one nested), both OPML lists: answered before Flask
# (web.feeds.CachedFeeds); with a query string, through Flask's routing and the views.
HIT_URLS = [
    "/en/feed.atom",
    "/en/news/feed.rss",
    "/zh-hans/news/media-views-of-huangpu/feed.json",
    "/feeds.opml",
    "/zh-hans/feeds.opml",
    "/en/feed.atom?utm_source=x",
    "/fr/news/feed.json?limit=5",
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


def test_the_hit_path_before_flask_answers_as_the_views_do(demo: Flask) -> None:
    """Same status line, headers (in order) and bytes as the view gives for the same
    feed, asked for with a parameter it knows spelled as its default (which only the view
    answers); and counted the same."""
    client = demo.test_client()
    fast_path = demo.wsgi_app
    while not isinstance(fast_path, CachedFeeds):  # under the request-id middleware
        fast_path = fast_path.wsgi_app  # type: ignore[attr-defined]
    for url in [url for url in HIT_URLS if "?" not in url]:
        via_view = f"{url}?leaves=0" if url.endswith(".opml") else f"{url}?page=1"
        assert known_query(via_view.partition("?")[2]), f"{via_view} would be a hit"
        for accept in ("", "gzip", "br, gzip;q=0.5"):
            first = client.get(url, base_url=BASE, headers={"Accept-Encoding": accept})
            assert fast_path.hit(url) is not None, f"{url} is not a hit"
            for conditional in (
                {},
                {"If-None-Match": first.headers["ETag"]},
                {"If-None-Match": '"other", ' + first.headers["ETag"]},
                {"If-Modified-Since": first.headers["Last-Modified"]},
                {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"},
                {"If-None-Match": '"other"', "If-Modified-Since": first.headers["Last-Modified"]},
            ):
                # One request id for both, so its echo is the same too.
                headers = {"Accept-Encoding": accept, "X-Request-ID": "same-id"} | conditional
                for method in ("GET", "HEAD"):
                    fast = client.open(url, method=method, base_url=BASE, headers=headers)
                    view = client.open(via_view, method=method, base_url=BASE, headers=headers)
                    what = f"{method} {url} {headers}"
                    assert fast.status == view.status, what
                    assert fast.headers.to_wsgi_list() == view.headers.to_wsgi_list(), what
                    assert fast.get_data() == view.get_data(), what
    metrics = client.get("/metrics").get_data(as_text=True)
    for pattern, status in (("/<lang:lang_tag>/feed.", "304"), ("/feeds.opml", "200")):
        assert re.search(
            rf'^feedsvc_http_requests_total\{{endpoint="{re.escape(pattern)}[^"]*",'
            rf'method="HEAD",status="{status}"\}} [1-9]',
            metrics,
            re.M,
        ), (pattern, status)


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


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("FEEDSVC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_timeout=3).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis not reachable at {url} ({exc})")
    yield url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; only its keys are deleted afterwards."""
    prefix = f"feedsvc-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


def test_redis_lock_lets_one_of_many_processes_render(redis_url: str, redis_prefix: str) -> None:
    """Eight caches with clients of their own (as eight workers would have) miss at once."""
    calls: list[int] = []

    def render() -> Rendered:
        calls.append(1)
        time.sleep(0.2)  # long enough for every other one to find the lock taken
        return Rendered(b"<feed/>", "application/atom+xml", datetime.now(UTC))

    barrier = threading.Barrier(8)

    def worker(_n: int) -> bytes:
        shared = RedisRenders(redis.Redis.from_url(redis_url), redis_prefix, 60)
        barrier.wait(10)
        rendered = shared.get_or_render(("http://feeds.test/en/feed.atom", 7), render)
        assert rendered.encoded("gzip")  # every encoding came along from Redis
        return rendered.body

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(worker, range(8))) == [b"<feed/>"] * 8
    assert calls == [1]


def test_the_grace_window_is_one_for_every_process(redis_url: str, redis_prefix: str) -> None:
    """Worker A renders version 1; worker B, asked for version 2 within the window, serves
    A's render instead of making one; once the window has passed B renders."""
    calls: list[bytes] = []

    def render(body: bytes) -> Callable[[], Rendered]:
        def make() -> Rendered:
            calls.append(body)
            return Rendered(body, "application/atom+xml", datetime.now(UTC))

        return make

    def worker(grace: float) -> RenderCache:
        shared = RedisRenders(redis.Redis.from_url(redis_url), redis_prefix, 60)
        return RenderCache(shared=shared, grace=grace)

    url = "http://feeds.test/en/feed.atom"
    first, second = worker(30), worker(30)
    assert first.get_or_render((url, 1), render(b"v1"), url).body == b"v1"
    assert second.get_or_render((url, 2), render(b"v2"), url).body == b"v1"
    assert second.peek((url, 3), url) is not None, "the hit path serves it too"
    assert calls == [b"v1"]
    assert worker(0.001).get_or_render((url, 2), render(b"v2"), url).body == b"v2"
    assert calls == [b"v1", b"v2"]


def test_without_redis_a_worker_renders_alone(redis_prefix: str) -> None:
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    shared = RedisRenders(unreachable, redis_prefix, 60)
    made = Rendered(b"{}", "application/feed+json", datetime.now(UTC))
    assert shared.get_or_render("key", lambda: made) is made


def feed_renders(server: GunicornServer) -> float:
    """``feedsvc_feed_renders`` summed over every worker (multiprocess metrics)."""
    text = server.request("GET", "/metrics").body.decode()
    return sum(
        float(value)
        for value in re.findall(r"^feedsvc_feed_renders_total\{.*\} (\S+)$", text, re.M)
    )


@pytest.fixture
def serve_with_redis(
    database_url: str, tmp_path: Path, redis_url: str, redis_prefix: str
) -> Iterator[Callable[[], GunicornServer]]:
    servers: list[GunicornServer] = []

    def start() -> GunicornServer:
        config = make_config(
            database_url,
            FEEDSVC_REDIS_URL=redis_url,
            FEEDSVC_REDIS_PREFIX=redis_prefix,
            FEEDSVC_SCOPE_POLL_SECONDS=str(POLL),
        ) | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
        (tmp_path / "metrics").mkdir()
        server = GunicornServer.start(config, tmp_path / "gunicorn", workers=4)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_32_concurrent_requests_after_a_change_render_once_across_workers(
    demo: Flask, editor: Api, serve_with_redis: Callable[[], GunicornServer]
) -> None:
    server = serve_with_redis()
    url = "/en/news/feed.atom"
    # First sight: requests on new connections reach several workers; one renders.
    for _ in range(8):
        assert server.request("GET", url).status == 200
    assert feed_renders(server) == 1

    # Written by another process (this one); every worker learns of it within the bound.
    edit_title_in_news(editor, "One render for everyone")
    time.sleep(BOUND)
    before = feed_renders(server)
    barrier = threading.Barrier(32)

    def read(_n: int) -> tuple[int, bytes]:
        connection = server.connection()
        barrier.wait(30)
        reply = server.request("GET", url, connection=connection)
        return reply.status, reply.body

    with ThreadPoolExecutor(32) as pool:
        replies = list(pool.map(read, range(32)))
    assert {status for status, _ in replies} == {200}
    assert len({body for _, body in replies}) == 1
    assert b"One render for everyone" in replies[0][1]
    assert feed_renders(server) - before == 1
    assert not server.trouble(), server.log()[-5000:]


def test_a_database_outage_leaves_cached_feeds_served(demo: Flask) -> None:
    """Hits need no database; a failed reload of the scopes must not change that."""
    client = demo.test_client()
    assert client.get("/en/feed.atom").status_code == 200
    snapshot = demo.extensions[SCOPES]
    known = snapshot.current()

    def unreachable() -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("database down"))

    snapshot._read = unreachable  # what a stopped database server does to a reload
    snapshot.invalidate()
    assert snapshot.current() is known
    assert client.get("/en/feed.atom").status_code == 200


def test_a_change_nobody_announced_is_still_noticed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listener whose connection died silently hears no NOTIFY: the watcher also reads
    the root scope now and then (SQLite: that is all it does)."""
    monkeypatch.setattr("feedsvc.feeds.scopes.CHECK_SECONDS", 0.2)
    with running_app(database_url, FEEDSVC_SCOPE_POLL_SECONDS="0.2") as app:
        with app.app_context():
            load_demo(database())
            engine = database().engine
        snapshot = app.extensions[SCOPES]
        snapshot.current()
        time.sleep(1)  # the watcher is up (a listener's first connection reloads once)
        before = snapshot.current().root_version
        with engine.begin() as connection:  # outside the app's sessions: no pg_notify
            connection.execute(text("UPDATE feed_scopes SET version = version + 1 WHERE path = ''"))
        deadline = time.monotonic() + 10
        while snapshot.current().root_version == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert snapshot.current().root_version == before + 1


def test_an_unreadable_shared_entry_is_a_miss(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    shared = RedisRenders(client, redis_prefix, 60)
    key = ("http://feeds.test/en/feed.atom", 3)
    client.hset(f"{redis_prefix}render:{shared._name(key)}", mapping={"meta": b"{not json"})
    made = Rendered(b"<feed/>", "application/atom+xml", datetime.now(UTC))
    assert shared.get_or_render(key, lambda: made).body == b"<feed/>"


def test_a_savepoint_rolled_back_keeps_the_change_announced(demo: Flask) -> None:
    """A write that touched a scope, then rolled back a savepoint of its own (a bad line
    of an import), still commits its change: the snapshot must hear of it."""
    snapshot = demo.extensions[SCOPES]
    snapshot.current()
    with demo.app_context():
        with database().session() as session:
            Store(session).feeds.touch(["news"], datetime.now(UTC))
            with pytest.raises(LookupError), session.begin_nested():
                raise LookupError("a bad line")
        wanted = snapshot._wanted
        assert snapshot._loaded != wanted, "invalidated: the next reading reloads"
