"""A Hong Kong translator reviews zh-Hant converted from approved zh-Hans, in headless
Chromium with a zh-TW browser: the zh_Hant UI, one segment edited and approved, the rest
approved unchanged, and the entry human-reviewed in the zh-Hant Atom feed. Screenshots of
the queue and the editor in the zh_Hant UI land in artifacts/screenshots."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree
from playwright.sync_api import Page

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.domain import Role, SegmentOrigin, SegmentStatus
from feedsvc.jobs import jobs
from feedsvc.review import Reviewer
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.browser import screenshot
from tests.conftest import Api, dispose_app, make_config
from tests.test_derived import BODY, SIMPLIFIED, SUMMARY, TITLE

ATOM = "{http://www.w3.org/2005/Atom}"
EDITED = "區內機械人產業園開幕"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The live server's app: no model at all; zh-Hant derived from reviewed zh-Hans."""
    app = create_app(
        make_config(
            database_url,
            FEEDSVC_LANGUAGES="en,zh-Hans:reviewed,zh-Hant:from=zh-Hans",
            FEEDSVC_ARGOS_PACKAGES_DIR=str(tmp_path / "no-packages"),
        )
    )
    yield app
    with app.app_context():
        dispose_app()


def prepare(app: Flask) -> tuple[str, int]:
    """An article whose zh-Hans a translator wrote and approved, and a zh-Hant token."""
    with app.app_context(), database().session() as session:
        store = Store(session)
        _, editor = issue_token(store, "Editor", Role.EDITOR)
        _, translator = issue_token(store, "Chan Tai Man", Role.TRANSLATOR, ["zh-Hant"])
    api = Api(app.test_client(), editor)
    names = {"en": "News", "zh-Hans": "新闻", "zh-Hant": "新聞"}
    api.post("/sections", {"path": "news", "names": names})
    article = api.post(
        "/articles", {"section": "news", "title": TITLE, "summary": SUMMARY, "body_html": BODY}
    ).json
    article_id = int(article["id"])
    with app.app_context():
        jobs().worker.run_pending()
        with database().session() as session:
            store = Store(session)
            hans = app.extensions["feedsvc.settings"].language("zh-Hans")
            reviewer = Reviewer(store, hans, "Wang Fang")
            for key, text in SIMPLIFIED.items():
                reviewer.save(article_id, key, text, approve=True)
            converted = store.segments.of(article_id, "zh-Hant")
            assert {s.origin for s in converted} == {SegmentOrigin.CONVERTED}
            assert {s.status for s in converted} == {SegmentStatus.TRANSLATED}
    return translator, article_id


def test_translator_reviews_zh_hant_in_the_zh_hant_ui(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    translator, article_id = prepare(app)
    page = new_page("zh-TW")
    page.goto(f"{live_server}/review/")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert "請貼上管理員給您的譯者權杖。" in page.content()
    page.fill("input[name=token]", translator)
    page.click("form:has(input[name=token]) button[type=submit]")
    page.wait_for_url(f"{live_server}/review/zh-hant/")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    queue = page.locator("main").inner_text()
    assert "審校佇列" in queue and "审校" not in queue
    screenshot(page, "review-queue-zh_Hant")

    page.click(f"a[href='/review/zh-hant/articles/{article_id}']")
    page.wait_for_selector("li#segment-title textarea")
    title = page.locator("li#segment-title")
    assert title.locator("textarea").input_value() == "區裡的機器人產業園開園"
    assert "轉換" in title.locator(".origin").inner_text()
    assert SIMPLIFIED["title"] in title.locator(".base").inner_text()  # what it came from
    totals = page.locator("p.totals").inner_text()
    assert "已審定 0 / 5 個句段" in totals and "已作為轉換文字發布" in totals
    screenshot(page, "review-editor-zh_Hant")

    page.fill("li#segment-title textarea", EDITED)
    page.click("li#segment-title button.approve")
    page.wait_for_selector("li#segment-title.approved")
    assert "人工" in page.locator("li#segment-title .origin").inner_text()
    page.click("#approve-unchanged")
    page.wait_for_selector("#bulk-dialog[open]")
    assert page.locator("#bulk-dialog ul.bulk-skipped > li").count() == 0, "converted text is clean"
    page.click("#bulk-confirm")
    page.wait_for_load_state()
    assert page.locator("li.segment").count() == page.locator("li.segment.approved").count() == 5
    assert "已審定 4 個句段；0 個" in page.locator("p.flash").inner_text()
    assert "已作為人工審校譯文發布" in page.locator("p.totals").inner_text()

    with urllib.request.urlopen(f"{live_server}/zh-hant/feed.atom", timeout=10) as response:
        feed = etree.fromstring(response.read())
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == EDITED
    provenance = {c.get("scheme"): c.get("term") for c in entry.findall(f"{ATOM}category")}
    assert provenance["https://feedsvc.example/ns/provenance"] == "human-reviewed"
    content = entry.findtext(f"{ATOM}content")
    assert "由經人工審校的中文 (簡體)以 OpenCC s2twp 轉換，並經人工審校。" in content
