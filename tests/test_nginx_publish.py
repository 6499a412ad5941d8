"""deploy/nginx.conf serving ``feedsvc publish`` output in front of gunicorn: every
published URL answers as the app does (body in each encoding, content type, caching and
CORS headers, validators), and everything else reaches the app."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import brotli
import pytest
from flask import Flask

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.db.migrate import upgrade
from feedsvc.demo import load_demo
from feedsvc.publish import publish_all
from feedsvc.store import Store
from tests.conftest import dispose_app, make_config, skip_or_fail
from tests.live_server import GunicornServer, Reply
from tests.nginx_server import NginxServer, missing
from tests.test_publish import all_urls

NGINX_ETAG = re.compile(r'^"[0-9a-f]+-[0-9a-f]+"$')  # mtime-size, nginx's own
SAME_HEADERS = (
    "content-type",
    "cache-control",
    "vary",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "last-modified",
)


@dataclass
class Stack:
    app: Flask  # the same database and settings as the gunicorn behind nginx
    public: Path
    gunicorn: GunicornServer
    nginx: NginxServer
    urls: list[str]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if (reason := missing()) is not None:
        skip_or_fail(reason)
    # nginx's workers run as www-data: the directory must be theirs to read (pytest's
    # tmp_path is private to root).
    base = Path(tempfile.mkdtemp(prefix="feedsvc-nginx-"))
    base.chmod(0o755)
    config = make_config(f"sqlite:///{base / 'feedsvc.sqlite3'}")
    app = create_app(config)
    app.config["TESTING"] = True
    gunicorn: GunicornServer | None = None
    nginx: NginxServer | None = None
    try:
        with app.app_context():
            upgrade(database().engine)
            load_demo(database())
        public = base / "public"
        report = publish_all(app, public)
        assert not report.failed, report.failed
        gunicorn = GunicornServer.start(config, base / "gunicorn", workers=2)
        nginx = NginxServer.start(public, f"127.0.0.1:{gunicorn.port}", base / "nginx")
        yield Stack(app, public, gunicorn, nginx, all_urls(app))
        assert gunicorn.trouble() == [], gunicorn.log()
        assert "[emerg]" not in nginx.log() and "[crit]" not in nginx.log(), nginx.log()
    finally:
        if nginx is not None:
            nginx.stop()
        if gunicorn is not None:
            gunicorn.stop()
        app.extensions["feedsvc.jobs"].dispatcher.stop()
        scopes = app.extensions.get("feedsvc.scopes")
        if scopes is not None:
            scopes.stop()
        with app.app_context():
            dispose_app()
        shutil.rmtree(base, ignore_errors=True)


def decoded(reply: Reply) -> bytes:
    encoding = reply.headers.get("content-encoding")
    if encoding == "gzip":
        return gzip.decompress(reply.body)
    if encoding == "br":
        return brotli.decompress(reply.body)
    assert encoding is None, encoding
    return reply.body


def test_every_published_url_answers_as_the_app(stack: Stack) -> None:
    assert len(stack.urls) == 3 * 10 * 3 + 4
    for url in stack.urls:
        app = stack.gunicorn.request("GET", url)
        assert app.status == 200, url
        for accept, encoding in ((None, None), ("gzip", "gzip"), ("br", "br"), ("gzip, br", "br")):
            headers = {"Accept-Encoding": accept} if accept else {}
            static = stack.nginx.request("GET", url, headers)
            assert static.status == 200, (url, accept)
            assert static.headers.get("content-encoding") == encoding, (url, accept)
            assert decoded(static) == app.body, (url, accept)
            for name in SAME_HEADERS:
                assert static.headers.get(name) == app.headers.get(name), (url, name)
            etag = static.headers["etag"]
            assert NGINX_ETAG.match(etag), (url, etag, "served from the file, not the app")
            again = stack.nginx.request("GET", url, headers | {"If-None-Match": etag})
            assert again.status == 304 and again.body == b"", (url, accept)
            assert again.headers["etag"] == etag
            since = stack.nginx.request(
                "GET", url, headers | {"If-Modified-Since": static.headers["last-modified"]}
            )
            assert since.status == 304, (url, accept)
        head = stack.nginx.request("HEAD", url)
        assert head.status == 200 and head.body == b""
        assert head.headers["content-length"] == str(len(app.body))


def test_each_encoding_has_its_own_validator(stack: Stack) -> None:
    url = "/zh-hans/news/feed.atom"
    etags = {
        accept: stack.nginx.request("GET", url, {"Accept-Encoding": accept}).headers["etag"]
        for accept in ("identity", "gzip", "br")
    }
    assert len(set(etags.values())) == 3, etags
    gzip_etag = etags["gzip"]
    assert stack.nginx.request("GET", url, {"If-None-Match": gzip_etag}).status == 200, (
        "a gzip copy's validator does not match the identity bytes"
    )


def test_a_later_if_modified_since_is_a_304_as_in_the_app(stack: Stack) -> None:
    url = "/en/news/feed.rss"
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert stack.gunicorn.request("GET", url, headers={"If-Modified-Since": later}).status == 304
    assert stack.nginx.request("GET", url, {"If-Modified-Since": later}).status == 304


def assert_from_app(stack: Stack, reply: Reply, path: str, **headers: str) -> None:
    app = stack.gunicorn.request("GET", path, headers=headers)
    assert reply.status == app.status, path
    assert reply.body == app.body, path
    assert reply.headers.get("content-type") == app.headers.get("content-type")
    assert reply.headers.get("etag") == app.headers.get("etag"), path


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sections",
        "/en/feed.atom?limit=5&page=2",  # page 2 is never published
        "/zh-hans/news/feed.json?page=1&limit=3",
        "/en/feed.rss?utm_source=partner",  # any query: the app's copy and validators
        "/feeds.opml?leaves=1",
        "/en/",
        "/en/feed.xml",  # no such feed: the app's 404
        "/healthz",
    ],
)
def test_what_is_not_published_is_the_apps(stack: Stack, path: str) -> None:
    reply = stack.nginx.request("GET", path)
    assert reply.status in (200, 404), (path, reply.status, reply.body[:200])
    assert_from_app(stack, reply, path)
    if reply.status == 200 and "etag" in reply.headers:
        assert not NGINX_ETAG.match(reply.headers["etag"])


def test_preflight_and_writes_reach_the_app(stack: Stack) -> None:
    preflight = stack.nginx.request(
        "OPTIONS",
        "/en/feed.json",
        {"Origin": "https://partner.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status in (200, 204)
    assert preflight.headers["access-control-allow-headers"] == "If-None-Match, If-Modified-Since"
    assert stack.nginx.request("POST", "/en/feed.atom").status == 405  # the app's answer


def test_a_feed_not_published_yet_falls_back_to_the_app(stack: Stack) -> None:
    with stack.app.app_context(), database().session() as session:
        from feedsvc.articles import utcnow

        Store(session).sections.add("late", {"en": "Late"}, utcnow())
    assert not (stack.public / "en/late/feed.atom").exists()
    reply = stack.nginx.request("GET", "/en/late/feed.atom", {"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.headers.get("content-encoding") == "gzip"
    assert not NGINX_ETAG.match(reply.headers["etag"]), "the app's own validator"
    app = stack.gunicorn.request("GET", "/en/late/feed.atom")
    assert gzip.decompress(reply.body) == app.body


def test_the_publish_directory_holds_nothing_else_that_nginx_serves(stack: Stack) -> None:
    for name in (".feedsvc-publish.json", ".feedsvc-publish.lock", "en/feed.atom.gz"):
        assert (stack.public / name).exists() or name.endswith(".lock")
        reply = stack.nginx.request("GET", f"/{name}")
        assert reply.status == 404, (name, reply.status)
    assert os.stat(stack.public / "en/feed.atom").st_mode & 0o004, "world-readable"
