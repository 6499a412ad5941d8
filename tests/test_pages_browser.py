"""The public pages in Debian's chromium with JavaScript off (issue 14, acceptance 5):
zh-Hans dates in the site's zone (Asia/Shanghai) without seconds, the language switcher
landing on the same article, labelled sections; screenshots of each page kind in both
languages go to artifacts/screenshots/ (page-*.png) to be looked at."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Page

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.jobs import jobs
from tests.browser import dev_server, screenshot
from tests.conftest import dispose_app, make_config

ZONE = "Asia/Shanghai"
CHINESE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site(database_url: str) -> Iterator[str]:
    """The demo served on a loopback port that is also its FEEDSVC_BASE_URL, so the
    absolute links of pages and feeds lead back to it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app: Flask = create_app(
        make_config(
            database_url,
            FEEDSVC_BASE_URL=base,
            FEEDSVC_TIMEZONE=ZONE,
            FEEDSVC_LANGUAGES="en,zh-Hans:reviewed",
        )
    )
    with app.app_context():
        load_demo(database(), app.extensions["feedsvc.settings"].target_tags)
        jobs().worker.run_pending()
    server = dev_server(app, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            dispose_app()


def reviewed_article(page: Page, base: str) -> dict[str, str]:
    """The newest article published in zh-Hans, from its JSON Feed."""
    page.goto(f"{base}/zh-hans/feed.json")
    item = json.loads(page.inner_text("body"))["items"][0]
    return {
        "zh": item["url"],
        "en": item["_feedsvc"]["original_url"],
        "date": item["date_published"],
    }


# The demo's lead images live on images.example.org, out of reach here: the browser gets
# this picture instead, so screenshots show the layout as readers see it.
PLACEHOLDER = b"""<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400">
<defs><linearGradient id="g" x2="1" y2="1"><stop offset="0" stop-color="#9cc3e6"/>
<stop offset="1" stop-color="#2f5d8a"/></linearGradient></defs>
<rect width="600" height="400" fill="url(#g)"/>
<path d="M0 300 L150 200 L260 270 L400 150 L600 290 L600 400 L0 400 Z" fill="#1d3b5c"/>
<circle cx="470" cy="90" r="40" fill="#f6d776"/></svg>"""


def no_js_page(new_page: Callable[..., Page], locale: str, **options: object) -> Page:
    page = new_page(locale, java_script_enabled=False, **options)
    page.route(
        "https://images.example.org/**",
        lambda route: route.fulfill(body=PLACEHOLDER, content_type="image/svg+xml"),
    )
    return page


def test_the_switcher_lands_on_the_same_article_both_ways(
    site: str, new_page: Callable[..., Page]
) -> None:
    page = no_js_page(new_page, "en-US")
    urls = reviewed_article(page, site)
    page.goto(urls["en"])
    english_title = page.inner_text("h1")
    page.click("nav.languages a[hreflang='zh-Hans']")
    assert page.url == urls["zh"]
    assert re.search(r"[\u4e00-\u9fff]", page.inner_text("h1"))
    assert page.get_attribute("nav.languages [aria-current='page']", "lang") == "zh-Hans"
    page.click("nav.languages a[hreflang='en']")
    assert page.url == urls["en"]
    assert page.inner_text("h1") == english_title


def test_zh_hans_dates_in_china_time_without_seconds(
    site: str, new_page: Callable[..., Page]
) -> None:
    page = no_js_page(new_page, "zh-CN")
    urls = reviewed_article(page, site)
    page.goto(urls["zh"])
    shown = page.inner_text("article header time")
    published = datetime.fromisoformat(urls["date"]).astimezone(ZoneInfo(ZONE))
    assert CHINESE_DATE.fullmatch(shown), shown
    assert shown == f"{published.year}年{published.month}月{published.day}日 {published:%H:%M}"
    assert "UTC" not in page.inner_text("main")
    page.goto(f"{site}/zh-hans/")
    listed = page.locator("ol.articles time").all_inner_texts()
    assert listed and all(CHINESE_DATE.fullmatch(text) for text in listed), listed


def test_section_pages_label_their_parts_and_show_summaries(
    site: str, new_page: Callable[..., Page]
) -> None:
    page = no_js_page(new_page, "zh-CN")
    page.goto(f"{site}/zh-hans/news/")
    assert page.inner_text("#subsections") == "子栏目"
    assert page.inner_text("#latest") == "最新文章"
    assert page.locator(".subsections a").count() >= 2
    assert page.locator("ol.articles .summary").count() >= 1
    assert page.locator("nav.breadcrumb a").all_inner_texts()[0] == "feedsvc News"
    assert page.locator("script").count() == 0  # nothing on a public page needs JavaScript


@pytest.mark.parametrize("lang, locale", [("en", "en-US"), ("zh-hans", "zh-CN")])
def test_screenshots_of_every_page_kind(
    site: str, new_page: Callable[..., Page], lang: str, locale: str
) -> None:
    """Evidence for a person's eye (artifacts/screenshots/page-*.png); the assertions only
    say each page rendered with its styles."""
    page = no_js_page(new_page, locale, viewport={"width": 1200, "height": 900})
    urls = reviewed_article(page, site)
    for kind, url in (
        ("home", f"{site}/{lang}/"),
        ("section", f"{site}/{lang}/news/"),
        ("article", urls["zh" if lang == "zh-hans" else "en"]),
    ):
        page.goto(url)
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "system-ui" in font  # site.css applied (no inline style needed)
        # One column: header bar, main and footer share their left edge and width.
        edges = page.evaluate(
            """["header.site .bar", "main", "footer.site"].map((s) => {
                const box = document.querySelector(s).getBoundingClientRect();
                return [Math.round(box.left), Math.round(box.width)];
            })"""
        )
        assert edges[0] == edges[1] == edges[2] and edges[0][0] > 0, edges
        screenshot(page, f"page-{kind}-{lang}")
    page.goto(f"{site}/{lang}/news/")
    page.click("details.embed-snippets summary")  # opens without JavaScript (<details>)
    assert page.locator("details.embed-snippets pre").first.is_visible()
    screenshot(page, f"page-section-embed-{lang}")
    phone = no_js_page(new_page, locale, viewport={"width": 390, "height": 844})
    phone.goto(urls["zh" if lang == "zh-hans" else "en"])
    screenshot(phone, f"page-article-{lang}-phone")
