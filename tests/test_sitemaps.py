"""Sitemaps and robots.txt (issue 14, acceptance 3): every sitemap validates against the
official schemas (tests/schemas/sitemaps), every URL in them answers 200, and the hreflang
alternates are reciprocal.

The store: the demo with a real (tiny) Argos package, under ``zh-Hans:reviewed``: the demo
articles its memory translates are reviewed in zh-Hans, the others only machine-translated
(published in no target language); zh-Hant is converted from reviewed zh-Hans. So the
three languages publish three different sets of articles, and what the sitemaps list is
checked against what the feeds and pages publish, not against the code's own queries."""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.db import database
from feedsvc.jobs import jobs
from feedsvc.store import ArticleFilter, Store
from feedsvc.web import sitemaps
from tests.conftest import Api, article_doc, translating_app

BASE = "http://feeds.test"
LANGUAGES = {"en": "en", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}  # URL tag → BCP 47
SCHEMAS = Path(__file__).parent / "schemas" / "sitemaps"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
NS = {"s": SITEMAP_NS, "x": XHTML_NS, "n": NEWS_NS}


@pytest.fixture
def app(database_url: str, tmp_path: Path, argosmodel: Path) -> Iterator[Flask]:
    with translating_app(
        database_url,
        argosmodel,
        tmp_path / "pk",
        "en,zh-Hans:reviewed,zh-Hant:from=zh-Hans",
        demo=True,
        FEEDSVC_TIMEZONE="Asia/Shanghai",
    ) as app:
        yield app


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    return app.test_client()


# -- the schemas --------------------------------------------------------------------------


@functools.cache
def urlset_schema() -> etree.XMLSchema:
    """sitemap.xsd with the extensions its ``xsd:any processContents="strict"`` needs
    declared: Google News and the xhtml:link of hreflang alternates."""
    wrapper = f"""<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">
      <xsd:import namespace="{SITEMAP_NS}" schemaLocation="sitemap.xsd"/>
      <xsd:import namespace="{XHTML_NS}" schemaLocation="xhtml-link.xsd"/>
      <xsd:import namespace="{NEWS_NS}" schemaLocation="sitemap-news.xsd"/>
    </xsd:schema>"""
    return etree.XMLSchema(etree.fromstring(wrapper, base_url=str(SCHEMAS / "all.xsd")))


@functools.cache
def index_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "siteindex.xsd")))


def assert_valid(schema: etree.XMLSchema, data: bytes, name: str) -> etree._Element:
    root = etree.fromstring(data)
    assert schema.validate(root), f"{name}: {schema.error_log}"
    return root


def test_the_schemas_are_strict() -> None:
    """What the checks below rest on: a foreign element nobody declared, an alternate
    without hreflang, a news language Google does not know, each fails."""
    url = f"<url><loc>{BASE}/en/</loc>{{}}</url>"
    head = f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}" xmlns:news="{NEWS_NS}">'

    def valid(extra: str) -> bool:
        return bool(
            urlset_schema().validate(etree.fromstring(head + url.format(extra) + "</urlset>"))
        )

    link = f'<xhtml:link rel="alternate" hreflang="zh-Hans" href="{BASE}/zh-hans/"/>'
    assert valid(link)
    assert not valid(f'<xhtml:link rel="alternate" href="{BASE}/zh-hans/"/>')
    assert not valid('<other:thing xmlns:other="urn:example:other"/>')
    news = (
        "<news:news><news:publication><news:name>S</news:name><news:language>{}"
        "</news:language></news:publication><news:publication_date>2026-12-01T08:00:00+08:00"
        "</news:publication_date><news:title>T</news:title></news:news>"
    )
    assert valid(news.format("zh-cn"))
    assert not valid(news.format("zh-Hans"))
    assert not index_schema().validate(etree.fromstring(head + url.format("") + "</urlset>"))


# -- reading the sitemaps -----------------------------------------------------------------


@dataclass(frozen=True)
class Url:
    loc: str
    lastmod: str
    alternates: dict[str, str]  # hreflang → href
    file: str


def path_of(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return url.removeprefix(BASE)


def get_xml(web: FlaskClient, url: str) -> bytes:
    response = web.get(path_of(url), base_url=BASE)
    assert response.status_code == 200, url
    assert response.mimetype == "application/xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return response.data


def index_files(web: FlaskClient) -> dict[str, str]:
    """The files the index names: loc → lastmod (the index validated on the way)."""
    root = assert_valid(index_schema(), get_xml(web, f"{BASE}/sitemap.xml"), "sitemap.xml")
    files = {
        s.findtext("s:loc", namespaces=NS): s.findtext("s:lastmod", namespaces=NS)
        for s in root.iterfind("s:sitemap", NS)
    }
    assert len(files) == len(root.findall("s:sitemap", NS))  # each named once
    return files  # type: ignore[return-value]


def read_all(web: FlaskClient) -> dict[str, list[Url]]:
    """Every file of the index, each validated: file URL → its URLs."""
    found = {}
    for file in index_files(web):
        root = assert_valid(urlset_schema(), get_xml(web, file), file)
        found[file] = [
            Url(
                u.findtext("s:loc", namespaces=NS) or "",
                u.findtext("s:lastmod", namespaces=NS) or "",
                {
                    link.get("hreflang"): link.get("href")
                    for link in u.iterfind("x:link", NS)
                    if link.get("rel") == "alternate"
                },
                file,
            )
            for u in root.iterfind("s:url", NS)
        ]
    return found


def kind_of(file: str) -> tuple[str, str]:
    """(URL language tag, "sections" | "news" | a file number)."""
    name = path_of(file).removeprefix("/sitemaps/").removesuffix(".xml")
    lang, _, kind = name.rpartition("-")
    assert lang in LANGUAGES, file
    return lang, kind


def article_urls(found: dict[str, list[Url]], lang: str) -> list[str]:
    return [
        u.loc
        for file, entries in found.items()
        if kind_of(file)[0] == lang and kind_of(file)[1].isdigit()
        for u in entries
    ]


def feed_urls(web: FlaskClient, lang: str) -> set[str]:
    """The article pages a language's site feed publishes, over all its pages."""
    urls: set[str] = set()
    next_page: str | None = f"{BASE}/{lang}/feed.json?limit=100"
    while next_page:
        data = json.loads(web.get(path_of(next_page), base_url=BASE).data)
        urls |= {item["url"] for item in data["items"]}
        next_page = data.get("next_url")
    return urls


def live_articles(app: Flask) -> list[tuple[int, str]]:
    with app.app_context(), database().session() as session:
        articles = Store(session).articles.page(ArticleFilter(), 1, 1000).items
    return [(a.id, a.slug) for a in articles]


# -- acceptance 3 -------------------------------------------------------------------------


def test_every_sitemap_validates_and_every_url_answers_200(web: FlaskClient, app: Flask) -> None:
    found = read_all(web)
    kinds = {kind_of(file) for file in found}
    assert {("en", "sections"), ("en", "1"), ("zh-hans", "1"), ("zh-hant", "1")} <= kinds
    every = {u.loc for entries in found.values() for u in entries}
    every |= {href for entries in found.values() for u in entries for href in u.alternates.values()}
    for url in sorted(every):
        response = web.get(path_of(url), base_url=BASE)
        assert response.status_code == 200, url  # not a redirect, not a 404
        assert response.mimetype == "text/html"
    for file, entries in found.items():
        lang, _ = kind_of(file)
        assert all(path_of(u.loc).startswith(f"/{lang}/") for u in entries), file
        assert all(u.lastmod.endswith("+08:00") for u in entries)  # W3C, the site's zone


def test_each_language_lists_exactly_what_it_publishes(web: FlaskClient, app: Flask) -> None:
    """The article pages of a language's files are its feed's, each once; every other
    article page of that language is not a page (404), so none is missing either."""
    found = read_all(web)
    sizes = {}
    for lang in LANGUAGES:
        listed = article_urls(found, lang)
        assert len(listed) == len(set(listed))
        assert set(listed) == feed_urls(web, lang), lang
        sizes[lang] = len(listed)
        for article_id, slug in live_articles(app):
            url = f"{BASE}/{lang}/articles/{article_id}/{slug}"
            if url not in listed:
                assert web.get(path_of(url)).status_code == 404, url
    # the three languages publish different sets: the test had something to tell apart
    assert sizes["en"] > sizes["zh-hans"] > 0 and sizes["zh-hant"] > 0
    # the home page in every language, and a section page only where it lists something
    for lang in LANGUAGES:
        sections = {u.loc for u in found[f"{BASE}/sitemaps/{lang}-sections.xml"]}
        assert f"{BASE}/{lang}/" in sections
        for url in sections - {f"{BASE}/{lang}/"}:
            page = web.get(path_of(url)).data.decode()
            assert "/articles/" in page, url


def test_hreflang_alternates_are_reciprocal(web: FlaskClient) -> None:
    found = read_all(web)
    by_loc = {u.loc: u for entries in found.values() for u in entries if "-news" not in u.file}
    checked = 0
    for url in by_loc.values():
        tags = {tag for tag in url.alternates if tag != "x-default"}
        assert set(LANGUAGES.values()) >= tags
        assert url.alternates[LANGUAGES[kind_of(url.file)[0]]] == url.loc  # itself included
        for tag in tags:
            other = by_loc[url.alternates[tag]]  # listed in that language's files
            assert other.alternates == url.alternates  # the same set, both ways
            assert kind_of(other.file)[0] == tag.lower()
            checked += 1
        if len(tags) > 1:
            assert url.alternates["x-default"] == url.alternates["en"]
        else:
            assert "x-default" not in url.alternates
    assert checked > len(by_loc)  # some pages have versions in other languages


# -- what does not belong ---------------------------------------------------------------


def article_of(app: Flask, lang: str, status: str) -> tuple[int, str, str]:
    """A live demo article whose variant in ``lang`` has ``status``: id, slug, section."""
    with app.app_context(), database().session() as session:
        store = Store(session)
        articles = store.articles.page(ArticleFilter(), 1, 1000).items
        variants = store.variants.of([a.id for a in articles])
        for article in articles:
            if any(v.lang == lang and v.status.value == status for v in variants[article.id]):
                return article.id, article.slug, article.section_path
    raise AssertionError(f"no {status} variant in {lang}")


def test_deleted_withdrawn_and_unreviewed_pages_stay_out(
    web: FlaskClient, app: Flask, editor: Api
) -> None:
    machine_id, machine_slug, _ = article_of(app, "zh-Hans", "machine_translated")
    reviewed_id, reviewed_slug, reviewed_section = article_of(app, "zh-Hans", "reviewed")
    found = read_all(web)
    zh = set(article_urls(found, "zh-hans"))
    assert f"{BASE}/zh-hans/articles/{machine_id}/{machine_slug}" not in zh  # policy: reviewed
    english = {u.loc: u for entries in found.values() for u in entries}
    machine_en = english[f"{BASE}/en/articles/{machine_id}/{machine_slug}"]
    assert set(machine_en.alternates) == {"en"}
    assert f"{BASE}/zh-hans/articles/{reviewed_id}/{reviewed_slug}" in zh
    etag = web.get("/sitemaps/en-1.xml").headers["ETag"]

    # a reviewer's rejection takes the variant out (withdrawn); an article is deleted
    with app.app_context(), database().session() as session:
        Store(session).variants.withdraw(
            reviewed_id, "zh-Hans", reviewed_section, datetime.now(UTC)
        )
    deleted_id, deleted_slug = next(
        (i, s) for i, s in live_articles(app) if i not in (machine_id, reviewed_id)
    )
    assert editor.delete(f"/articles/{deleted_id}").status_code == 204

    found = read_all(web)
    listed = {u.loc: u for entries in found.values() for u in entries}
    assert f"{BASE}/zh-hans/articles/{reviewed_id}/{reviewed_slug}" not in listed
    assert "zh-Hans" not in listed[f"{BASE}/en/articles/{reviewed_id}/{reviewed_slug}"].alternates
    assert not any(f"/articles/{deleted_id}/" in url for url in listed)
    assert web.get("/sitemaps/en-1.xml").headers["ETag"] != etag  # not the cached render
    assert set(article_urls(found, "zh-hans")) == feed_urls(web, "zh-hans")


def test_news_sitemap_holds_the_last_48_hours(web: FlaskClient, app: Flask, editor: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ages = {"fresh": 1, "two-days": 47, "too-old": 49, "future": -3}  # hours ago
    created = {}
    for name, hours in ages.items():
        published = (now - timedelta(hours=hours)).isoformat()
        response = editor.post(
            "/articles",
            article_doc(
                section="news", title=f"News {name}", external_id=name, published_at=published
            ),
        )
        assert response.status_code == 201, response.json
        created[name] = response.json
    # a reviewed zh-Hans article republished an hour ago: its Chinese title in the news
    reviewed_id, reviewed_slug, _ = article_of(app, "zh-Hans", "reviewed")
    etag = editor.get(f"/articles/{reviewed_id}").headers["ETag"]
    moved = editor.patch(
        f"/articles/{reviewed_id}",
        {"published_at": (now - timedelta(hours=2)).isoformat()},
        headers={"If-Match": etag},
    )
    assert moved.status_code == 200, moved.json
    with app.app_context():
        jobs().worker.run_pending()

    files = index_files(web)
    news = {}
    for lang in ("en", "zh-hans"):
        file = f"{BASE}/sitemaps/{lang}-news.xml"
        assert file in files
        root = assert_valid(urlset_schema(), get_xml(web, file), file)
        news[lang] = {
            u.findtext("s:loc", namespaces=NS): u.find("n:news", NS)
            for u in root.iterfind("s:url", NS)
        }
    expected = {
        f"{BASE}/en/articles/{created[n]['id']}/{created[n]['slug']}" for n in ("fresh", "two-days")
    } | {f"{BASE}/en/articles/{reviewed_id}/{reviewed_slug}"}
    assert set(news["en"]) == expected
    fresh = news["en"][f"{BASE}/en/articles/{created['fresh']['id']}/{created['fresh']['slug']}"]
    assert fresh.findtext("n:publication/n:name", namespaces=NS) == "feedsvc News"
    assert fresh.findtext("n:publication/n:language", namespaces=NS) == "en"
    assert fresh.findtext("n:title", namespaces=NS) == "News fresh"
    published = datetime.fromisoformat(fresh.findtext("n:publication_date", namespaces=NS) or "")
    assert published == now - timedelta(hours=1) and published.utcoffset() == timedelta(hours=8)

    (chinese,) = news["zh-hans"].values()  # the new articles are not reviewed in zh-Hans
    assert chinese.findtext("n:publication/n:language", namespaces=NS) == "zh-cn"
    title = chinese.findtext("n:title", namespaces=NS) or ""
    assert any("\u4e00" <= c <= "\u9fff" for c in title), title
    if f"{BASE}/sitemaps/zh-hant-news.xml" in files:  # converted when reviewed zh-Hans was
        hant = get_xml(web, f"{BASE}/sitemaps/zh-hant-news.xml")
        assert b"<news:language>zh-tw</news:language>" in hant


def test_a_language_without_recent_news_has_no_news_file(web: FlaskClient) -> None:
    """The demo's articles are months old: no news sitemap is listed (one without a
    ``<url>`` would not validate), and the URL answers an empty set rather than a 404."""
    assert not [file for file in index_files(web) if file.endswith("-news.xml")]
    empty = web.get("/sitemaps/en-news.xml")
    assert empty.status_code == 200
    assert etree.fromstring(empty.data).findall("s:url", NS) == []


# -- files, caching, robots.txt ---------------------------------------------------------


def test_small_files_together_hold_every_url_once(
    web: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = set(article_urls(read_all(web), "en"))
    monkeypatch.setattr(sitemaps, "URLS_PER_FILE", 3)
    found = read_all(web)
    numbered = [f for f in found if kind_of(f)[0] == "en" and kind_of(f)[1].isdigit()]
    highest = max(article_id for article_id, _ in live_articles(app))
    assert len(numbered) == math.ceil(highest / 3)  # the demo's ids have no gap
    assert all(1 <= len(found[f]) <= 3 for f in numbered)
    listed = article_urls(found, "en")
    assert len(listed) == len(set(listed)) and set(listed) == everything
    for file in numbered:  # file n: the ids (n-1)·3+1 … n·3
        number = int(kind_of(file)[1])
        ids = {int(path_of(u.loc).split("/")[3]) for u in found[file]}
        assert ids <= set(range((number - 1) * 3 + 1, number * 3 + 1))
    beyond = math.ceil(highest / 3) + 1
    assert web.get(f"/sitemaps/en-{beyond}.xml").status_code == 404
    assert web.get("/sitemaps/en-0.xml").status_code == 404
    assert web.get("/sitemaps/en-999999999999999999.xml").status_code == 404
    assert web.get(f"/sitemaps/en-{2**31 // 3 + 1}.xml").status_code == 404  # past any id
    padded = web.get("/sitemaps/en-01.xml")
    assert padded.status_code == 301 and padded.headers["Location"].endswith("/sitemaps/en-1.xml")


def test_a_file_fits_the_protocol_limits_whatever_the_languages() -> None:
    from feedsvc.config import load_settings

    settings = load_settings(
        Path("/nonexistent"),
        {
            "FEEDSVC_DATABASE_URL": "sqlite://",
            "FEEDSVC_SECRET_KEY": "x" * 32,
            "FEEDSVC_BASE_URL": "https://news.example.com",
            "FEEDSVC_LANGUAGES": "en,zh-Hans,zh-Hant:from=zh-Hans,fr,de,es,ja,ko,ar,ru,pt,it",
        },
    )
    per_file = sitemaps.urls_per_file(settings)
    assert 1_000 < per_file <= 10_000
    slug = "s" * 200
    writer = sitemaps.Writer(settings)
    alternates = [
        (tag, f"{settings.base_url}/{tag.lower()}/articles/9999999999/{slug}")
        for tag in settings.language_tags
    ]
    entry = writer.url(alternates[0][1], datetime.now(UTC), alternates)
    assert per_file * len(entry.encode()) <= sitemaps.MAX_BYTES


def test_cached_and_revalidated_like_a_feed(web: FlaskClient) -> None:
    first = web.get("/sitemaps/zh-hans-1.xml")
    etag = first.headers["ETag"]
    again = web.get("/sitemaps/zh-hans-1.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    index = web.get("/sitemap.xml")
    assert (
        web.get("/sitemap.xml", headers={"If-None-Match": index.headers["ETag"]}).status_code == 304
    )
    packed = web.get("/sitemaps/zh-hans-1.xml", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == first.data
    assert "Accept-Encoding" in packed.headers["Vary"]
    # the canonical spelling of the language, as every public URL
    moved = web.get("/sitemaps/ZH-HANS-1.xml")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(
        "/sitemaps/zh-hans-1.xml"
    )


def test_robots_txt_names_the_index_and_keeps_crawlers_out_of_the_back_office(
    web: FlaskClient,
) -> None:
    response = web.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.data.decode().splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = [line.removeprefix("Disallow: ") for line in lines if line.startswith("Disallow:")]
    assert {"/review/", "/api/", "/websub", "/*/embed$"} <= set(disallowed)
    assert not any(rule in ("/", "/en/", "/zh-hans/") for rule in disallowed)
    assert f"Sitemap: {BASE}/sitemap.xml" in lines
    # the index it names is there
    assert web.get("/sitemap.xml").status_code == 200
