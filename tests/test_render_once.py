"""One render per change: concurrent requests for a just-invalidated feed wait for one
render, and query parameters that do not change the feed never cause another."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from flask import Flask
from lxml import etree

from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.feeds.http import RenderCache, Rendered
from tests.conftest import Api
from tests.test_feeds import renders

ATOM = "{http://www.w3.org/2005/Atom}"


def test_32_concurrent_requests_for_an_invalidated_feed_render_it_once(
    app: Flask, editor: Api
) -> None:
    with app.app_context():
        load_demo(database())
    client = app.test_client()
    assert client.get("/en/news/feed.atom").status_code == 200
    other = editor.get("/articles?section=news&per_page=1").json["items"][0]
    assert (
        editor.patch(f"/articles/{other['id']}", {"title": "Edited"}, headers={"If-Match": "*"})
    ).status_code == 200
    before = renders(app)
    barrier = threading.Barrier(32)
    statuses: list[int] = []

    def read() -> None:
        barrier.wait()
        statuses.append(app.test_client().get("/en/news/feed.atom").status_code)

    threads = [threading.Thread(target=read) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 32
    assert renders(app) - before == 1


def test_other_query_parameters_are_the_same_feed(app: Flask) -> None:
    with app.app_context():
        load_demo(database())
    client = app.test_client()
    first = client.get("/en/feed.atom")
    before = renders(app)
    for url in ("/en/feed.atom?utm_source=x", "/en/feed.atom?limit=20", "/en/feed.atom?page=1"):
        response = client.get(url)
        assert response.data == first.data, url
    assert renders(app) == before
    self_link = next(
        link.get("href")
        for link in etree.fromstring(first.data).findall(f"{ATOM}link")
        if link.get("rel") == "self"
    )
    assert self_link == "http://feeds.test/en/feed.atom"
    assert client.get("/en/feed.atom?limit=5").data != first.data


def test_a_failed_render_reaches_every_waiting_request() -> None:
    cache = RenderCache()
    started, release = threading.Event(), threading.Event()
    errors: list[str] = []

    def failing() -> Rendered:
        started.set()
        release.wait(10)
        raise LookupError("no such page")

    def request(render: object) -> None:
        try:
            cache.get_or_render("key", render)  # type: ignore[arg-type]
        except LookupError as exc:
            errors.append(str(exc))

    leader = threading.Thread(target=request, args=(failing,))
    leader.start()
    assert started.wait(10)
    followers = [threading.Thread(target=request, args=(failing,)) for _ in range(3)]
    for follower in followers:
        follower.start()
    time.sleep(0.1)
    release.set()
    for thread in (leader, *followers):
        thread.join(10)
    assert errors == ["no such page"] * 4
    calls: list[int] = []

    def working() -> Rendered:
        calls.append(1)
        return Rendered(b"ok", "text/plain", datetime.now(UTC))

    assert cache.get_or_render("key", working).body == b"ok", "a failure is not cached"
    assert calls == [1]
