"""One render per change: concurrent requests for a just-invalidated feed wait for one
render, and query parameters that do not change the feed never cause another."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree

from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.feeds.http import RenderCache, Rendered
from feedsvc.jobs import jobs
from tests.conftest import Api, running_app
from tests.test_feeds import renders
from tests.test_publish import editor_api

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


def rendered(body: bytes) -> Rendered:
    return Rendered(body, "text/plain", datetime.now(UTC))


def test_within_the_grace_window_a_changed_feed_serves_its_last_render(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under continuous writes a feed renders at most once per window: the first request
    after a change still gets the last render, the first one after the window the new."""
    clock = [1000.0]
    monkeypatch.setattr("feedsvc.feeds.http.time.monotonic", lambda: clock[0])
    with running_app(database_url, FEEDSVC_FEED_GRACE_SECONDS="30") as app:
        with app.app_context():
            load_demo(database())
        client, editor = app.test_client(), editor_api(app)
        first = client.get("/en/news/feed.atom")
        article = editor.get("/articles?section=news&per_page=1").json["items"][0]
        edited = editor.patch(
            f"/articles/{article['id']}",
            {"title": "Edited in the window"},
            headers={"If-Match": "*"},
        )
        assert edited.status_code == 200
        before = renders(app)
        clock[0] += 29
        assert client.get("/en/news/feed.atom").data == first.data
        assert renders(app) == before
        clock[0] += 2
        fresh = client.get("/en/news/feed.atom")
        assert b"Edited in the window" in fresh.data
        assert renders(app) == before + 1


def test_while_a_render_runs_others_get_the_last_one_instead_of_waiting() -> None:
    cache = RenderCache(grace=5)
    cache.get_or_render(("/feed", 1), lambda: rendered(b"v1"), "/feed")
    started, release = threading.Event(), threading.Event()

    def slow() -> Rendered:
        started.set()
        release.wait(10)
        return rendered(b"v2")

    # the window is measured from the v1 render: move past it
    cache._latest["/feed"] = (cache._latest["/feed"][0], time.monotonic() - 6)
    leader = threading.Thread(target=cache.get_or_render, args=(("/feed", 2), slow, "/feed"))
    leader.start()
    assert started.wait(10)
    assert cache.get_or_render(("/feed", 2), slow, "/feed").body == b"v1"
    release.set()
    leader.join(10)
    assert cache.get_or_render(("/feed", 2), slow, "/feed").body == b"v2"
    assert RenderCache().get_or_render(("/feed", 2), lambda: rendered(b"x"), "/feed").body == b"x"


def test_publishing_never_takes_a_render_from_the_grace_window(
    database_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "public"
    with running_app(
        database_url, FEEDSVC_PUBLISH_DIR=str(root), FEEDSVC_FEED_GRACE_SECONDS="3600"
    ) as app:
        with app.app_context():
            load_demo(database())
            jobs().worker.run_pending()
        editor = editor_api(app)
        assert app.test_client().get("/en/news/feed.atom").status_code == 200
        article = editor.get("/articles?section=news&per_page=1").json["items"][0]
        edited = editor.patch(
            f"/articles/{article['id']}", {"title": "Published at once"}, headers={"If-Match": "*"}
        )
        assert edited.status_code == 200
        with app.app_context():
            jobs().worker.run_pending()
        assert b"Published at once" in (root / "en/news/feed.atom").read_bytes()
