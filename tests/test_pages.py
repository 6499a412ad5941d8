"""Public HTML pages: language, autodiscovery, hreflang alternates, localized UI, safe body."""

from __future__ import annotations

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.store import ArticleFilter, Store
from tests.conftest import Api

BASE = "http://feeds.test"


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    with app.app_context():
        load_demo(database())
    return app.test_client()


def page(web: FlaskClient, path: str) -> lxml.html.HtmlElement:
    response = web.get(path, base_url=BASE)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.data)


def test_section_page_offers_its_feeds_and_languages(web: FlaskClient) -> None:
    doc = page(web, "/en/news/media-views-of-huangpu/")
    assert doc.get("lang") == "en"
    feeds = {
        link.get("type"): link.get("href")
        for link in doc.xpath("//head/link[@rel='alternate'][@type]")
    }
    assert feeds == {
        "application/atom+xml": f"{BASE}/en/news/media-views-of-huangpu/feed.atom",
        "application/rss+xml": f"{BASE}/en/news/media-views-of-huangpu/feed.rss",
        "application/feed+json": f"{BASE}/en/news/media-views-of-huangpu/feed.json",
    }
    languages = {link.get("hreflang") for link in doc.xpath("//head/link[@hreflang]")}
    assert languages == {"en", "zh-Hans", "fr"}
    assert doc.findtext(".//h1") == "Media Views of Huangpu"
    trail = doc.xpath("//nav[@class='breadcrumb']//a")
    assert [(a.text, a.get("href")) for a in trail] == [
        ("feedsvc News", f"{BASE}/en/"),
        ("News", f"{BASE}/en/news/"),
    ]
    assert len(doc.xpath("//ol[@class='articles']/li")) == 3


def test_chinese_pages_speak_chinese(web: FlaskClient) -> None:
    doc = page(web, "/zh-hans/")
    assert doc.get("lang") == "zh-Hans"
    assert "最新消息" in doc.text_content()
    headlines = doc.xpath("//ol[@class='articles']/li//h3/a/text()")
    assert len(headlines) == 5 and all(any("\u4e00" <= c <= "\u9fff" for c in h) for h in headlines)


def test_article_page_in_each_published_language(web: FlaskClient, app: Flask) -> None:
    with app.app_context(), database().session() as session:
        store = Store(session)
        articles = store.articles.page(ArticleFilter(), 1, 100).items
        translated = {
            v.article_id: v
            for vs in store.variants.of([a.id for a in articles]).values()
            for v in vs
        }
    article = next(a for a in articles if a.id in translated)
    english = page(web, f"/en/articles/{article.id}/{article.slug}")
    assert english.findtext(".//h1") == article.title
    alternates = {
        link.get("hreflang"): link.get("href") for link in english.xpath("//head/link[@hreflang]")
    }
    assert alternates == {
        "en": f"{BASE}/en/articles/{article.id}/{article.slug}",
        "zh-Hans": f"{BASE}/zh-hans/articles/{article.id}/{article.slug}",
    }
    chinese = page(web, f"/zh-hans/articles/{article.id}/{article.slug}")
    assert chinese.findtext(".//h1") == translated[article.id].title
    assert "本译文已经人工审校" in chinese.text_content()
    original = chinese.xpath("//p[@class='provenance']/a")[0]
    assert original.get("hreflang") == "en"
    untranslated = next(a for a in articles if a.id not in translated)
    assert (
        web.get(
            f"/zh-hans/articles/{untranslated.id}/{untranslated.slug}", base_url=BASE
        ).status_code
        == 404
    )


def test_old_slug_redirects_and_deleted_article_is_gone(web: FlaskClient, editor: Api) -> None:
    article = editor.get("/articles?per_page=1").json["items"][0]
    moved = web.get(f"/en/articles/{article['id']}/old-slug", base_url=BASE)
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(f"/en/articles/{article['id']}/{article['slug']}")
    editor.delete(f"/articles/{article['id']}")
    assert (
        web.get(f"/en/articles/{article['id']}/{article['slug']}", base_url=BASE).status_code == 404
    )


def test_article_body_reaches_the_page_sanitized(web: FlaskClient, editor: Api) -> None:
    created = editor.post(
        "/articles",
        {
            "section": "news",
            "title": "<b>Bold</b> claim",
            "body_html": '<p onclick="x()">Text<script>alert(1)</script></p>',
        },
    ).json
    doc = page(web, f"/en/articles/{created['id']}/{created['slug']}")
    assert doc.findtext(".//h1") == "Bold claim"
    assert not doc.xpath("//script") and not doc.xpath("//*[@onclick]")
