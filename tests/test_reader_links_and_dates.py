"""What feed readers take from our feeds: one permalink per entry in the feed's language,
the HTML page as the feed's first link, dates to the second that move only for a real
change, and CORS preflight for partner pages."""

from __future__ import annotations

from datetime import datetime

import feedparser
import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.domain import Variant, VariantOrigin, VariantStatus
from feedsvc.store import Store
from tests.conftest import Api

BASE = "http://feeds.test"
ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = [
    f"/{lang}/{scope}feed.{fmt}"
    for lang in ("en", "zh-hans")
    for scope in ("", "news/")
    for fmt in ("atom", "rss")
]


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    with app.app_context():
        load_demo(database(), ("zh-Hans", "fr"))
    return app.test_client()


def parsed(client: FlaskClient, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200, url
    return feedparser.parse(response.data)


@pytest.mark.parametrize("url", FEEDS)
def test_every_entry_has_one_permalink_in_the_feeds_language(web: FlaskClient, url: str) -> None:
    lang = url.split("/")[1]
    document = parsed(web, url)
    assert document.entries, url
    assert document.feed.link == f"{BASE}/{lang}/" + ("news/" if "/news/" in url else "")
    for entry in document.entries:
        assert entry.link.startswith(f"{BASE}/{lang}/articles/"), (url, entry.link)
        if url.endswith(".atom"):
            alternates = [link for link in entry.links if link.rel == "alternate"]
            assert [link.href for link in alternates] == [entry.link], "exactly one alternate"


@pytest.mark.parametrize("url", [u for u in FEEDS if u.endswith(".atom")])
def test_the_feeds_first_alternate_is_its_html_page(web: FlaskClient, url: str) -> None:
    root = etree.fromstring(web.get(url).data)
    first = next(link for link in root.findall(f"{ATOM}link") if link.get("rel") == "alternate")
    assert first.get("type") == "text/html"
    assert first.get("href") == f"{BASE}{url.rsplit('feed.', 1)[0]}"


def test_rss_puts_the_html_page_first_among_its_atom_alternates(web: FlaskClient) -> None:
    channel = etree.fromstring(web.get("/zh-hans/news/feed.rss").data).find("channel")
    first = next(link for link in channel.findall(f"{ATOM}link") if link.get("rel") == "alternate")
    assert (first.get("type"), first.get("href")) == ("text/html", f"{BASE}/zh-hans/news/")


@pytest.mark.parametrize("lang", ["en", "zh-hans", "fr"])
def test_never_edited_entries_read_as_first_published_to_the_second(
    web: FlaskClient, lang: str
) -> None:
    root = etree.fromstring(web.get(f"/{lang}/feed.atom?limit=100").data)
    entries = root.findall(f"{ATOM}entry")
    assert entries or lang == "fr"
    for entry in entries:
        published, updated = entry.findtext(f"{ATOM}published"), entry.findtext(f"{ATOM}updated")
        assert updated == published, entry.findtext(f"{ATOM}title")
        assert "." not in published, "seconds, no fractions"
    assert "." not in root.findtext(f"{ATOM}updated")


def test_updated_moves_once_for_a_real_edit(app: Flask, editor: Api, sections: list[str]) -> None:
    client = app.test_client()

    def dates() -> tuple[str, str]:
        entry = etree.fromstring(client.get("/en/news/world/feed.atom").data).find(f"{ATOM}entry")
        return entry.findtext(f"{ATOM}published"), entry.findtext(f"{ATOM}updated")

    doc = {
        "section": "news/world",
        "external_id": "bridge-1",
        "title": "District opens new bridge",
        "body_html": "<p>The bridge opened.</p>",
        "published_at": "2026-02-19T09:30:00+08:00",
    }
    assert editor.post("/articles", doc).status_code == 201
    assert dates() == ("2026-02-19T01:30:00+00:00", "2026-02-19T01:30:00+00:00")
    assert editor.post("/articles", doc).status_code == 200, "a re-import changes nothing"
    response = editor.post("/articles", doc | {"slug": "new-bridge", "section": "news/local"})
    assert response.status_code == 200
    assert editor.patch("/sections/news/local", {"names": {"en": "Local news"}}).status_code == 200
    moved = etree.fromstring(client.get("/en/news/local/feed.atom").data).find(f"{ATOM}entry")
    assert moved.findtext(f"{ATOM}updated") == moved.findtext(f"{ATOM}published"), (
        "a new slug, section or section name is not a change of the entry"
    )
    edited = editor.post("/articles", doc | {"section": "news/world", "title": "Bridge opens"})
    assert edited.status_code == 200
    published, updated = dates()
    assert published == "2026-02-19T01:30:00+00:00"
    assert datetime.fromisoformat(updated) > datetime.fromisoformat(published)
    again = editor.post("/articles", doc | {"section": "news/world", "title": "Bridge opens"})
    assert again.status_code == 200
    assert dates() == (published, updated), "moves once per real edit"


def test_feeds_answer_a_cors_preflight(web: FlaskClient) -> None:
    response = web.options(
        "/zh-hans/feed.json",
        headers={
            "Origin": "http://partner.test",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    feed = web.get("/zh-hans/feed.json")
    assert "ETag" in feed.headers["Access-Control-Expose-Headers"]
    revalidated = web.get("/zh-hans/feed.json", headers={"If-None-Match": feed.headers["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["Access-Control-Allow-Origin"] == "*"


def translated_article(app: Flask, editor: Api, doc: dict[str, object]) -> int:
    """An article posted through the API with a reviewed zh-Hans variant stored as-is."""
    article_id = int(editor.post("/articles", doc).json["id"])
    with app.app_context(), database().session() as session:
        store = Store(session)
        article = store.articles.get(article_id)
        store.variants.save(
            Variant(
                article.id,
                "zh-Hans",
                "新桥通车",
                None,
                "<p>新桥通车。</p>",
                VariantOrigin.HUMAN,
                VariantStatus.REVIEWED,
                article.revision,
                article.updated_at,
            ),
            article.section_path,
        )
    return article_id


def test_tags_are_categories_in_the_feeds_language(
    app: Flask, editor: Api, admin: Api, sections: list[str]
) -> None:
    admin.post("/glossary/zh-Hans", {"source_term": "transport", "target_term": "交通"})
    doc = {
        "section": "news/world",
        "title": "District opens new bridge",
        "body_html": "<p>The bridge opened.</p>",
        "tags": ["transport", "Huangpu"],
    }
    translated_article(app, editor, doc)
    client = app.test_client()
    for lang, expected in (("en", {"transport", "Huangpu"}), ("zh-hans", {"交通", "Huangpu"})):
        atom = etree.fromstring(client.get(f"/{lang}/feed.atom").data).find(f"{ATOM}entry")
        terms = {c.get("term") for c in atom.findall(f"{ATOM}category")}
        assert expected <= terms, (lang, terms)
        item = etree.fromstring(client.get(f"/{lang}/feed.rss").data).find("channel/item")
        shown = {c.text for c in item.findall("category")}
        assert expected <= shown, (lang, shown)
    zh_entry = etree.fromstring(client.get("/zh-hans/feed.atom").data).find(f"{ATOM}entry")
    assert zh_entry.findtext(f"{ATOM}summary") == "新桥通车。", "no summary: the lead"
    zh_item = etree.fromstring(client.get("/zh-hans/feed.rss").data).find("channel/item")
    shown = {c.text for c in zh_item.findall("category")}
    assert "人工审校" in shown and "en" not in shown and "human-reviewed" not in shown
    provenance = next(c for c in zh_item.findall("category") if c.text == "人工审校")
    assert provenance.get("domain") == "https://feedsvc.example/ns/provenance#human-reviewed"


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_previews_open_with_the_lead_not_the_provenance_note(web: FlaskClient, fmt: str) -> None:
    document = parsed(web, f"/zh-hans/feed.{fmt}")
    assert document.entries
    for entry in document.entries:
        lead = entry.summary
        assert lead and "译自" not in lead[:40], lead[:60]
        content = entry.content[0].value if "content" in entry else entry.description
        text = lxml_text(content)
        assert "译自" not in text[:40], text[:60]
        assert "译自" in text, "the note is still there, after the text"


def lxml_text(html: str) -> str:
    return lxml.html.fragment_fromstring(html, create_parent="div").text_content().strip()


def test_a_translations_first_publication_is_not_an_update(
    app: Flask, editor: Api, translator: Api, sections: list[str]
) -> None:
    """zh-Hans is `reviewed`: the machine draft and its edits are hidden; the approval is
    the entry's first publication, and a later change of the reviewed text an update."""
    from feedsvc.jobs import jobs
    from tests.test_integrity import MarkingTranslator, use_engine

    use_engine(app, MarkingTranslator())
    doc = {
        "section": "news/world",
        "title": "District opens new bridge",
        "body_html": "<p>The bridge opened.</p>",
        "published_at": "2026-02-19T09:30:00+08:00",
    }
    article_id = editor.post("/articles", doc).json["id"]
    with app.app_context():
        jobs().worker.run_pending()
    client = app.test_client()
    base = f"/articles/{article_id}/translations/zh-Hans/segments"

    def save(key: str, target: str | None) -> None:
        segment = next(s for s in translator.get(base).json["items"] if s["key"] == key)
        change = {"status": "approved"} | ({"target": target} if target else {})
        answer = translator.patch(
            f"{base}/{key}", change, headers={"If-Match": f'"{segment["etag"]}"'}
        )
        assert answer.status_code == 200, answer.json

    def entry() -> tuple[str, str] | None:
        root = etree.fromstring(client.get("/zh-hans/news/world/feed.atom").data)
        found = root.find(f"{ATOM}entry")
        if found is None:
            return None
        return found.findtext(f"{ATOM}published"), found.findtext(f"{ATOM}updated")

    save("title", "区里新桥通车")
    assert entry() is None, "not shown before every segment is approved"
    save("body.0.0", "大桥通车了。")
    assert entry() == ("2026-02-19T01:30:00+00:00", "2026-02-19T01:30:00+00:00")
    # An English-only edit does not change what zh-Hans readers see.
    etag = editor.get(f"/articles/{article_id}").headers["ETag"]
    editor.patch(f"/articles/{article_id}", {"title": "Bridge opens"}, headers={"If-Match": etag})
    assert entry() == ("2026-02-19T01:30:00+00:00", "2026-02-19T01:30:00+00:00")
    with app.app_context():
        jobs().worker.run_pending()  # the new English title goes to the engine
    assert entry() is None, "the machine title waits for review"
    save("title", "大桥通车")
    published, updated = entry() or ("", "")
    assert published == "2026-02-19T01:30:00+00:00"
    assert updated > published, "a change of the reviewed text is an update"


def test_a_glossary_change_reaches_cached_feeds_and_slug_tags(
    app: Flask, editor: Api, admin: Api, sections: list[str]
) -> None:
    doc = {
        "section": "news/world",
        "title": "District opens new bridge",
        "body_html": "<p>The bridge opened.</p>",
        "tags": ["hong-kong"],
    }
    translated_article(app, editor, doc)
    client = app.test_client()

    def terms() -> set[str]:
        entry = etree.fromstring(client.get("/zh-hans/news/feed.atom").data).find(f"{ATOM}entry")
        return {c.get("term") for c in entry.findall(f"{ATOM}category")}

    assert "hong-kong" in terms()  # now cached
    admin.post("/glossary/zh-Hans", {"source_term": "Hong Kong", "target_term": "香港"})
    assert "香港" in terms() and "hong-kong" not in terms()
