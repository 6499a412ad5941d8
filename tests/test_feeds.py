"""Feeds of the demo content: parse, round-trip, links, paging, caching, HTTP semantics."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime

import brotli
import feedparser
import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import update

from feedsvc.db import database
from feedsvc.db.tables import ArticleRow
from feedsvc.demo import load_demo
from feedsvc.domain import Variant, VariantOrigin, VariantStatus
from feedsvc.store import ArticleFilter, Store
from tests.conftest import Api

BASE = "http://feeds.test"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def demo(app: Flask) -> Flask:
    with app.app_context():
        load_demo(database())
    return app


@pytest.fixture
def web(demo: Flask) -> FlaskClient:
    return demo.test_client()


def get(client: FlaskClient, url: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.get(url.removeprefix(BASE), base_url=BASE, headers=headers)


def renders(app: Flask) -> float:
    metric = app.extensions["feedsvc.metrics"].feed_renders
    return sum(
        sample.value
        for family in metric.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    )


def demo_translations(app: Flask) -> dict[int, Variant]:
    with app.app_context(), database().session() as session:
        store = Store(session)
        page = store.articles.page(ArticleFilter(), 1, 100)
        variants = store.variants.of([a.id for a in page.items])
    return {v.article_id: v for vs in variants.values() for v in vs if v.lang == "zh-Hans"}


SCOPES = ["", "news/", "news/media-views-of-huangpu/", "business/investment/", "culture/"]


def feed_urls() -> Iterator[tuple[str, str, str]]:
    for lang in ("en", "zh-hans"):
        for scope in SCOPES:
            for fmt in ("atom", "rss", "json"):
                yield lang, scope, fmt


def text_of(html: str) -> str:
    return lxml.html.fragment_fromstring(html, create_parent="div").text_content()


def parse(data: bytes, url: str, fmt: str, content_type: str) -> feedparser.FeedParserDict:
    """feedparser for Atom and RSS; JSON Feed (which feedparser 6 does not read) mapped to
    the same names by hand, after schema validation elsewhere."""
    if fmt != "json":
        return feedparser.parse(
            data, response_headers={"content-type": content_type, "content-location": url}
        )
    document = json.loads(data)
    entries = [
        feedparser.FeedParserDict(
            id=item["id"],
            link=item["url"],
            title=item["title"],
            content=[feedparser.FeedParserDict(value=item["content_html"])],
            published_parsed=item["date_published"],
            updated_parsed=item["date_modified"],
            tags=[feedparser.FeedParserDict(term=t, label=None) for t in item.get("tags", [])],
        )
        for item in document["items"]
    ]
    feed = feedparser.FeedParserDict(
        title=document["title"], language=document["language"], links=[]
    )
    return feedparser.FeedParserDict(bozo=0, feed=feed, entries=entries)


@pytest.mark.parametrize(("lang", "scope", "fmt"), list(feed_urls()))
def test_every_demo_feed_parses_with_the_right_data(
    web: FlaskClient, demo: Flask, lang: str, scope: str, fmt: str
) -> None:
    translations = demo_translations(demo)
    url = f"{BASE}/{lang}/{scope}feed.{fmt}?limit=3"
    seen_pages = 0
    while url:
        response = get(web, url)
        assert response.status_code == 200, (url, response.data[:300])
        parsed = parse(response.data, url, fmt, response.headers["Content-Type"])
        assert parsed.bozo == 0, (url, parsed.get("bozo_exception"))
        feed = parsed.feed
        expected_lang = "en" if lang == "en" else "zh-Hans"
        assert feed.get("language") == expected_lang
        assert feed.title.startswith("feedsvc News")
        if fmt != "json":
            self_links = [link.href for link in feed.links if link.rel == "self"]
            assert self_links == [url]
        for entry in parsed.entries:
            assert entry.id.startswith("tag:feeds.test,2026:article/")
            assert entry.id.endswith(f"/{expected_lang}")
            assert entry.link.startswith(f"{BASE}/{lang}/articles/")
            assert entry.published_parsed
            if fmt != "rss":  # RSS items carry no updated time
                assert entry.updated_parsed
            article_id = int(entry.id.split("/")[-2])
            if lang == "zh-hans":
                variant = translations[article_id]
                assert entry.title == variant.title  # Chinese round-trips exactly
                # feedparser sanitizes markup (figure goes), so compare the text exactly.
                assert text_of(variant.body_html) in text_of(entry.content[0].value)
            labels = {t.get("label") or t.term for t in entry.tags}
            assert any("›" in label for label in labels), labels  # the section breadcrumb
        seen_pages += 1
        url = _next_link(response.data, fmt)
    assert seen_pages >= 1


def _next_link(data: bytes, fmt: str) -> str | None:
    if fmt == "json":
        return json.loads(data).get("next_url")
    root = etree.fromstring(data)
    links = root.iter(f"{ATOM}link")
    return next((link.get("href") for link in links if link.get("rel") == "next"), None)


def test_all_sections_feed_pages_1_and_2_and_paging_links(web: FlaskClient) -> None:
    first = etree.fromstring(get(web, f"{BASE}/en/feed.atom?limit=5").data)
    links = {
        link.get("rel"): link.get("href")
        for link in first.findall(f"{ATOM}link")
        if link.get("type") == "application/atom+xml" and link.get("hreflang") is None
    }
    assert links["self"] == f"{BASE}/en/feed.atom?limit=5"
    assert links["first"] == f"{BASE}/en/feed.atom?limit=5"
    assert links["next"] == f"{BASE}/en/feed.atom?page=2&limit=5"
    assert links["last"] == f"{BASE}/en/feed.atom?page=3&limit=5"
    assert "previous" not in links
    last = etree.fromstring(get(web, links["last"]).data)
    last_links = {link.get("rel"): link.get("href") for link in last.findall(f"{ATOM}link")}
    assert last_links["previous"] == f"{BASE}/en/feed.atom?page=2&limit=5"
    assert "next" not in last_links
    ids = [e.findtext(f"{ATOM}id") for page in (first, last) for e in page.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids)) == 5 + 4


def test_rss_keeps_paging_and_language_links(web: FlaskClient) -> None:
    """feedgen writes only the self atom:link into RSS (#122); ours must all be there."""
    channel = etree.fromstring(get(web, f"{BASE}/en/news/feed.rss?limit=2").data).find("channel")
    rels = {(link.get("rel"), link.get("hreflang")) for link in channel.findall(f"{ATOM}link")}
    assert {
        ("self", None),
        ("first", None),
        ("last", None),
        ("next", None),
        ("related", "zh-Hans"),
    } <= rels


def test_entry_links_keep_their_attributes(web: FlaskClient, demo: Flask) -> None:
    """feedgen 1.0 drops rel/type/hreflang on entry links (#135); ours must keep them."""
    translated = sorted(demo_translations(demo))
    root = etree.fromstring(get(web, f"{BASE}/en/feed.atom?limit=100").data)
    for entry in root.findall(f"{ATOM}entry"):
        article_id = int(entry.findtext(f"{ATOM}id").split("/")[-2])
        links = [
            (link.get("rel"), link.get("type"), link.get("hreflang"))
            for link in entry.findall(f"{ATOM}link")
        ]
        alternates = [link for link in links if link[0] == "alternate"]
        assert alternates == [("alternate", "text/html", "en")], "exactly one permalink"
        if article_id in translated:
            assert ("related", "text/html", "zh-Hans") in links


def test_translated_entries_state_their_provenance(web: FlaskClient) -> None:
    root = etree.fromstring(get(web, f"{BASE}/zh-hans/feed.atom").data)
    for entry in root.findall(f"{ATOM}entry"):
        categories = {
            c.get("scheme"): (c.get("term"), c.get("label"))
            for c in entry.findall(f"{ATOM}category")
        }
        assert categories["https://feedsvc.example/ns/provenance"] == ("human-reviewed", "人工审校")
        assert not any("source-language" in (scheme or "") for scheme in categories)
        content = entry.findtext(f"{ATOM}content")
        assert "本文由人工译自英语" in content, "visible to people, in the feed's language"
        english = [link for link in entry.findall(f"{ATOM}link") if link.get("hreflang") == "en"]
        assert english and english[0].get("href").startswith(f"{BASE}/en/articles/")
    document = json.loads(get(web, f"{BASE}/zh-hans/feed.json").data)
    for item in document["items"]:
        assert item["_feedsvc"]["provenance"] == "human-reviewed"
        assert item["_feedsvc"]["original_url"].startswith(f"{BASE}/en/articles/")


def test_media_types_cors_and_cache_headers(web: FlaskClient) -> None:
    for fmt, media_type in (
        ("atom", "application/atom+xml"),
        ("rss", "application/rss+xml"),
        ("json", "application/feed+json"),
    ):
        response = get(web, f"{BASE}/en/feed.{fmt}")
        assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "public, max-age=300"
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["ETag"].startswith('"') and "W/" not in response.headers["ETag"]
    opml = get(web, f"{BASE}/feeds.opml")
    assert opml.headers["Content-Type"] == "text/x-opml; charset=utf-8"


def test_conditional_get_on_both_validators(web: FlaskClient) -> None:
    url = f"{BASE}/en/news/feed.atom"
    first = get(web, url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = get(web, url, **{"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.data == b""
    by_date = get(web, url, **{"If-Modified-Since": last_modified})
    assert by_date.status_code == 304 and by_date.data == b""
    older = format_datetime(parsedate_to_datetime(last_modified).replace(year=2001), usegmt=True)
    assert get(web, url, **{"If-Modified-Since": older}).status_code == 200
    assert get(web, url, **{"If-None-Match": '"other"'}).status_code == 200


def test_head_answers_headers_without_body(web: FlaskClient) -> None:
    response = web.head("/en/feed.rss", base_url=BASE)
    assert response.status_code == 200
    assert response.data == b""
    assert int(response.headers["Content-Length"]) > 1000


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("gzip", "gzip"),
        ("br, gzip", "br"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("identity", None),
        ("", None),
    ],
)
def test_compression_is_negotiated(web: FlaskClient, accept: str, encoding: str | None) -> None:
    plain = get(web, f"{BASE}/en/feed.atom").data
    response = get(web, f"{BASE}/en/feed.atom", **{"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") == encoding
    body = response.data
    decoded = {"gzip": gzip.decompress, "br": brotli.decompress}.get(encoding or "", bytes)(body)
    assert decoded == plain
    if encoding:
        assert response.headers["ETag"] != get(web, f"{BASE}/en/feed.atom").headers["ETag"]


def test_ids_stay_put_and_updated_moves_only_with_content(
    web: FlaskClient, editor: Api, demo: Flask
) -> None:
    url = f"{BASE}/en/news/media-views-of-huangpu/feed.atom"
    before = etree.fromstring(get(web, url).data)
    before_updated = before.findtext(f"{ATOM}updated")
    assert etree.fromstring(get(web, url).data).findtext(f"{ATOM}updated") == before_updated
    first = before.find(f"{ATOM}entry")
    entry_id = first.findtext(f"{ATOM}id")
    article_id = int(entry_id.split("/")[-2])

    # An edit outside the scope changes nothing here.
    other = editor.get("/articles?section=culture&per_page=1").json["items"][0]
    editor.patch(f"/articles/{other['id']}", {"title": "Elsewhere"}, headers={"If-Match": "*"})
    assert etree.fromstring(get(web, url).data).findtext(f"{ATOM}updated") == before_updated

    # An edit in scope: the same id, a newer updated, the new title.
    edited = editor.patch(
        f"/articles/{article_id}",
        {"title": "Edited headline", "slug": "new"},
        headers={"If-Match": "*"},
    )
    assert edited.status_code == 200
    after = etree.fromstring(get(web, url).data)
    entry = next(e for e in after.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == entry_id)
    assert entry.findtext(f"{ATOM}title") == "Edited headline"
    assert entry.findtext(f"{ATOM}updated") > first.findtext(f"{ATOM}updated")
    assert after.findtext(f"{ATOM}updated") >= before_updated  # to the second


def test_render_cache_is_invalidated_exactly_by_changes_in_scope(
    web: FlaskClient, editor: Api, demo: Flask
) -> None:
    news = f"{BASE}/en/news/feed.atom"
    get(web, news)
    count = renders(demo)
    for _ in range(3):
        get(web, news)
        web.head(news.removeprefix(BASE), base_url=BASE)
    assert renders(demo) == count, "served from the cache, not re-rendered"

    other = editor.get("/articles?section=culture&per_page=1").json["items"][0]
    editor.patch(f"/articles/{other['id']}", {"title": "Elsewhere"}, headers={"If-Match": "*"})
    get(web, news)
    assert renders(demo) == count, "a change outside news/ does not invalidate it"

    editor.post(
        "/articles",
        {"section": "news/district-updates", "title": "Fresh news", "body_html": "<p>Now.</p>"},
    )
    fresh = get(web, news)
    assert renders(demo) == count + 1
    assert b"Fresh news" in fresh.data


def test_translation_publish_invalidates_both_languages(web: FlaskClient, demo: Flask) -> None:
    zh_url, en_url = f"{BASE}/zh-hans/culture/feed.json", f"{BASE}/en/culture/feed.json"
    zh_before = json.loads(get(web, zh_url).data)["items"]
    translated = {int(i["id"].split("/")[-2]) for i in zh_before}
    with demo.app_context(), database().session() as session:
        store = Store(session)
        article = next(
            a
            for a in store.articles.page(ArticleFilter("culture"), 1, 50).items
            if a.id not in translated
        )
        store.variants.save(
            Variant(
                article.id,
                "zh-Hans",
                "新的文化新闻",
                None,
                "<p>正文。</p>",
                VariantOrigin.HUMAN,
                VariantStatus.REVIEWED,
                article.revision,
                article.updated_at,
            ),
            article.section_path,
        )
    zh_after = json.loads(get(web, zh_url).data)["items"]
    assert len(zh_after) == len(zh_before) + 1
    en_item = next(
        i
        for i in json.loads(get(web, en_url).data)["items"]
        if i["id"].endswith(f"/{article.id}/en")
    )
    assert {
        "language": "zh-Hans",
        "url": f"{BASE}/zh-hans/articles/{article.id}/{article.slug}",
    } in en_item["_feedsvc"]["alternates"]


def test_reviewed_policy_hides_machine_variants_machine_policy_labels_them(
    web: FlaskClient, demo: Flask
) -> None:
    with demo.app_context(), database().session() as session:
        store = Store(session)
        article = store.articles.page(ArticleFilter("news"), 1, 1).items[0]
        for lang in ("zh-Hans", "fr"):
            store.variants.save(
                Variant(
                    article.id,
                    lang,
                    f"MT {lang}",
                    None,
                    "<p>MT</p>",
                    VariantOrigin.MACHINE,
                    VariantStatus.MACHINE_TRANSLATED,
                    article.revision,
                    article.updated_at,
                ),
                article.section_path,
            )
    zh_ids = [i["id"] for i in json.loads(get(web, f"{BASE}/zh-hans/feed.json").data)["items"]]
    assert f"tag:feeds.test,2026:article/{article.id}/zh-Hans" not in zh_ids
    assert get(web, f"{BASE}/zh-hans/articles/{article.id}/{article.slug}").status_code == 404
    fr = json.loads(get(web, f"{BASE}/fr/feed.json").data)["items"]
    assert [i["_feedsvc"]["provenance"] for i in fr] == ["machine-translated"]
    fr_atom = etree.fromstring(get(web, f"{BASE}/fr/feed.atom").data)
    terms = {c.get("term") for c in fr_atom.iter(f"{ATOM}category")}
    assert "machine-translated" in terms
    assert get(web, f"{BASE}/fr/articles/{article.id}/{article.slug}").status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/ZH-HANS/feed.atom", 301, "/zh-hans/feed.atom"),
        ("/zh-Hans/news/feed.rss?limit=2", 301, "/zh-hans/news/feed.rss?limit=2"),
        ("/EN/", 301, "/en/"),
        ("/de/feed.atom", 404, None),
        ("/en/nowhere/feed.atom", 404, None),
        ("/en/feed.xml", 404, None),
        ("/en/feed.atom?page=0", 400, None),
        ("/en/feed.atom?page=x", 400, None),
        ("/en/feed.atom?limit=101", 400, None),
        ("/en/feed.atom?limit=0", 400, None),
        ("/en/feed.atom?page=99", 404, None),
        ("/en/articles/999999/x", 404, None),
    ],
)
def test_status_codes(web: FlaskClient, path: str, status: int, location: str | None) -> None:
    response = web.get(path, base_url=BASE)
    assert response.status_code == status
    if location:
        assert response.headers["Location"].removeprefix(BASE) == location


def test_moved_section_redirects(web: FlaskClient, editor: Api) -> None:
    assert editor.patch("/sections/culture/events", {"path": "news/events"}).status_code == 200
    response = web.get("/en/culture/events/feed.atom?limit=3", base_url=BASE)
    assert response.status_code == 301
    assert response.headers["Location"].removeprefix(BASE) == "/en/news/events/feed.atom?limit=3"


def test_invalid_xml_characters_never_break_a_feed(web: FlaskClient, demo: Flask) -> None:
    """Rows written before sanitizing existed (or by hand) may hold them; feeds cope."""
    with demo.app_context(), database().session() as session:
        store = Store(session)
        article = store.articles.page(ArticleFilter("news"), 1, 1).items[0]
        session.execute(
            update(ArticleRow)
            .where(ArticleRow.id == article.id)
            .values(title="Bad\x0bchars\x01 here", body_html="<p>a\x1fb\x0cc</p>")
        )
        store.feeds.touch(["news"], article.updated_at)
    for fmt in ("atom", "rss"):
        data = get(web, f"{BASE}/en/news/feed.{fmt}").data
        etree.fromstring(data)  # well-formed
        assert b"Badchars here" in data
    assert json.loads(get(web, f"{BASE}/en/news/feed.json").data)["items"]


def test_opml_lists_every_section_feed(web: FlaskClient, demo: Flask) -> None:
    with demo.app_context(), database().session() as session:
        paths = {s.path for s in Store(session).sections.all()}
    root = etree.fromstring(get(web, f"{BASE}/feeds.opml").data)
    assert root.get("version") == "2.0"
    outlines = list(root.iter("outline"))
    urls = {o.get("xmlUrl") for o in outlines}
    for lang in ("en", "zh-hans"):
        assert f"{BASE}/{lang}/feed.rss" in urls
        for path in paths:
            assert f"{BASE}/{lang}/{path}/feed.rss" in urls
    assert all(o.get("text") and o.get("language") for o in outlines)
    feeds = [o for o in outlines if o.get("xmlUrl")]
    folders = [o for o in outlines if not o.get("xmlUrl")]
    assert all(o.get("type") == "rss" and not len(o) for o in feeds), "feeds are leaves"
    assert all(len(o) for o in folders), "folders hold feeds"
    titles = [o.get("text") for o in feeds]
    assert len(titles) == len(set(titles)), "no two feeds share a title"
    only_zh = etree.fromstring(get(web, f"{BASE}/zh-hans/feeds.opml").data)
    assert {o.get("language") for o in only_zh.iter("outline")} == {"zh-Hans"}
    assert "feedsvc News — 中文 (简体) — 新闻" in {o.get("text") for o in only_zh.iter("outline")}
    assert only_zh.find("head").xpath("comment()"), "the head says parents include children"

    leaves = etree.fromstring(get(web, f"{BASE}/zh-hans/feeds.opml?leaves=1").data)
    leaf_urls = {o.get("xmlUrl") for o in leaves.iter("outline") if o.get("xmlUrl")}
    parents = {path.rpartition("/")[0] for path in paths}
    assert leaf_urls == {f"{BASE}/zh-hans/{path}/feed.rss" for path in paths if path not in parents}


def test_every_link_in_every_feed_answers_200(web: FlaskClient) -> None:
    targets: set[str] = set()
    for lang, scope, fmt in feed_urls():
        data = get(web, f"{BASE}/{lang}/{scope}feed.{fmt}?limit=100").data
        if fmt == "json":
            document = json.loads(data)
            targets.add(document["home_page_url"])
            for item in document["items"]:
                targets.add(item["url"])
                targets.update(a["url"] for a in item["_feedsvc"]["alternates"])
        else:
            root = etree.fromstring(data)
            targets.update(link.get("href") for link in root.iter(f"{ATOM}link"))
            targets.update(link.text for link in root.iter("link") if link.text)
            targets.update(element.text for element in root.iter(f"{ATOM}icon", f"{ATOM}logo"))
    ours = sorted(t for t in targets if t.startswith(BASE))
    assert len(ours) > 50
    for url in ours:
        response = get(web, url)
        response.close()  # static files are streamed from disk
        assert response.status_code == 200, url
