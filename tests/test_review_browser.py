"""A translator's whole job in headless Chromium: sign in, open an article, edit one
segment, approve the rest, and find the entry human-reviewed in the zh-Hans Atom feed.
Screenshots of the queue and the editor in the zh_Hans UI land in artifacts/screenshots."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree
from playwright.sync_api import Page

from feedsvc.db import database
from feedsvc.domain import Role
from feedsvc.jobs import jobs
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.browser import screenshot
from tests.conftest import Api, translating_app

ATOM = "{http://www.w3.org/2005/Atom}"
EDITED = "黄埔机器人产业园正式开园"


@pytest.fixture
def app(database_url: str, tmp_path: Path, argosmodel: Path) -> Iterator[Flask]:
    """The live server's app: a model installed, zh-Hans published only once reviewed."""
    with translating_app(database_url, argosmodel, tmp_path / "pk", "en,zh-Hans:reviewed") as app:
        yield app


def prepare(app: Flask) -> tuple[str, int]:
    """An article machine-translated into zh-Hans, and a zh-Hans translator's token."""
    with app.app_context(), database().session() as session:
        store = Store(session)
        _, editor = issue_token(store, "Editor", Role.EDITOR)
        _, translator = issue_token(store, "Wang Fang", Role.TRANSLATOR, ["zh-Hans"])
    api = Api(app.test_client(), editor)
    api.post("/sections", {"path": "news", "names": {"en": "News", "zh-Hans": "新闻"}})
    article = api.post(
        "/articles",
        {
            "section": "news",
            "title": "Huangpu opens robotics park",
            "summary": "The park will host 120 companies.",
            "body_html": "<p>GUANGZHOU, Feb. 19 -- Huangpu District opened a robotics park on "
            "Monday. It covers 56.39 sq km.</p><p>Officials said the "
            '<a href="https://gdd.example.org/park">park</a> will host '
            "<strong>120 companies</strong>.</p>",
        },
    ).json
    with app.app_context():
        assert jobs().worker.run_pending() == 1
    return translator, int(article["id"])


def test_translator_reviews_an_article_in_the_browser(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    translator, article_id = prepare(app)
    page = new_page("zh-Hans")
    page.goto(f"{live_server}/review/")
    page.fill("input[name=token]", translator)
    page.click("form:has(input[name=token]) button[type=submit]")
    page.wait_for_url(f"{live_server}/review/zh-hans/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "审校队列" in page.content()
    screenshot(page, "review-queue-zh_Hans")

    page.click(f"a[href='/review/zh-hans/articles/{article_id}']")
    page.wait_for_selector("li#segment-title textarea")
    screenshot(page, "review-editor-zh_Hans")

    page.fill("li#segment-title textarea", EDITED)
    page.click("li#segment-title button.approve")
    page.wait_for_selector("li#segment-title.approved")
    page.click("#approve-unchanged")
    page.wait_for_selector("#bulk-dialog[open]")
    if page.locator("#bulk-confirm").count():
        page.click("#bulk-confirm")
        page.wait_for_load_state()
    else:  # every proposal carries a warning: nothing to approve in bulk
        page.click("#bulk-cancel")
    # The model's random text draws QA warnings: those segments wait for a person.
    while page.locator("li.segment:not(.approved)").count():
        key = page.locator("li.segment:not(.approved)").first.get_attribute("data-key")
        page.click(f"li[data-key='{key}'] button.approve")
        page.wait_for_selector(f"li[data-key='{key}'].approved")
    assert page.locator("li.segment").count() == page.locator("li.segment.approved").count()

    with urllib.request.urlopen(f"{live_server}/zh-hans/feed.atom", timeout=10) as response:
        feed = etree.fromstring(response.read())
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == EDITED
    provenance = {c.get("scheme"): c.get("term") for c in entry.findall(f"{ATOM}category")}
    assert provenance["https://feedsvc.example/ns/provenance"] == "human-reviewed"
    assert "人工审校" in entry.findtext(f"{ATOM}content")
