"""Review queue (search, word counts, flags, pages), the glossary for translators, the UI
language switcher and the accessibility basics of those screens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import lxml.html
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from feedsvc.db import database
from feedsvc.db.tables import SegmentRow
from feedsvc.segments import word_count
from feedsvc.store import Store
from feedsvc.translation import source_hash
from tests import test_review
from tests.test_review import api, csrf_of, segments_of, sign_in

# The review screens' fixtures: an app with an en→zh model (none for fr), tokens of each
# role, an article translated into zh-Hans.
rapp = test_review.rapp
secrets = test_review.secrets
article = test_review.article


def signed_in(rapp: Flask, secret: str) -> FlaskClient:
    client = rapp.test_client()
    sign_in(client, secret)
    return client


def page(client: FlaskClient, url: str, **headers: str) -> lxml.html.HtmlElement:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.data[:500]
    return lxml.html.fromstring(response.data)


def listed(doc: lxml.html.HtmlElement) -> list[int]:
    """Article ids in the queue table, in order."""
    hrefs = doc.xpath("//table[@class='queue']//a/@href")
    return [int(m.group(1)) for h in hrefs if (m := re.search(r"/articles/(\d+)$", h))]


def row_of(doc: lxml.html.HtmlElement, article_id: int) -> str:
    rows = doc.xpath(
        f"//table[@class='queue']//tr[.//a[contains(@href, '/articles/{article_id}')]]"
    )
    assert len(rows) == 1
    return " ".join(rows[0].text_content().split())


def set_segments(rapp: Flask, article_id: int, lang: str, **values: object) -> list[str]:
    """Change stored segments of an article directly (a QA error, a source change), the
    first segment with inline tags when ``tagged``; the keys changed."""
    tagged = values.pop("tagged", False)
    with rapp.app_context(), database().session() as session:
        rows = session.scalars(
            select(SegmentRow)
            .where(SegmentRow.article_id == article_id, SegmentRow.lang == lang)
            .order_by(SegmentRow.position)
        ).all()
        chosen = next(r for r in rows if "{1}" in r.source) if tagged else rows[0]
        session.execute(
            update(SegmentRow)
            .where(SegmentRow.id == chosen.id)
            .values(version=SegmentRow.version + 1, **values)
        )
        return [chosen.key]


def add_article(rapp: Flask, secrets: dict[str, str], title: str, words: int = 1) -> int:
    """An article with one zh-Hans segment, stored without running a job."""
    editor = api(rapp, secrets["editor"])
    if editor.get("/sections/news").status_code == 404:
        editor.post("/sections", {"path": "news", "names": {"en": "News"}})
    created = editor.post(
        "/articles", {"section": "news", "title": title, "body_html": "<p>Body.</p>"}
    )
    assert created.status_code == 201, created.json
    article_id = int(created.json["id"])
    with rapp.app_context(), database().session() as session:
        session.add(
            SegmentRow(
                article_id=article_id,
                lang="zh-Hans",
                key="title",
                position=0,
                source=title,
                source_hash=source_hash(title),
                placeholders={},
                target="标题",
                origin="model",
                status="translated",
                model_runs=1,
                words=words,
                updated_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
        )
    return article_id


def test_search_by_title_source_and_translation(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    other = add_article(rapp, secrets, "Harbour fees fall")
    client = signed_in(rapp, secrets["zh"])
    base = "/review/zh-hans/?status=all&q="
    assert listed(page(client, base)) != [], "no search: everything"
    assert listed(page(client, base + "opens+PARK")) == [article], "title, any case"
    assert listed(page(client, base + "robotics")) == [article], "an English sentence"
    assert listed(page(client, base + "harbour")) == [other]
    target = next(s["target"] for s in segments_of(api(rapp, secrets["zh"]), article))
    assert listed(page(client, base + target[:4])) == [article], "the translation"
    assert listed(page(client, base + "%25")) == [], "a % is a character, not a wildcard"
    assert listed(page(client, base + "nothing+like+this")) == []
    found = page(client, base + "robotics")
    assert found.xpath("//input[@name='q']/@value") == ["robotics"], "the search is kept"


def test_word_counts_total_and_left_to_review(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    with rapp.app_context(), database().session() as session:
        segments = Store(session).segments.of(article, "zh-Hans")
    words = sum(word_count(s.source) for s in segments)
    assert words > 10
    client = signed_in(rapp, secrets["zh"])
    row = row_of(page(client, "/review/zh-hans/?status=all"), article)
    assert f"{words} of {words} to review" in row

    zh = api(rapp, secrets["zh"])
    title = next(s for s in segments_of(zh, article) if s["key"] == "title")
    approved = zh.patch(
        f"/articles/{article}/translations/zh-Hans/segments/title",
        {"status": "approved"},
        headers={"If-Match": f'"{title["etag"]}"'},
    )
    assert approved.status_code == 200, approved.json
    left = words - word_count(title["source"])
    doc = page(client, "/review/zh-hans/?status=all")
    assert f"{left} of {words} to review" in row_of(doc, article)
    totals = " ".join(doc.xpath("string(//p[@class='totals'])").split())
    assert f"{words} English words, {left} still to review" in totals


def test_changed_filter_and_sort(rapp: Flask, secrets: dict[str, str], article: int) -> None:
    other = add_article(rapp, secrets, "Harbour fees fall")
    client = signed_in(rapp, secrets["zh"])
    assert listed(page(client, "/review/zh-hans/?status=changed")) == []
    set_segments(
        rapp, article, "zh-Hans", previous_source="The old sentence.", previous_target="旧译文"
    )
    doc = page(client, "/review/zh-hans/?status=changed")
    assert listed(doc) == [article]
    assert "1 with changed English" in row_of(doc, article)
    assert listed(page(client, "/review/zh-hans/?status=all&sort=changed"))[0] == article
    assert listed(page(client, "/review/zh-hans/?status=all&sort=oldest"))[0] == other


def test_qa_errors_flag_and_filter(rapp: Flask, secrets: dict[str, str], article: int) -> None:
    client = signed_in(rapp, secrets["zh"])
    assert listed(page(client, "/review/zh-hans/?status=errors")) == []
    assert "QA errors" not in row_of(page(client, "/review/zh-hans/?status=all"), article)
    set_segments(rapp, article, "zh-Hans", tagged=True, target="标签全丢了")
    doc = page(client, "/review/zh-hans/?status=all")
    assert "1 with QA errors" in row_of(doc, article)
    assert listed(page(client, "/review/zh-hans/?status=errors")) == [article]


def test_queue_pages_of_fifty(rapp: Flask, secrets: dict[str, str]) -> None:
    ids = {add_article(rapp, secrets, f"Story number {n}") for n in range(53)}
    client = signed_in(rapp, secrets["zh"])
    first = page(client, "/review/zh-hans/?status=all&q=story")
    on_first = listed(first)
    assert len(on_first) == 50
    assert first.xpath("//a[@rel='prev']") == []
    (next_link,) = first.xpath("//a[@rel='next']/@href")
    assert "page=2" in next_link and "q=story" in next_link, "the next page keeps the filters"
    second = page(client, next_link)
    on_second = listed(second)
    assert len(on_second) == 3 and second.xpath("//a[@rel='next']") == []
    assert second.xpath("//a[@rel='prev']/@href")
    assert set(on_first) | set(on_second) == ids and not set(on_first) & set(on_second)
    assert "53 articles" in first.xpath("string(//p[@class='totals'])")
    assert listed(page(client, "/review/zh-hans/?status=all&q=story&page=x")) == on_first


def test_waiting_for_a_model_and_section_names(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    admin = signed_in(rapp, secrets["admin"])
    doc = page(admin, "/review/fr/?status=all")
    assert "Waiting for a model" in row_of(doc, article), "no en→fr model is installed"
    assert "News" in row_of(doc, article)
    assert doc.xpath("//select[@name='section']/option[@value='news']/text()") == ["News"]
    zh = page(signed_in(rapp, secrets["zh"]), "/review/zh-hans/?status=all")
    assert "Waiting" not in row_of(zh, article)


def test_translator_reads_the_glossary_but_cannot_change_it(
    rapp: Flask, secrets: dict[str, str]
) -> None:
    admin = signed_in(rapp, secrets["admin"])
    token = csrf_of(admin.get("/review/glossary/zh-hans").data)
    added = admin.post(
        "/review/glossary/zh-hans",
        data={"source_term": "Huangpu District", "target_term": "黄埔区", "csrf_token": token},
    )
    assert added.status_code == 302
    assert page(admin, "/review/glossary/zh-hans").xpath("//input[@name='source_term']")

    zh = signed_in(rapp, secrets["zh"])
    queue = page(zh, "/review/zh-hans/")
    assert queue.xpath("//header//nav//a[contains(@href, '/review/glossary/zh-hans')]")
    doc = page(zh, "/review/glossary/zh-hans")
    text = doc.text_content()
    assert "Huangpu District" in text and "黄埔区" in text
    assert doc.xpath("//main//form") == [] and doc.xpath("//main//input") == []
    token = csrf_of(zh.get("/review/glossary/zh-hans").data)
    refused = zh.post(
        "/review/glossary/zh-hans",
        data={"source_term": "Nanfang Plus", "target_term": "x", "csrf_token": token},
    )
    assert refused.status_code == 403
    assert "Nanfang Plus" not in page(zh, "/review/glossary/zh-hans").text_content()
    other = zh.get("/review/glossary/fr")
    assert other.status_code == 403
    assert b"<main" in other.data, "a page of the review screens, not a bare error"
    chinese = page(zh, "/review/glossary/zh-hans", **{"Accept-Language": "zh-CN"})
    assert "英语" in chinese.xpath("string(//h1)"), "the heading names English in Chinese"


def test_language_switcher(rapp: Flask, secrets: dict[str, str]) -> None:
    client = signed_in(rapp, secrets["zh"])
    doc = page(client, "/review/zh-hans/?status=all")
    assert "审校队列" not in doc.text_content()
    options = doc.xpath("//select[@name='ui_language']/option")
    assert {o.get("value"): o.text for o in options} == {
        "en": "English",
        "zh-Hans": "中文 (简体)",
        "zh-Hant": "中文 (繁體)",
    }
    token = csrf_of(client.get("/review/zh-hans/").data)
    assert client.post("/review/ui-language", data={"ui_language": "zh-Hans"}).status_code == 400
    chosen = client.post(
        "/review/ui-language",
        data={"ui_language": "zh-Hans", "next": "/review/zh-hans/?status=all", "csrf_token": token},
    )
    assert chosen.status_code == 303
    assert chosen.headers["Location"].endswith("/review/zh-hans/?status=all")
    doc = page(client, "/review/zh-hans/?status=all", **{"Accept-Language": "en"})
    assert "审校队列" in doc.xpath("string(//h1)"), "the choice wins over Accept-Language"
    assert doc.get("lang") == "zh-Hans"
    for outside in ("https://evil.example/review/", "//evil.example/review/", "/elsewhere"):
        refused = client.post(
            "/review/ui-language",
            data={"ui_language": "en", "next": outside, "csrf_token": token},
        )
        location = refused.headers["Location"]
        assert "evil" not in location and "elsewhere" not in location
        assert location.endswith("/review/")
    assert "Review queue" in page(client, "/review/zh-hans/").xpath("string(//h1)")
    unknown = client.post(
        "/review/ui-language",
        data={"ui_language": "xx", "next": "/review/zh-hans/", "csrf_token": token},
    )
    assert unknown.status_code == 303
    assert "Review queue" in page(client, "/review/zh-hans/").xpath("string(//h1)")


def test_switcher_before_sign_in_lasts_through_it(rapp: Flask, secrets: dict[str, str]) -> None:
    client = rapp.test_client()
    token = csrf_of(client.get("/review/").data)
    client.post(
        "/review/ui-language",
        data={"ui_language": "zh-Hant", "next": "/review/", "csrf_token": token},
    )
    assert "登入" in page(client, "/review/").xpath("string(//h1)")
    sign_in(client, secrets["zh"])
    assert "審校" in page(client, "/review/zh-hans/").xpath("string(//h1)")


def test_landmarks_labels_and_skip_link(rapp: Flask, secrets: dict[str, str], article: int) -> None:
    sign_in_page = page(rapp.test_client(), "/review/")
    assert sign_in_page.xpath("//a[@class='skip']/@href") == ["#main"]
    assert sign_in_page.xpath("//main/@id") == ["main"]
    (field,) = sign_in_page.xpath("//input[@name='token']")
    assert sign_in_page.xpath(f"//label[@for='{field.get('id')}']")
    assert field.get("autocomplete") == "off" and field.get("type") == "password"
    doc = page(signed_in(rapp, secrets["zh"]), "/review/zh-hans/?status=all")
    assert doc.xpath("//header//nav/@aria-label")
    assert all(th.get("scope") for th in doc.xpath("//table[@class='queue']//th"))
    progress = doc.xpath("//progress")
    assert progress and all(p.get("aria-label") for p in progress)
    assert not doc.xpath("//script[not(@src)]") and not doc.xpath("//*[@onclick or @onchange]")


def test_public_pages_keep_their_language(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = signed_in(rapp, secrets["zh"])
    token = csrf_of(client.get("/review/zh-hans/").data)
    client.post(
        "/review/ui-language",
        data={"ui_language": "zh-Hant", "next": "/review/", "csrf_token": token},
    )
    assert "審校佇列" in page(client, "/review/zh-hans/").xpath("string(//h1)")
    public = client.get("/zh-hans/", base_url="http://feeds.test")
    assert public.status_code == 200
    text = public.data.decode()
    assert "订阅" in text and "訂閱" not in text, "a public page speaks its URL's language"
