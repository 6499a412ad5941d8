"""The iframe widget (/{lang}/[section/]embed), /widget.js and the embed snippets: options,
refusals, headers a partner's page depends on, and what the list shows (issue 14)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.db import database
from feedsvc.domain import Variant, VariantOrigin, VariantStatus
from feedsvc.store import Store
from feedsvc.web.embed import embed_snippets
from tests.conftest import Api, article_doc, running_app
from tests.test_security_headers import admin_secret, signed_in

BASE = "http://feeds.test"
HOSTILE_TITLE = "<img src=x onerror=alert(1)> \"quoted\" & <script>alert('t')</script>"
HOSTILE_SUMMARY = "<svg onload=alert(2)> javascript:alert(3)"


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """zh-Hans shows machine text (so ?only=reviewed has something to leave out); the
    site's zone is China Standard Time."""
    with running_app(
        database_url,
        FEEDSVC_LANGUAGES="en,zh-Hans:machine",
        FEEDSVC_TIMEZONE="Asia/Shanghai",
    ) as app:
        yield app


def translate(app: Flask, article_id: int, title: str, status: VariantStatus, **text: str) -> None:
    """Store a zh-Hans variant as it is given (no cleaning: the widget must escape anyway)."""
    with app.app_context(), database().session() as session:
        store = Store(session)
        article = store.articles.get(article_id)
        origin = (
            VariantOrigin.MACHINE
            if status is VariantStatus.MACHINE_TRANSLATED
            else (VariantOrigin.HUMAN)
        )
        store.variants.save(
            Variant(
                article.id,
                "zh-Hans",
                title,
                text.get("summary"),
                text.get("body_html", "<p>正文<b>加粗</b>。</p>"),
                origin,
                status,
                article.revision,
                article.updated_at,
            ),
            article.section_path,
        )


@pytest.fixture
def news(editor: Api, sections: list[str], app: Flask) -> dict[str, int]:
    """Three articles in news/world: one reviewed in zh-Hans (with a lead image), one
    machine-translated, one hostile (its zh-Hans title and summary are markup)."""
    ids = {}
    for key, hour, image in (
        ("reviewed", "09", "https://images.example.org/bridge.jpg"),
        ("machine", "10", None),
        ("hostile", "11", None),
    ):
        doc = article_doc(
            title=f"{key} story",
            external_id=key,
            published_at=f"2026-02-19T{hour}:30:00+08:00",
            image_url=image,
        )
        response = editor.post("/articles", doc)
        assert response.status_code == 201, response.json
        ids[key] = response.json["id"]
    translate(app, ids["reviewed"], "新桥通车", VariantStatus.REVIEWED, summary="一座新桥通车。")
    translate(app, ids["machine"], "机器翻译的标题", VariantStatus.MACHINE_TRANSLATED)
    translate(app, ids["hostile"], HOSTILE_TITLE, VariantStatus.REVIEWED, summary=HOSTILE_SUMMARY)
    return ids


def get(client: FlaskClient, path: str, **kwargs: object) -> object:
    return client.get(path, base_url=BASE, **kwargs)  # type: ignore[arg-type]


def doc_of(client: FlaskClient, path: str) -> lxml.html.HtmlElement:
    response = get(client, path)
    assert response.status_code == 200, (path, response.data[:300])  # type: ignore[attr-defined]
    assert response.mimetype == "text/html"  # type: ignore[attr-defined]
    return lxml.html.fromstring(response.data)  # type: ignore[attr-defined]


def titles(doc: lxml.html.HtmlElement) -> list[str]:
    return [a.text_content() for a in doc.xpath("//a[@class='title']")]


def test_the_widget_lists_the_latest_items_in_the_urls_language(
    client: FlaskClient, news: dict[str, int]
) -> None:
    doc = doc_of(client, "/zh-hans/news/world/embed")
    assert doc.get("lang") == "zh-Hans" and doc.get("data-theme") == "light"
    assert titles(doc) == [HOSTILE_TITLE, "机器翻译的标题", "新桥通车"]  # newest first
    # No site chrome: no header, navigation or footer of the site; only its own files.
    assert not doc.xpath("//header | //nav | //footer | //form")
    assert doc.xpath("//script/@src") == ["/static/embed.js"]
    assert doc.xpath("//link[@rel='stylesheet']/@href") == ["/static/embed.css"]
    # The machine text says what it is, in the page's language.
    badges = doc.xpath("//span[@class='badge']/text()")
    assert badges == ["机器翻译"]
    first = doc.xpath("//a[@class='title']")[2]
    assert first.get("href") == f"{BASE}/zh-hans/articles/{news['reviewed']}/reviewed-story"
    # Defaults: no summaries, no images; the site's own listing of the language.
    assert not doc.xpath("//p[@class='summary']") and not doc.xpath("//img")
    assert doc.xpath("//p[@class='more']/a/@href") == [f"{BASE}/zh-hans/news/world/"]
    english = doc_of(client, "/en/embed")
    assert english.get("lang") == "en"
    assert titles(english) == ["hostile story", "machine story", "reviewed story"]


def test_dates_are_local_without_seconds(client: FlaskClient, news: dict[str, int]) -> None:
    """Asia/Shanghai (FEEDSVC_TIMEZONE): 09:30 +08:00 reads 09:30, never UTC's 01:30."""
    chinese = doc_of(client, "/zh-hans/news/world/embed")
    assert chinese.xpath("//time/text()")[-1] == "2026年2月19日 09:30"
    english = doc_of(client, "/en/news/world/embed")
    assert english.xpath("//time/text()")[-1] == "Feb 19, 2026, 9:30\u202fAM"
    for time in chinese.xpath("//time/text()") + english.xpath("//time/text()"):
        assert not re.search(r"\d:\d\d:\d\d", time), time
    assert chinese.xpath("//time/@datetime")[-1] == "2026-02-19T01:30:00+00:00"


def test_options_limit_images_summary_theme_target(
    client: FlaskClient, news: dict[str, int]
) -> None:
    doc = doc_of(client, "/zh-hans/news/embed?limit=2")
    assert len(doc.xpath("//li[@class='item']")) == 2
    doc = doc_of(client, "/zh-hans/news/embed?images=1&summary=1&theme=dark&target=_blank")
    assert doc.get("data-theme") == "dark"
    sheets = doc.xpath("//link[@rel='stylesheet']")
    assert [s.get("href") for s in sheets] == ["/static/embed.css", "/static/embed-dark.css"]
    assert sheets[1].get("media") is None
    assert doc.xpath("//img/@src") == ["https://images.example.org/bridge.jpg"]
    assert "一座新桥通车。" in doc.xpath("//p[@class='summary']/text()")
    links = doc.xpath("//a")
    assert links and all(a.get("target") == "_blank" for a in links)
    assert all(a.get("rel") == "noopener" for a in links)
    # Every link leaves the frame: by default the reader's tab goes to the article.
    default = doc_of(client, "/zh-hans/news/embed")
    assert {a.get("target") for a in default.xpath("//a")} == {"_top"}
    auto = doc_of(client, "/zh-hans/news/embed?theme=auto&id=partner-1")
    assert auto.get("data-theme") == "auto" and auto.get("data-embed-id") == "partner-1"
    assert auto.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    dark_sheet = auto.xpath("//link[@href='/static/embed-dark.css']")
    assert [s.get("media") for s in dark_sheet] == ["(prefers-color-scheme: dark)"]
    # Unknown parameters are ignored, as on feeds.
    assert titles(doc_of(client, "/zh-hans/news/embed?utm_source=x")) == titles(default)


def test_only_reviewed_leaves_machine_text_out(client: FlaskClient, news: dict[str, int]) -> None:
    everything = doc_of(client, "/zh-hans/news/world/embed")
    reviewed = doc_of(client, "/zh-hans/news/world/embed?only=reviewed")
    assert "机器翻译的标题" in titles(everything)
    assert titles(reviewed) == [HOSTILE_TITLE, "新桥通车"]
    assert not reviewed.xpath("//span[@class='badge']")
    # English has originals only: the option changes nothing there.
    assert titles(doc_of(client, "/en/embed?only=reviewed")) == titles(doc_of(client, "/en/embed"))


def test_markup_in_titles_and_summaries_is_text(client: FlaskClient, news: dict[str, int]) -> None:
    response = get(client, "/zh-hans/news/world/embed?summary=1&images=1")
    body = response.data.decode()  # type: ignore[attr-defined]
    assert "<img src=x" not in body and "<script>alert" not in body and "<svg" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    doc = lxml.html.fromstring(body)
    assert [s.get("src") for s in doc.iter("script")] == ["/static/embed.js"]
    assert doc.xpath("//img/@src") == ["https://images.example.org/bridge.jpg"]
    assert not [name for el in doc.iter() for name in el.attrib if name.startswith("on")]
    assert HOSTILE_SUMMARY in doc.xpath("//p[@class='summary']/text()")
    # The article HTML never comes into the widget: its opening text may, as text.
    assert "<b>" not in body and "正文加粗。" in doc.xpath("//p[@class='summary']/text()")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("limit=0", "limit"),
        ("limit=51", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("limit=", "limit"),
        ("limit=00000000001", "limit"),
        ("images=2", "images"),
        ("summary=yes", "summary"),
        ("theme=blue", "theme"),
        ("target=_self", "target"),
        ("target=_parent", "target"),
        ("only=machine", "only"),
        ("id=not%20an%20id", "id"),
        ("id=" + "x" * 65, "id"),
    ],
)
def test_bad_options_are_a_400_with_a_reason(
    client: FlaskClient, query: str, reason: str, sections: list[str]
) -> None:
    for path in ("/en/embed", "/zh-hans/news/embed"):
        response = get(client, f"{path}?{query}")
        assert response.status_code == 400, (path, query)  # type: ignore[attr-defined]
        assert response.mimetype == "text/plain"  # type: ignore[attr-defined]
        text = response.data.decode()  # type: ignore[attr-defined]
        assert f"“{reason}”" in text and len(text) < 120, text
        assert "Set-Cookie" not in response.headers  # type: ignore[attr-defined]


def test_reasons_speak_the_urls_language(client: FlaskClient, sections: list[str]) -> None:
    text = get(client, "/zh-hans/embed?limit=0").data.decode()  # type: ignore[attr-defined]
    assert "“limit”" in text and re.search("[\u4e00-\u9fff]", text), text
    assert "whole number" in get(client, "/en/embed?limit=0").data.decode()  # type: ignore[attr-defined]


def test_widget_headers_frame_cache_no_cookie(
    app: Flask, client: FlaskClient, news: dict[str, int]
) -> None:
    response = get(client, "/zh-hans/news/embed")
    headers = response.headers  # type: ignore[attr-defined]
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "X-Frame-Options" not in headers
    assert "Set-Cookie" not in headers and "Cookie" not in headers.get("Vary", "")
    assert "public" in headers["Cache-Control"] and "max-age=" in headers["Cache-Control"]
    etag = headers["ETag"]
    again = get(client, "/zh-hans/news/embed", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""  # type: ignore[attr-defined]
    other = get(client, "/zh-hans/news/embed?limit=1", headers={"If-None-Match": etag})
    assert other.status_code == 200  # type: ignore[attr-defined]
    # A new entry changes the list and so the validator.
    translate(app, news["reviewed"], "新桥今日通车", VariantStatus.REVIEWED)
    changed = get(client, "/zh-hans/news/embed", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "新桥今日通车" in changed.data.decode()  # type: ignore[attr-defined]


def test_a_signed_in_reviewer_gets_no_cookie_from_the_widget(
    app: Flask, news: dict[str, int]
) -> None:
    """A cached, public page must never carry a session cookie, even for a client that
    has one (a reviewer looking at a partner page on the same site)."""
    client = signed_in(app, admin_secret(app))
    response = client.get("/zh-hans/news/embed")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_frame_ancestors_come_from_the_configuration(database_url: str) -> None:
    sources = "https://partner.example 'self'"
    with running_app(database_url, FEEDSVC_EMBED_FRAME_ANCESTORS=sources) as app:
        client = app.test_client()
        response = client.get("/en/embed")
        assert response.status_code == 200
        assert f"frame-ancestors {sources}" in response.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in response.headers
        # Every other page stays unframable.
        page = client.get("/en/")
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"


def test_unknown_scopes_and_spellings(client: FlaskClient, sections: list[str]) -> None:
    assert get(client, "/en/nowhere/embed").status_code == 404  # type: ignore[attr-defined]
    assert get(client, "/de/embed").status_code == 404  # type: ignore[attr-defined]
    moved = get(client, "/ZH-HANS/news/embed?limit=3")
    assert moved.status_code == 301  # type: ignore[attr-defined]
    assert moved.headers["Location"].endswith("/zh-hans/news/embed?limit=3")  # type: ignore[attr-defined]
    head = client.head("/en/news/embed", base_url=BASE)
    assert head.status_code == 200 and head.data == b""


def test_widget_js_is_served_to_any_page(client: FlaskClient) -> None:
    response = get(client, "/widget.js")
    headers = response.headers  # type: ignore[attr-defined]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in headers["Cache-Control"] and "max-age=3600" in headers["Cache-Control"]
    assert "Content-Disposition" not in headers and "Set-Cookie" not in headers
    body = response.data.decode()  # type: ignore[attr-defined]
    response.close()  # type: ignore[attr-defined]  # a file response: its file closed
    assert 'customElements.define("feedsvc-feed"' in body
    assert ".innerHTML" not in body and "content_html" not in body.split("*/", 1)[1]
    again = get(client, "/widget.js", headers={"If-None-Match": headers["ETag"]})
    assert again.status_code == 304  # type: ignore[attr-defined]
    again.close()  # type: ignore[attr-defined]


def test_snippets_use_absolute_urls_and_escape(app: Flask) -> None:
    settings = app.extensions["feedsvc.settings"]
    snippets = embed_snippets(settings, "zh-Hans", "news/world", title='新闻 "世界" <b>')
    frame = lxml.html.fragment_fromstring(snippets["iframe"], create_parent="div")
    (iframe,) = frame.xpath("//iframe")
    assert iframe.get("src") == f"{BASE}/zh-hans/news/world/embed?limit=5"
    assert iframe.get("title") == '新闻 "世界" <b>'
    assert frame.xpath("//script/@src") == [f"{BASE}/widget.js"]
    script = lxml.html.fragment_fromstring(snippets["script"], create_parent="div")
    (element,) = script.xpath("//feedsvc-feed")
    assert element.get("src") == f"{BASE}/zh-hans/news/world/feed.json"
    assert element.get("timezone") == "Asia/Shanghai" and element.get("limit") == "5"
    assert script.xpath("//script/@src") == [f"{BASE}/widget.js"]
    site = embed_snippets(settings, "en", None)
    assert f'src="{BASE}/en/embed?limit=5"' in site["iframe"]
    assert f'src="{BASE}/en/feed.json"' in site["script"]


def test_a_section_page_offers_both_snippets(client: FlaskClient, sections: list[str]) -> None:
    doc = doc_of(client, "/zh-hans/news/world/")
    (box,) = doc.xpath("//details[@class='embed-snippets']")
    assert box.findtext("summary") == "嵌入本栏目"
    frame_code, script_code = [code.text_content() for code in box.iter("code")]
    iframe = lxml.html.fragment_fromstring(frame_code, create_parent="div").find("iframe")
    assert iframe.get("src") == f"{BASE}/zh-hans/news/world/embed?limit=5"
    element = lxml.html.fragment_fromstring(script_code, create_parent="div").find("feedsvc-feed")
    assert element.get("src") == f"{BASE}/zh-hans/news/world/feed.json"
    # Text to copy, not markup of the page: the page itself frames nothing, runs no widget.
    assert not doc.xpath("//iframe | //feedsvc-feed")
    assert f"{BASE}/widget.js" not in doc.xpath("//script/@src")
