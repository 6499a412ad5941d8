"""WebSub: discovery links in every feed, publish pings to a hub for exactly the feeds
whose entries changed (with retries), and the built-in hub (verification of intent, signed
content distribution, unsubscription, leases). Hubs and subscribers are real HTTP servers
on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from flask import Flask
from lxml import etree

from feedsvc.articles import utcnow
from feedsvc.db import database
from feedsvc.domain import Role
from feedsvc.jobs import jobs
from feedsvc.store import Store
from feedsvc.store.websub import DONE, FAILED, PENDING, Subscription, WebSubJob
from feedsvc.tokens import issue_token
from feedsvc.web.feeds import CACHE_KEY
from feedsvc.websub import EXTENSION_KEY, MIN_LEASE_SECONDS, WebSubSweep
from tests.conftest import Api, article_doc, running_app
from tests.feedcheck import check_atom, check_json_feed, check_rss

BASE = "http://feeds.test"
ATOM = "{http://www.w3.org/2005/Atom}"
FORMATS = ("atom", "rss", "json")
CHECKERS = {"atom": check_atom, "rss": check_rss, "json": check_json_feed}


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None  # X-Hub-Signature checked with the subscriber's secret
    at: float = field(default_factory=time.monotonic)


class Loopback:
    """A hub or subscriber on 127.0.0.1: records every request, answers as told. A GET
    with hub.challenge is a verification of intent: echoed (or not, ``echo=False``)."""

    def __init__(self, secret: str | None = None) -> None:
        self.received: list[Received] = []
        self.secret = secret
        self.post_status = 204
        self.echo = True
        self._lock = threading.Lock()
        self.port = 0
        self.start()

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                query = dict(parse_qsl(urlsplit(self.path).query))
                owner.record(self, b"")
                body = query.get("hub.challenge", "") if owner.echo else "not the challenge"
                self.answer(200, body.encode())

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                owner.record(self, self.rfile.read(length))
                self.answer(owner.post_status, b"")

            def answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(handler.path)
        signature_ok = None
        if self.secret is not None and handler.command == "POST":
            given = handler.headers.get("X-Hub-Signature", "")
            expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            signature_ok = hmac.compare_digest(given, expected)
        with self._lock:
            self.received.append(
                Received(
                    handler.command,
                    parts.path,
                    dict(parse_qsl(parts.query)),
                    dict(handler.headers.items()),
                    body,
                    signature_ok,
                )
            )

    def take(self) -> list[Received]:
        with self._lock:
            taken, self.received = self.received, []
        return taken


@pytest.fixture
def loopbacks() -> Iterator[Callable[..., Loopback]]:
    made: list[Loopback] = []

    def make(secret: str | None = None) -> Loopback:
        made.append(Loopback(secret))
        return made[-1]

    yield make
    for server in made:
        try:
            server.stop()
        except OSError:
            pass


def api_as(app: Flask, role: Role, languages: list[str] | None = None) -> Api:
    with app.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), str(role), role, languages or [])
    return Api(app.test_client(), secret)


def run_worker(app: Flask) -> None:
    with app.app_context():
        jobs().worker.run_pending()


def sweep_of(app: Flask) -> WebSubSweep:
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def websub_jobs(app: Flask, status: str | None = None) -> list[WebSubJob]:
    with app.app_context(), database().session() as session:
        return Store(session).websub.jobs(status)


def subscriptions(app: Flask) -> list[Subscription]:
    with app.app_context(), database().session() as session:
        return Store(session).websub.subscriptions()


def topics(lang: str, scopes: list[str], reviewed: bool = False) -> list[str]:
    suffix = "?only=reviewed" if reviewed else ""
    return [
        f"{BASE}/{lang}/{scope + '/' if scope else ''}feed.{fmt}{suffix}"
        for scope in scopes
        for fmt in FORMATS
    ]


def add_sections(api: Api, *paths: str) -> None:
    for path in paths:
        created = api.post("/sections", {"path": path, "names": {"en": path.title()}})
        assert created.status_code == 201, created.json


# -- discovery --------------------------------------------------------------------


def hubs_in(body: bytes, fmt: str) -> tuple[list[str], list[str]]:
    """The hub and self URLs a feed document names."""
    if fmt == "json":
        document = json.loads(body)
        return [hub["url"] for hub in document.get("hubs", [])], [document["feed_url"]]
    root = etree.fromstring(body)
    links = root.iter(f"{ATOM}link")
    if fmt == "rss":  # channel-level atom:link elements only
        links = root.find("channel").iterchildren(f"{ATOM}link")  # type: ignore[union-attr]
    found = [(link.get("rel"), link.get("href")) for link in links]
    return [h for rel, h in found if rel == "hub"], [h for rel, h in found if rel == "self"]


DISCOVERED = [
    "/en/feed.atom",
    "/en/news/feed.rss",
    "/en/news/feed.json",
    "/zh-hans/news/feed.atom",
    "/zh-hans/feed.rss?only=reviewed",
    "/fr/news/feed.json?only=reviewed",
]


def test_every_feed_names_its_hubs_and_itself_in_the_document_and_headers(
    database_url: str,
) -> None:
    hub = "http://hub.example/publish"
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS=f"{hub},builtin") as app:
        add_sections(api_as(app, Role.EDITOR), "news")
        assert api_as(app, Role.EDITOR).post("/articles", article_doc(section="news")).status_code
        client = app.test_client()
        for path in DISCOVERED:
            fmt = path.split("?")[0].rsplit(".", 1)[1]
            self_url = BASE + path
            expected = f'<{hub}>; rel="hub", <{BASE}/websub>; rel="hub", <{self_url}>; rel="self"'
            first = client.get(path, base_url=BASE)  # rendered by the view
            again = client.get(path, base_url=BASE)  # a hit (the WSGI path when it can be)
            assert first.status_code == again.status_code == 200, path
            assert first.headers["Link"] == again.headers["Link"] == expected, path
            assert hubs_in(first.data, fmt) == ([hub, f"{BASE}/websub"], [self_url]), path
            findings = CHECKERS[fmt](first.data, self_url)  # still valid with the hub links
            assert findings == [], (path, [str(finding) for finding in findings])
            etag = first.headers["ETag"]
            unchanged = client.get(path, base_url=BASE, headers={"If-None-Match": etag})
            assert unchanged.status_code == 304, path
            assert unchanged.headers["Link"] == expected, path
            # The view's 304 (after the cache let go of the render) is the hit path's.
            app.extensions[CACHE_KEY].clear()
            from_view = client.get(path, base_url=BASE, headers={"If-None-Match": etag})
            assert from_view.status_code == 304, path

            def entity(response: Any) -> list[tuple[str, str]]:
                """Its headers but the request's own id (new for each request)."""
                return sorted(kv for kv in response.headers.items() if kv[0] != "X-Request-ID")

            assert entity(from_view) == entity(unchanged), path


def test_without_a_hub_no_feed_names_one(database_url: str) -> None:
    with running_app(database_url) as app:
        add_sections(api_as(app, Role.EDITOR), "news")
        client = app.test_client()
        for path in DISCOVERED:
            fmt = path.split("?")[0].rsplit(".", 1)[1]
            response = client.get(path, base_url=BASE)
            assert response.status_code == 200, path
            assert "Link" not in response.headers
            assert hubs_in(response.data, fmt) == ([], [BASE + path])
            assert b'"hubs"' not in response.data and b'rel="hub"' not in response.data
        assert app.extensions.get(EXTENSION_KEY) is None
        assert client.post("/websub", data={"hub.mode": "subscribe"}).status_code == 404


# -- publisher notifications -------------------------------------------------------


def pings(hub: Loopback) -> list[str]:
    """The topics of the publish pings the hub received (and checks each one's form)."""
    found = []
    for request in hub.take():
        assert request.method == "POST" and request.path == "/hub"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = parse_qs(request.body.decode(), strict_parsing=True)
        assert form["hub.mode"] == ["publish"] and len(form["hub.url"]) == 1
        found.append(form["hub.url"][0])
    return found


def assert_pinged(hub: Loopback, expected: list[str]) -> None:
    received = pings(hub)
    assert sorted(received) == sorted(expected)  # each exactly once
    assert len(set(received)) == len(received)


def test_a_change_pings_the_hub_once_for_each_feed_whose_entries_changed(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    hub = loopbacks()
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS=f"{hub.url}/hub") as app:
        editor = api_as(app, Role.EDITOR)
        add_sections(editor, "news", "news/world", "sport")
        run_worker(app)
        assert pings(hub) == []  # empty feeds seen for the first time are no news

        created = editor.post("/articles", article_doc(section="news/world"))
        assert created.status_code == 201
        article = created.json["id"]
        run_worker(app)
        world = ["", "news", "news/world"]
        assert_pinged(hub, topics("en", world))  # not zh-hans, fr, sport, reviewed-only

        run_worker(app)
        assert pings(hub) == []  # nothing changed since

        etag = editor.get(f"/articles/{article}").headers["ETag"]
        edited = editor.patch(
            f"/articles/{article}", {"title": "The bridge opens"}, headers={"If-Match": etag}
        )
        assert edited.status_code == 200, edited.json
        run_worker(app)
        assert_pinged(hub, topics("en", world))

        assert editor.post("/articles", article_doc(section="sport")).status_code == 201
        run_worker(app)
        assert_pinged(hub, topics("en", ["", "sport"]))  # news and news/world unchanged

        # Reviewed zh-Hans text publishes the variant: the zh-hans feeds change, both the
        # full and the reviewed-only ones; the English feeds do not.
        translator = api_as(app, Role.TRANSLATOR, ["zh-Hans"])
        segments = translator.get(f"/articles/{article}/translations/zh-Hans/segments")
        assert segments.status_code == 200, segments.json
        for item in segments.json["items"]:
            written = translator.patch(
                f"/articles/{article}/translations/zh-Hans/segments/{item['key']}",
                {"target": f"译文 {item['key']}", "status": "approved"},
                headers={"If-Match": f'"{item["etag"]}"'},
            )
            assert written.status_code == 200, written.json
        run_worker(app)
        assert_pinged(hub, topics("zh-hans", world) + topics("zh-hans", world, reviewed=True))

        etag = editor.get(f"/articles/{article}").headers["ETag"]
        deleted = editor.delete(f"/articles/{article}", headers={"If-Match": etag})
        assert deleted.status_code == 204, deleted.json
        run_worker(app)
        assert_pinged(
            hub,
            topics("en", world) + topics("zh-hans", world) + topics("zh-hans", world, True),
        )
        assert websub_jobs(app, PENDING) == [] and websub_jobs(app, FAILED) == []


def test_a_hub_that_was_down_gets_the_ping_when_it_is_back(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    hub = loopbacks()
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS=f"{hub.url}/hub") as app:
        editor = api_as(app, Role.EDITOR)
        add_sections(editor, "news")
        run_worker(app)
        hub.stop()
        assert editor.post("/articles", article_doc(section="news")).status_code == 201
        before = utcnow()
        run_worker(app)
        waiting = websub_jobs(app, PENDING)
        expected = topics("en", ["", "news"])
        assert sorted(job.topic for job in waiting) == sorted(expected)
        for job in waiting:
            assert job.attempts == 1 and job.last_error and "Connection refused" in job.last_error
            assert job.run_after >= before + timedelta(seconds=10)  # the default first backoff

        hub.start()  # the same port again
        run_worker(app)
        assert pings(hub) == []  # not due yet
        sweep = sweep_of(app)
        later = utcnow() + timedelta(seconds=11)
        sweep.clock = lambda: later
        run_worker(app)
        assert_pinged(hub, expected)
        assert websub_jobs(app, PENDING) == []
        assert {job.status for job in websub_jobs(app)} == {DONE}


def test_a_hub_that_keeps_failing_is_given_up_after_the_last_attempt(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    hub = loopbacks()
    hub.post_status = 503
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS=f"{hub.url}/hub") as app:
        add_sections(api_as(app, Role.EDITOR), "news")
        run_worker(app)  # baseline
        assert api_as(app, Role.EDITOR).post("/articles", article_doc(section="news"))
        sweep = sweep_of(app)
        moment = utcnow()
        for _ in range(8):
            sweep.clock = lambda moment=moment: moment
            run_worker(app)
            moment += timedelta(hours=2)
        failed = websub_jobs(app, FAILED)
        assert len(failed) == 6 and all(job.attempts == 8 for job in failed)
        assert all(job.last_error == "the hub answered 503" for job in failed)
        assert len(pings(hub)) == 6 * 8


# -- the built-in hub ---------------------------------------------------------------

TOPIC = f"{BASE}/en/news/feed.atom"


def subscribe(
    app: Flask, callback: str, mode: str = "subscribe", topic: str = TOPIC, **extra: str
) -> Any:
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback} | {
        f"hub.{name}": value for name, value in extra.items()
    }
    return app.test_client().post("/websub", data=form, base_url=BASE)


def test_a_subscriber_is_verified_gets_signed_content_and_stops_after_unsubscribing(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    subscriber = loopbacks(secret="s3cret-of-the-partner")
    callback = f"{subscriber.url}/push?partner=7"
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS="builtin") as app:
        editor = api_as(app, Role.EDITOR)
        add_sections(editor, "news")
        run_worker(app)

        accepted = subscribe(app, callback, secret="s3cret-of-the-partner", lease_seconds="7200")
        assert accepted.status_code == 202, accepted.data
        assert subscriptions(app) == []  # not before the subscriber confirmed
        run_worker(app)
        (check,) = subscriber.take()
        assert check.method == "GET" and check.path == "/push"
        assert check.query["partner"] == "7"  # the callback's own query stays
        assert check.query["hub.mode"] == "subscribe" and check.query["hub.topic"] == TOPIC
        assert check.query["hub.lease_seconds"] == "7200" and len(check.query["hub.challenge"]) > 20
        (active,) = subscriptions(app)
        assert (active.topic, active.callback, active.lease_seconds) == (TOPIC, callback, 7200)

        assert editor.post("/articles", article_doc(section="news")).status_code == 201
        run_worker(app)
        (delivery,) = subscriber.take()  # the other feeds have no subscriber
        assert delivery.method == "POST" and delivery.path == "/push"
        assert delivery.signature_ok is True
        assert delivery.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        assert delivery.headers["Link"] == f'<{BASE}/websub>; rel="hub", <{TOPIC}>; rel="self"'
        assert delivery.body == app.test_client().get(TOPIC).data  # the feed's own bytes
        assert b"District opens new bridge" in delivery.body

        assert subscribe(app, callback, mode="unsubscribe").status_code == 202
        run_worker(app)
        (check,) = subscriber.take()
        assert check.query["hub.mode"] == "unsubscribe" and "hub.lease_seconds" not in check.query
        assert subscriptions(app) == []
        assert editor.post("/articles", article_doc(section="news", title="Another")).status_code
        run_worker(app)
        assert subscriber.take() == []


def test_no_subscription_without_the_challenge_echoed(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    subscriber = loopbacks()
    subscriber.echo = False
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS="builtin") as app:
        add_sections(api_as(app, Role.EDITOR), "news")
        assert subscribe(app, f"{subscriber.url}/cb").status_code == 202
        run_worker(app)
        assert [r.method for r in subscriber.take()] == ["GET"]
        assert subscriptions(app) == []
        (failed,) = websub_jobs(app, FAILED)
        assert failed.last_error == "the subscriber did not confirm (did not echo the challenge)"
        assert api_as(app, Role.EDITOR).post("/articles", article_doc(section="news"))
        run_worker(app)
        assert subscriber.take() == []


def test_a_lease_runs_out_and_a_renewal_extends_it(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    subscriber = loopbacks()
    callback = f"{subscriber.url}/cb"
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS="builtin") as app:
        editor = api_as(app, Role.EDITOR)
        add_sections(editor, "news")
        assert subscribe(app, callback, lease_seconds="5").status_code == 202
        run_worker(app)
        (check,) = subscriber.take()
        assert check.query["hub.lease_seconds"] == str(MIN_LEASE_SECONDS)  # clamped
        (first,) = subscriptions(app)

        assert subscribe(app, callback, lease_seconds="3600").status_code == 202  # renewal
        run_worker(app)
        assert len(subscriber.take()) == 1
        (renewed,) = subscriptions(app)
        assert renewed.id == first.id and renewed.expires_at > first.expires_at

        sweep = sweep_of(app)
        after: datetime = renewed.expires_at + timedelta(seconds=1)
        sweep.clock = lambda: after
        assert editor.post("/articles", article_doc(section="news")).status_code == 201
        run_worker(app)
        assert subscriber.take() == []  # an expired lease gets nothing
        assert subscriptions(app) == []  # and is forgotten


def test_a_subscriber_answering_410_is_dropped(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    subscriber = loopbacks()
    subscriber.post_status = 410
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS="builtin") as app:
        editor = api_as(app, Role.EDITOR)
        add_sections(editor, "news")
        assert subscribe(app, f"{subscriber.url}/cb").status_code == 202
        run_worker(app)
        assert len(subscriptions(app)) == 1
        assert editor.post("/articles", article_doc(section="news")).status_code == 201
        run_worker(app)
        assert [r.method for r in subscriber.take()] == ["GET", "POST"]
        assert subscriptions(app) == []
        assert websub_jobs(app, PENDING) == []


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"hub.mode": "publish"}, "learns of its feeds' changes"),
        ({"hub.mode": "subscribe2"}, "hub.mode must be"),
        ({"hub.mode": ""}, "hub.mode must be"),
        ({"hub.topic": f"{BASE}/en/nosuch/feed.atom"}, "section that does not exist"),
        ({"hub.topic": "http://elsewhere.example/en/feed.atom"}, "feed of this service"),
        ({"hub.topic": f"{BASE}/en/news/"}, "not a feed URL"),
        ({"hub.topic": f"{BASE}/xx/feed.atom"}, "not a feed URL"),
        ({"hub.topic": f"{BASE}/en/feed.atom?page=2"}, "canonical first page"),
        ({"hub.topic": f"{BASE}/en/feed.atom?only=reviewed"}, "canonical first page"),
        ({"hub.topic": ""}, "hub.topic is required"),
        ({"hub.callback": "ftp://127.0.0.1/cb"}, "absolute http or https"),
        ({"hub.callback": "/cb"}, "absolute http or https"),
        ({"hub.callback": "http://127.0.0.1:99999/cb"}, "not a URL"),
        ({"hub.callback": "http://127.0.0.1/cb#frag"}, "fragment"),
        ({"hub.callback": "http://127.0.0.1/" + "a" * 2100}, "longer than"),
        ({"hub.callback": f"http://{'a' * 300}.example/cb"}, "host name longer than"),
        ({"hub.secret": "x" * 200}, "hub.secret must be shorter than 200 bytes"),
        ({"hub.secret": "密" * 67}, "hub.secret must be shorter than 200 bytes"),  # 201 bytes
        ({"hub.callback": "http://例子.测试/cb"}, "must be ASCII"),
        ({"hub.callback": "http://u:p@127.0.0.1/cb"}, "user name or password"),
        ({"hub.lease_seconds": "ten"}, "whole number"),
        ({"hub.lease_seconds": "-5"}, "whole number"),
    ],
)
def test_a_bad_subscription_request_is_refused_and_stores_nothing(
    database_url: str, form: dict[str, str], reason: str
) -> None:
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS="builtin") as app:
        add_sections(api_as(app, Role.EDITOR), "news")
        good = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": "http://127.0.0.1/cb"}
        response = app.test_client().post("/websub", data=good | form, base_url=BASE)
        assert response.status_code == 400, response.data
        assert response.mimetype == "text/plain"
        assert reason in response.get_data(as_text=True)
        assert websub_jobs(app) == [] and subscriptions(app) == []


def test_the_reviewed_only_feed_of_a_translation_is_a_topic(database_url: str) -> None:
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS="builtin") as app:
        add_sections(api_as(app, Role.EDITOR), "news")
        topic = f"{BASE}/zh-hans/news/feed.json?only=reviewed"
        assert subscribe(app, "https://partner.example/cb", topic=topic).status_code == 202
        (job,) = websub_jobs(app, PENDING)
        assert (job.kind, job.topic, job.mode) == ("verify", topic, "subscribe")
        assert subscribe(app, "https://partner.example/cb", topic=topic).status_code == 202
        assert len(websub_jobs(app, PENDING)) == 1  # a repeated request is one verification


def test_the_worker_thread_verifies_and_delivers_without_being_asked(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    """The default set-up: the subscription request and the scope change wake the web
    process's worker thread, which runs the WebSub jobs."""
    subscriber = loopbacks()
    hub = loopbacks()
    hubs = f"builtin,{hub.url}/hub"
    with running_app(database_url, FEEDSVC_WEBSUB_HUBS=hubs, FEEDSVC_WORKER="thread") as app:
        add_sections(api_as(app, Role.EDITOR), "news")
        assert subscribe(app, f"{subscriber.url}/cb").status_code == 202
        wait_for(lambda: len(subscriptions(app)) == 1, "the subscription was not verified")
        assert api_as(app, Role.EDITOR).post("/articles", article_doc(section="news"))
        wait_for(lambda: any(r.method == "POST" for r in subscriber.received), "nothing delivered")
        wait_for(lambda: len(hub.received) >= 6, "the hub was not told")
        assert sorted(pings(hub)) == sorted(topics("en", ["", "news"]))


class Tarpit:
    """Callbacks that take the connection and never answer: what anyone may ask the hub
    to verify. Records when it first got a connection."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.first_connection: float | None = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.first_connection = self.first_connection or time.monotonic()
            self.held.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.held:
            connection.close()


def test_callbacks_that_never_answer_do_not_hold_up_pings_and_deliveries(
    database_url: str, loopbacks: Callable[..., Loopback]
) -> None:
    """Pings and deliveries are claimed before verifications and requests run on a pool:
    a dozen silent callbacks (more than the pool has slots) queued first still leave the
    hub's pings going out first within the same run."""
    hub = loopbacks()
    tarpit = Tarpit()
    try:
        with running_app(database_url, FEEDSVC_WEBSUB_HUBS=f"builtin,{hub.url}/hub") as app:
            editor = api_as(app, Role.EDITOR)
            add_sections(editor, "news")
            run_worker(app)
            hub.take()
            for number in range(12):
                assert subscribe(app, f"{tarpit.url}/cb{number}").status_code == 202
            assert editor.post("/articles", article_doc(section="news")).status_code == 201
            run_worker(app)
            first_ping = min(r.at for r in hub.received)
            assert sorted(pings(hub)) == sorted(topics("en", ["", "news"]))
            assert tarpit.first_connection is not None  # the verifications were tried too
            assert first_ping < tarpit.first_connection
            assert subscriptions(app) == []
    finally:
        tarpit.close()


def wait_for(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(failure)
