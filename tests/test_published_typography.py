"""What Chinese readers get: the demo content translated (memory and the tiny genuine Argos
model), read back from the zh-Hans pages and feeds, has no space where one Chinese sentence
follows another, and its images' alt text is Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.jobs import jobs
from feedsvc.store import Store
from feedsvc.urls import article_path
from tests.argos_fixture import install_argos_package
from tests.conftest import dispose_app
from tests.test_translation import translating_config

BASE = "http://feeds.test"
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_MARK = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"
# A CJK character or mark, whitespace, then a CJK character: two Chinese sentences (or
# parts of one) set apart the English way.
SPACED = re.compile(rf"[{CJK}{CJK_MARK}][ \t\n\r\u00a0]+[{CJK}]")


@pytest.fixture
def translated(database_url: str, tmp_path: Path, argosmodel: Path) -> Iterator[Flask]:
    install_argos_package(argosmodel, tmp_path / "packages")
    app = create_app(translating_config(database_url, tmp_path / "packages"))
    with app.app_context():
        load_demo(database(), ("zh-Hans",))
        assert jobs().worker.run_pending() > 0
    yield app
    app.extensions["feedsvc.jobs"].dispatcher.stop()
    with app.app_context():
        dispose_app()


def segment_targets(app: Flask, origin: str | None = None) -> set[str]:
    """zh-Hans segment targets (of one origin when given)."""
    with app.app_context(), database().session() as session:
        store = Store(session)
        return {
            s.target or ""
            for article in store.articles.all()
            for s in store.segments.of(article.id, "zh-Hans")
            if origin is None or (s.origin is not None and s.origin.value == origin)
        }


def spaced_joins(text: str, inside: set[str]) -> list[str]:
    """Spaced CJK joins in `text` that are not inside one segment's own text: the random
    model's output holds SentencePiece spaces between its pieces, which are the model's."""
    return [
        match.group()
        for match in SPACED.finditer(text)
        if not any(match.group() in segment for segment in inside)
    ]


def test_no_space_between_chinese_sentences_in_pages_and_feeds(translated: Flask) -> None:
    web: FlaskClient = translated.test_client()
    inside = segment_targets(translated)
    with translated.app_context(), database().session() as session:
        store = Store(session)
        articles = list(store.articles.all())
        assert all(store.variants.get(a.id, "zh-Hans") for a in articles), "all translated"
    for article in articles:
        response = web.get(article_path("zh-Hans", article.id, article.slug), base_url=BASE)
        assert response.status_code == 200
        doc = lxml.html.fromstring(response.data)
        paragraphs = [p.text_content() for p in doc.xpath("//article//p")]  # and chrome
        assert paragraphs
        assert not [join for p in paragraphs for join in spaced_joins(p, inside)]
    # Feeds: the whole text of every entry.
    for path in ("/zh-hans/feed.atom", "/zh-hans/feed.rss", "/zh-hans/feed.json"):
        response = web.get(path, base_url=BASE)
        assert response.status_code == 200, path
        if path.endswith(".json"):
            contents = [item["content_html"] for item in response.json["items"]]
        else:
            parsed = feedparser.parse(response.data)
            contents = [
                entry.get("content", [{}])[0].get("value") or entry.get("summary", "")
                for entry in parsed.entries
            ]
        assert contents
        for html in contents:
            text = lxml.html.fragment_fromstring(html, create_parent="div").text_content()
            assert not spaced_joins(text, inside), (path, text)


def test_demo_images_carry_chinese_alt_text(translated: Flask) -> None:
    web = translated.test_client()
    feed = web.get("/zh-hans/feed.json", base_url=BASE).json
    alts = [
        img.get("alt")
        for item in feed["items"]
        for img in lxml.html.fragment_fromstring(item["content_html"], create_parent="div").iter(
            "img"
        )
    ]
    assert len(alts) >= 2
    assert all(alt and re.search(f"[{CJK}]", alt) for alt in alts), alts
    assert segment_targets(translated, "memory") & set(alts), "the alt text is from memory"
