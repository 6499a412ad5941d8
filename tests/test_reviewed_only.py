"""Reviewed-only feeds for partners (issue 14, acceptance 4): ``?only=reviewed`` on a
translated feed holds the human-reviewed entries of the full feed and nothing else, with
the same validity (the independent checker), paging and caching as every feed.

The store: the demo (some zh-Hans articles reviewed through its memory) with a real Argos
package installed, so every other demo article is machine-translated and published under
``zh-Hans:machine``; zh-Hant is converted from zh-Hans (OpenCC), never reviewed itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import translating_app
from tests.feedcheck import check_atom, check_json_feed, check_rss
from tests.test_feed_validity import next_url

BASE = "http://feeds.test"
CHECKERS = {"atom": check_atom, "rss": check_rss, "json": check_json_feed}
SCOPES = ["", "news/", "business/", "culture/heritage/"]


@pytest.fixture
def app(database_url: str, tmp_path: Path, argosmodel: Path) -> Iterator[Flask]:
    languages = "en,zh-Hans:machine,zh-Hant:from=zh-Hans"
    with translating_app(database_url, argosmodel, tmp_path / "pk", languages, demo=True) as app:
        yield app


def every_item(web: FlaskClient, url: str) -> list[dict[str, object]]:
    """The JSON Feed's items over all its pages, following next_url."""
    items: list[dict[str, object]] = []
    next_page: str | None = url
    while next_page:
        data = json.loads(web.get(next_page.removeprefix(BASE), base_url=BASE).data)
        items += data["items"]
        next_page = data.get("next_url")
    return items


def provenance(item: dict[str, object]) -> str:
    return item["_feedsvc"]["provenance"]  # type: ignore[index,no-any-return]


@pytest.mark.parametrize("scope", SCOPES)
def test_only_the_reviewed_entries_of_the_full_feed(app: Flask, scope: str) -> None:
    web = app.test_client()
    full = every_item(web, f"{BASE}/zh-hans/{scope}feed.json?limit=3")
    reviewed = every_item(web, f"{BASE}/zh-hans/{scope}feed.json?only=reviewed&limit=3")
    kinds = {provenance(item) for item in full}
    if scope == "":  # the site feed has both: the filter has something to leave out
        assert kinds == {"machine-translated", "human-reviewed"}
    assert [provenance(item) for item in reviewed] == ["human-reviewed"] * len(reviewed)
    expected = [item["id"] for item in full if provenance(item) == "human-reviewed"]
    assert [item["id"] for item in reviewed] == expected  # same order, none missing


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
@pytest.mark.parametrize("lang", ["zh-hans", "zh-hant"])
def test_reviewed_only_feeds_pass_the_checker_on_every_page(
    app: Flask, fmt: str, lang: str
) -> None:
    web = app.test_client()
    for scope in SCOPES:
        url: str | None = f"{BASE}/{lang}/{scope}feed.{fmt}?only=reviewed&limit=2"
        pages = 0
        while url:
            assert "only=reviewed" in url  # paging keeps the filter
            data = web.get(url.removeprefix(BASE), base_url=BASE).data
            assert CHECKERS[fmt](data, url) == [], url
            pages += 1
            url = next_url(data, fmt)
        assert pages >= 1


def test_its_own_id_and_title_and_no_converted_text(app: Flask) -> None:
    """Another document than the full feed (readers key feeds by id); zh-Hant text converted
    by OpenCC from reviewed zh-Hans was not reviewed in zh-Hant, so it stays out."""
    web = app.test_client()
    full = json.loads(web.get("/zh-hant/feed.json").data)
    only = json.loads(web.get("/zh-hant/feed.json?only=reviewed").data)
    assert {provenance(item) for item in full["items"]} == {"converted"}
    assert only["items"] == []
    assert only["feed_url"] == f"{BASE}/zh-hant/feed.json?only=reviewed"
    hans = json.loads(web.get("/zh-hans/feed.json?only=reviewed").data)
    assert hans["title"] != json.loads(web.get("/zh-hans/feed.json").data)["title"]
    atom = web.get("/zh-hans/feed.atom?only=reviewed").data
    full_atom = web.get("/zh-hans/feed.atom").data
    assert b"/reviewed</id>" in atom and b"/reviewed</id>" not in full_atom


def test_cached_and_revalidated_like_every_feed(app: Flask) -> None:
    web = app.test_client()
    first = web.get("/zh-hans/news/feed.atom?only=reviewed&utm_source=partner")
    etag = first.headers["ETag"]
    assert etag != web.get("/zh-hans/news/feed.atom").headers["ETag"]
    again = web.get("/zh-hans/news/feed.atom?only=reviewed", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert first.headers["Cache-Control"] == again.headers["Cache-Control"]
    # An unknown parameter is the same document (and the same self link).
    assert b"utm_source" not in first.data


def test_wrong_values_are_refused_and_the_source_language_redirects(app: Flask) -> None:
    web = app.test_client()
    refused = web.get("/zh-hans/feed.json?only=machine")
    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    assert "only" in refused.json["detail"]
    english = web.get("/en/news/feed.rss?only=reviewed&limit=5")
    assert english.status_code == 301
    assert english.headers["Location"] == f"{BASE}/en/news/feed.rss?limit=5"
