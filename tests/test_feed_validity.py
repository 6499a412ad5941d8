"""Every demo feed, page and format passes the independent checker (tests/feedcheck.py):
the RFC 4287 RELAX NG schema for Atom, the JSON Feed 1.1 schema, and the W3C validator's
usual rules (self link, absolute links, dates, ids, authors, safe HTML)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.db import database
from feedsvc.demo import load_demo
from tests.feedcheck import check_atom, check_json_feed, check_opml, check_rss

BASE = "http://feeds.test"
CHECKERS = {"atom": check_atom, "rss": check_rss, "json": check_json_feed}
SCOPES = [
    "",
    "news/",
    "news/media-views-of-huangpu/",
    "news/district-updates/",
    "business/",
    "business/investment/",
    "business/innovation/",
    "culture/",
    "culture/heritage/",
    "culture/events/",
]


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    with app.app_context():
        load_demo(database())
    return app.test_client()


def next_url(data: bytes, fmt: str) -> str | None:
    if fmt == "json":
        return json.loads(data).get("next_url")
    root = etree.fromstring(data)
    return next(
        (
            link.get("href")
            for link in root.iter("{http://www.w3.org/2005/Atom}link")
            if link.get("rel") == "next"
        ),
        None,
    )


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_all_demo_feeds_have_no_findings(web: FlaskClient, lang: str, fmt: str) -> None:
    checked = 0
    for scope in SCOPES:
        url: str | None = f"{BASE}/{lang}/{scope}feed.{fmt}?limit=2"
        while url:
            data = web.get(url.removeprefix(BASE), base_url=BASE).data
            findings = CHECKERS[fmt](data, url)
            assert findings == [], (url, [str(f) for f in findings])
            checked += 1
            url = next_url(data, fmt)
    assert checked >= len(SCOPES) + (5 if lang == "en" else 1)


def test_the_checker_notices_a_wrong_self_link(web: FlaskClient) -> None:
    data = web.get("/en/feed.atom", base_url=BASE).data
    assert [f.code for f in check_atom(data, f"{BASE}/en/feed.atom?x=1")] == ["self-mismatch"]


@pytest.mark.parametrize("path", ["/feeds.opml", "/en/feeds.opml", "/zh-hans/feeds.opml"])
def test_opml_has_no_findings(web: FlaskClient, path: str) -> None:
    assert check_opml(web.get(path, base_url=BASE).data) == []
