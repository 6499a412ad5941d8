"""Real feed readers on a live server with the demo loaded: what a subscriber would see.

Valid feeds still mislead readers (issue 9): one picks the last ``alternate`` as an
entry's permalink, another the other language's feed as the site link. So each client
(tests/clients/readers.py) reads Atom and RSS, in en and zh-Hans, for the site feed and a
section feed, from a gunicorn whose FEEDSVC_BASE_URL is its own address, and every cell of
client × format × language × scope is checked against the service's own truth: the JSON
API for articles (slug, published_at, tags) and the JSON Feed of the same language and
scope for which entries there are and their titles. The matrix is printed (``pytest -s``)
and written to $FEEDSVC_ARTIFACTS/client-matrix.md; any failing cell fails its client's
test, and a client that is not installed fails under FEEDSVC_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.demo import load_demo
from tests.clients.readers import READERS, Item, Reader, View
from tests.conftest import dispose_app, make_config, skip_or_fail
from tests.live_server import GunicornServer

FORMATS = ("atom", "rss")
LANGUAGES = ("en", "zh-Hans")
SCOPES = {"site": "", "news": "news/"}  # scope name → path prefix below /{lang}/
# The arbiter sets FEEDSVC_BASE_URL to the address it bound (tests/clients/gunicorn_base_url).
BASE_URL_HOOK = "--config python:tests.clients.gunicorn_base_url"
ARTICLE_ID = re.compile(r"(?:article/|/articles/)(\d+)(?:/|$)")
FUTURE_SLACK = 1  # seconds: a clock tick, not the minutes a misread fraction makes


@dataclass(frozen=True)
class Expected:
    """One entry as every reader should show it."""

    permalink: str
    title: str
    published: int
    tags: tuple[str, ...]


@dataclass(frozen=True)
class FeedTruth:
    """One feed URL, the HTML page it belongs to, and its entries by article id."""

    fmt: str
    lang: str
    scope: str
    url: str
    html_page: str
    entries: dict[int, Expected]


@dataclass
class Matrix:
    """Cells by (client, format, language, scope): check → None (pass), "n/a" or why not."""

    cells: dict[tuple[str, str, str, str], dict[str, str | None]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def failures(self, client: str | None = None) -> list[str]:
        return [
            f"{' · '.join(key)} — {check}: {why}"
            for key, checks in self.cells.items()
            if client in (None, key[0])
            for check, why in checks.items()
            if why not in (None, "n/a")
        ]

    def markdown(self, client: str | None = None) -> str:
        """A table: client and format down, language and scope across; then the details."""
        columns = [(lang, scope) for lang in LANGUAGES for scope in SCOPES]
        lines = [
            "| client | format | "
            + " | ".join(f"{lang} {scope}" for lang, scope in columns)
            + " |",
            "|---|---|" + "---|" * len(columns),
        ]
        for reader in READERS:
            if client not in (None, reader.name):
                continue
            if reader.name in self.missing:
                reason = self.missing[reader.name]
                lines.append(
                    f"| {reader.name} | – | not run: {reason} |" + " |" * (len(columns) - 1)
                )
                continue
            for fmt in FORMATS:
                row = [self.cell((reader.name, fmt, lang, scope)) for lang, scope in columns]
                if any(text != " " for text in row):
                    lines.append(f"| {reader.name} | {fmt} | " + " | ".join(row) + " |")
        versions = [f"- {name}: {version}" for name, version in self.versions.items()]
        failures = [f"- {line}" for line in self.failures(client)]
        return "\n".join(
            [*lines, "", "Versions:", *versions]
            + (["", "Failing checks:", *failures] if failures else [])
            + ["", "n/a: the client has no place for that field (it is not checked there)."]
        )

    def cell(self, key: tuple[str, str, str, str]) -> str:
        checks = self.cells.get(key)
        if checks is None:
            return " "
        failed = [check for check, why in checks.items() if why not in (None, "n/a")]
        if failed:
            return "✗ " + ", ".join(failed)
        absent = [check for check, why in checks.items() if why == "n/a"]
        return "OK" + (f" ({', '.join(absent)} n/a)" if absent else "")


@pytest.fixture(scope="module")
def server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornServer]:
    """One gunicorn for the module, on an SQLite copy with the demo loaded."""
    directory = tmp_path_factory.mktemp("client-compat")
    path = directory / "feedsvc.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = create_app(make_config(url))
    with app.app_context():
        load_demo(database(), ("zh-Hans", "fr"))
        dispose_app()
    app.extensions["feedsvc.jobs"].dispatcher.stop()
    config = make_config(url, GUNICORN_CMD_ARGS=BASE_URL_HOOK)
    live = GunicornServer.start(config, directory / "gunicorn", workers=2)
    yield live
    live.stop()


def _article_id(*texts: str | None) -> int | None:
    """The article an entry stands for, from its id (tag:…:article/4/en) or its link."""
    for text in texts:
        if text and (found := ARTICLE_ID.search(text)):
            return int(found.group(1))
    return None


@pytest.fixture(scope="module")
def truth(server: GunicornServer) -> list[FeedTruth]:
    """Every feed URL with what it should show, from the JSON API and the JSON Feeds."""
    base = server.base_url
    listing = server.request("GET", "/api/v1/articles?per_page=100").json()
    articles = {article["id"]: article for article in listing["items"]}
    assert len(articles) == listing["total"] == 14, "the demo's 14 articles"
    feeds = []
    for lang in LANGUAGES:
        for scope, prefix in SCOPES.items():
            page = f"/{lang.lower()}/{prefix}"
            document = server.request("GET", f"{page}feed.json").json()
            if document["home_page_url"] != base + page:
                pytest.fail(f"links are not the live server's own: {document['home_page_url']}")
            entries = {}
            for item in document["items"]:
                number = _article_id(item["id"], item["url"])
                assert number in articles, item["id"]
                article = articles[number]
                entries[number] = Expected(
                    permalink=f"{base}/{lang.lower()}/articles/{number}/{article['slug']}",
                    title=item["title"],
                    published=int(datetime.fromisoformat(article["published_at"]).timestamp()),
                    tags=tuple(article["tags"]),
                )
            assert entries, page
            for fmt in FORMATS:
                feeds.append(
                    FeedTruth(fmt, lang, scope, f"{base}{page}feed.{fmt}", base + page, entries)
                )
    return feeds


@pytest.fixture(scope="module")
def matrix() -> Iterator[Matrix]:
    """Collects every client's cells; prints the matrix and writes it as an artifact."""
    collected = Matrix()
    yield collected
    text = "# Feed reader compatibility\n\n" + collected.markdown() + "\n"
    print("\n" + text)
    if artifacts := os.environ.get("FEEDSVC_ARTIFACTS"):
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        (Path(artifacts) / "client-matrix.md").write_text(text, encoding="utf-8")


def _short(url: str | None, base: str) -> str:
    return "None" if url is None else url.removeprefix(base)


def _some(bad: list[str], total: int) -> str | None:
    """None when nothing is wrong, else how many entries are and the first of them."""
    return f"{len(bad)} of {total} entries, e.g. {bad[0]}" if bad else None


def check(view: View, feed: FeedTruth, base: str, now: float) -> dict[str, str | None]:
    """Every check of one cell: None when it passes, "n/a" where the client has no such
    field, else what the reader showed against what it should have."""
    if view.error is not None or not view.items:
        return {"fetch": view.error or "no entries"}
    matched: dict[int, Item] = {}
    strays = []
    for item in view.items:
        number = _article_id(item.id, item.link)
        if number in feed.entries and number not in matched:
            matched[number] = item
        else:
            strays.append(item.id or item.link or "?")
    absent = [str(number) for number in feed.entries if number not in matched]
    results: dict[str, str | None] = {"fetch": None}
    results["entries"] = (
        f"{len(view.items)} shown, {len(feed.entries)} published; "
        f"missing articles {absent}, unexpected {strays[:3]}"
        if absent or strays
        else None
    )
    pairs = [(feed.entries[number], item) for number, item in matched.items()]
    total = len(pairs)
    results["permalink"] = _some(
        [
            f"{_short(item.link, base)} (want {_short(want.permalink, base)})"
            for want, item in pairs
            if item.link != want.permalink
        ],
        total,
    )
    results["feed link"] = (
        None
        if view.link == feed.html_page
        else f"{_short(view.link, base)} (want {_short(feed.html_page, base)})"
    )
    results["published"] = _some(
        [
            f"{_utc(item.published)} (want {_utc(want.published)})"
            for want, item in pairs
            if item.published != want.published
        ],
        total,
    )
    results["future"] = _some(
        [
            f"{_utc(moment)} on {_short(item.link, base)}"
            for _, item in pairs
            for moment in (item.published, item.updated)
            if moment is not None and moment > now + FUTURE_SLACK
        ],
        total,
    )
    results["title"] = _some(
        [
            f"{item.title!r} (want {want.title!r})"
            for want, item in pairs
            if item.title != want.title
        ],
        total,
    )
    if any(item.categories is None for _, item in pairs):
        results["categories"] = "n/a"
    else:
        lacking = [
            (item, sorted(set(want.tags) - set(item.categories or ()))) for want, item in pairs
        ]
        results["categories"] = _some(
            [f"{_short(item.link, base)} lacks {tags}" for item, tags in lacking if tags], total
        )
    return results


def _utc(moment: int | None) -> str:
    if moment is None:
        return "None"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


@pytest.mark.parametrize("reader", READERS, ids=[reader.name for reader in READERS])
def test_client_shows_links_dates_titles_and_tags_as_published(
    reader: Reader,
    server: GunicornServer,
    truth: list[FeedTruth],
    matrix: Matrix,
    tmp_path: Path,
) -> None:
    if (reason := reader.missing()) is not None:
        matrix.missing[reader.name] = reason
        skip_or_fail(reason)
    reading = reader.read([feed.url for feed in truth], tmp_path)
    now = time.time()
    matrix.versions[reader.name] = reading.version
    for feed in truth:
        key = (reader.name, feed.fmt, feed.lang, feed.scope)
        matrix.cells[key] = check(reading.views[feed.url], feed, server.base_url, now)
    print("\n" + matrix.markdown(reader.name))
    failures = matrix.failures(reader.name)
    assert not failures, f"{reader.name} ({reading.version}):\n" + "\n".join(failures)


def test_each_check_names_what_a_reader_got_wrong() -> None:
    """The checker itself: a faithful view passes; each kind of mistake fails its own check."""
    base = "http://127.0.0.1:1"
    want = Expected(f"{base}/zh-hans/articles/4/health", "卫生服务站", 1770710400, ("health",))
    feed = FeedTruth(
        "atom", "zh-Hans", "site", f"{base}/zh-hans/feed.atom", f"{base}/zh-hans/", {4: want}
    )
    good = Item(
        "tag:x,2026:article/4/zh-Hans",
        want.permalink,
        want.title,
        want.published,
        None,
        ("health",),
    )
    now = time.time()
    assert set(check(View(None, feed.html_page, "t", (good,)), feed, base, now).values()) == {None}
    bad = Item(
        good.id,
        f"{base}/en/articles/4/health",
        "卫生服务站 ",
        want.published + 1,
        int(now) + 900,
        (),
    )
    results = check(View(None, f"{base}/fr/feed.atom", "t", (bad,)), feed, base, now)
    assert {name for name, why in results.items() if why} == {
        "permalink",
        "feed link",
        "published",
        "future",
        "title",
        "categories",
    }
    assert "want /zh-hans/articles/4/health" in str(results["permalink"])
    silent = Item(good.id, good.link, good.title, good.published, None, None)
    assert check(View(None, feed.html_page, "t", (silent,)), feed, base, now)["categories"] == "n/a"
    stray = Item("tag:x,2026:article/9/zh-Hans", good.link, good.title, good.published, None, ())
    assert check(View(None, feed.html_page, "t", (stray,)), feed, base, now)["entries"]
    assert check(View("HTTP 500", None, None, ()), feed, base, now) == {"fetch": "HTTP 500"}
