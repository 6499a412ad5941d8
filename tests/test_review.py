"""Translator review: API and screens, roles, CSRF, If-Match, PO/XLIFF round trips, publishing."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from babel.messages.pofile import read_po, write_po
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.db import database
from feedsvc.domain import Role, SegmentStatus
from feedsvc.exchange import validate_xliff
from feedsvc.jobs import jobs
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from feedsvc.translation import source_hash
from tests.conftest import Api, translating_app

BASE = "http://feeds.test"
ATOM = "{http://www.w3.org/2005/Atom}"
BODY = (
    "<p>GUANGZHOU, Feb. 19 (Nanfang Plus) -- The district opened a robotics park on Monday. "
    'It covers 56.39 sq km.</p><p>Officials said the <a href="https://gdd.example.org/p">park'
    "</a> will host <strong>120 companies</strong>.</p>"
)


@pytest.fixture
def rapp(database_url: str, tmp_path: Path, argosmodel: Path) -> Iterator[Flask]:
    languages = "en,zh-Hans:reviewed,fr"
    with translating_app(database_url, argosmodel, tmp_path / "packages", languages) as app:
        yield app


@pytest.fixture
def secrets(rapp: Flask) -> dict[str, str]:
    found = {}
    with rapp.app_context(), database().session() as session:
        store = Store(session)
        for name, role, langs in (
            ("editor", Role.EDITOR, []),
            ("admin", Role.ADMIN, []),
            ("zh", Role.TRANSLATOR, ["zh-Hans"]),
            ("fr", Role.TRANSLATOR, ["fr"]),
        ):
            _, found[name] = issue_token(store, f"{name} person", role, langs)
    return found


@pytest.fixture
def article(rapp: Flask, secrets: dict[str, str]) -> int:
    editor = Api(rapp.test_client(), secrets["editor"])
    editor.post("/sections", {"path": "news", "names": {"en": "News"}})
    created = editor.post(
        "/articles", {"section": "news", "title": "District opens park", "body_html": BODY}
    ).json
    with rapp.app_context():
        assert jobs().worker.run_pending() >= 1
    return int(created["id"])


def api(rapp: Flask, secret: str) -> Api:
    return Api(rapp.test_client(), secret)


def segments_of(translator: Api, article: int) -> list[dict]:  # type: ignore[type-arg]
    response = translator.get(f"/articles/{article}/translations/zh-Hans/segments")
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_translator_edits_and_approves_through_the_api(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    zh = api(rapp, secrets["zh"])
    items = segments_of(zh, article)
    assert {i["status"] for i in items} == {"translated"}
    title = next(i for i in items if i["key"] == "title")
    path = f"/articles/{article}/translations/zh-Hans/segments/title"

    assert zh.patch(path, {"target": "黄埔开园"}).status_code == 428
    stale = zh.patch(path, {"target": "黄埔开园"}, headers={"If-Match": '"segment-0-0"'})
    assert stale.status_code == 412
    assert (
        next(i for i in segments_of(zh, article) if i["key"] == "title")["target"]
        == title["target"]
    ), "a stale write changes nothing"

    done = zh.patch(
        path,
        {"target": "区里的机器人产业园开园", "status": "approved"},
        headers={"If-Match": f'"{title["etag"]}"'},
    )
    assert done.status_code == 200, done.json
    assert done.json["status"] == "approved" and done.json["origin"] == "human"
    assert done.headers["ETag"].strip('"') == done.json["etag"] != title["etag"]
    again = zh.patch(path, {"target": "x"}, headers={"If-Match": f'"{title["etag"]}"'})
    assert again.status_code == 412

    broken = next(i for i in items if "{1}" in i["source"] and i["key"] != "title")
    bad = zh.patch(
        f"/articles/{article}/translations/zh-Hans/segments/{broken['key']}",
        {"target": "没有占位符"},
        headers={"If-Match": f'"{broken["etag"]}"'},
    )
    assert bad.status_code == 422, "a target that drops the inline tags is refused"


def test_roles_and_languages(rapp: Flask, secrets: dict[str, str], article: int) -> None:
    fr = api(rapp, secrets["fr"])
    assert fr.get(f"/articles/{article}/translations/zh-Hans/segments").status_code == 403
    assert (
        fr.patch(
            f"/articles/{article}/translations/zh-Hans/segments/title",
            {"status": "approved"},
            headers={"If-Match": "*"},
        ).status_code
        == 403
    )
    editor = api(rapp, secrets["editor"])
    assert (
        editor.patch(
            f"/articles/{article}/translations/zh-Hans/segments/title",
            {"status": "approved"},
            headers={"If-Match": "*"},
        ).status_code
        == 403
    )
    admin = api(rapp, secrets["admin"])
    assert admin.get(f"/articles/{article}/translations/zh-Hans/segments").status_code == 200


def test_reviewed_policy_publishes_only_when_all_approved(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = rapp.test_client()

    def feed_ids() -> list[str | None]:
        feed = etree.fromstring(client.get("/zh-hans/feed.atom", base_url=BASE).data)
        return [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]

    assert feed_ids() == [], "machine text is not published under the reviewed policy"
    zh = api(rapp, secrets["zh"])
    items = segments_of(zh, article)
    for item in items[:-1]:
        zh.patch(
            f"/articles/{article}/translations/zh-Hans/segments/{item['key']}",
            {"status": "approved"},
            headers={"If-Match": f'"{item["etag"]}"'},
        )
    assert feed_ids() == []
    last = items[-1]
    zh.patch(
        f"/articles/{article}/translations/zh-Hans/segments/{last['key']}",
        {"status": "approved"},
        headers={"If-Match": f'"{last["etag"]}"'},
    )
    assert feed_ids() == [f"tag:feeds.test,2026:article/{article}/zh-Hans"]
    entry = etree.fromstring(client.get("/zh-hans/feed.atom", base_url=BASE).data).find(
        f"{ATOM}entry"
    )
    provenance = {c.get("scheme"): c.get("term") for c in entry.findall(f"{ATOM}category")}
    assert provenance["https://feedsvc.example/ns/provenance"] == "human-reviewed"


def test_reject_goes_back_to_the_machine_text(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    zh = api(rapp, secrets["zh"])
    title = next(i for i in segments_of(zh, article) if i["key"] == "title")
    path = f"/articles/{article}/translations/zh-Hans/segments/title"
    edited = zh.patch(path, {"target": "人工标题"}, headers={"If-Match": f'"{title["etag"]}"'}).json
    rejected = zh.patch(path, {"reject": True}, headers={"If-Match": f'"{edited["etag"]}"'}).json
    assert rejected["target"] == title["target"] and rejected["origin"] == "model"
    with rapp.app_context(), database().session() as session:
        store = Store(session)
        history = store.segments.history(store.segments.get(article, "zh-Hans", "title").id)
    assert [h.action for h in history] == ["reject", "edit"]
    assert history[1].before_target == title["target"] and history[1].after_target == "人工标题"
    assert "zh person" in history[0].actor


# -- screens -----------------------------------------------------------------


def csrf_of(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert match, "every form carries a CSRF token"
    return match.group(1).decode()


def etag_of(html: bytes, key: str) -> str:
    """The etag a segment's form was rendered with."""
    (item,) = lxml.html.fromstring(html).xpath(f"//li[@id='segment-{key}']")
    return str(item.get("data-etag"))


def sign_in(client: FlaskClient, secret: str) -> None:
    token = csrf_of(client.get("/review/").data)
    response = client.post("/review/", data={"token": secret, "csrf_token": token})
    assert response.status_code == 302, response.data[:500]


def test_screen_sign_in_cookie_csrf_and_language_limits(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = rapp.test_client()
    assert client.get("/review/zh-hans/").status_code == 302, "signed out → sign-in page"
    refused = client.post("/review/", data={"token": secrets["zh"]})
    assert refused.status_code == 400, "a form without its CSRF token is refused"
    sign_in(client, secrets["zh"])
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    queue = client.get("/review/zh-hans/")
    assert queue.status_code == 200 and b"District opens park" in queue.data
    assert client.get("/review/fr/").status_code == 403
    page = client.get(f"/review/zh-hans/articles/{article}")
    assert page.status_code == 200
    token = csrf_of(page.data)
    without = client.post(
        f"/review/zh-hans/articles/{article}/segments/title",
        data={"target": "x", "action": "approve"},
    )
    assert without.status_code == 400
    saved = client.post(
        f"/review/zh-hans/articles/{article}/segments/title",
        data={
            "target": "新标题",
            "action": "approve",
            "csrf_token": token,
            "etag": etag_of(page.data, "title"),
        },
    )
    assert saved.status_code == 303
    with rapp.app_context(), database().session() as session:
        assert (
            Store(session).segments.get(article, "zh-Hans", "title").status
            is SegmentStatus.APPROVED
        )
    other = rapp.test_client()
    sign_in(other, secrets["fr"])
    assert other.get(f"/review/zh-hans/articles/{article}").status_code == 403
    assert other.get("/review/glossary/zh-hans").status_code == 403, "not their language"
    readable = other.get("/review/glossary/fr")
    assert readable.status_code == 200, "a translator reads their language's glossary"
    assert b'name="source_term"' not in readable.data, "…without the admin's edit forms"


def test_bad_token_cannot_sign_in(rapp: Flask, secrets: dict[str, str]) -> None:
    client = rapp.test_client()
    token = csrf_of(client.get("/review/").data)
    assert (
        client.post("/review/", data={"token": secrets["editor"], "csrf_token": token}).status_code
        == 401
    )
    assert (
        client.post("/review/", data={"token": "fsv_nope", "csrf_token": token}).status_code == 401
    )


def test_admin_glossary_screen(rapp: Flask, secrets: dict[str, str]) -> None:
    client = rapp.test_client()
    sign_in(client, secrets["admin"])
    page = client.get("/review/glossary/zh-hans")
    assert page.status_code == 200
    token = csrf_of(page.data)
    client.post(
        "/review/glossary/zh-hans",
        data={"source_term": "Huangpu District", "target_term": "黄埔区", "csrf_token": token},
    )
    client.post(
        "/review/glossary/zh-hans",
        data={"source_term": "Nanfang Plus", "do_not_translate": "on", "csrf_token": token},
    )
    with rapp.app_context(), database().session() as session:
        terms = {t.source_term: t for t in Store(session).glossary.terms("en", "zh-Hans")}
    assert terms["Huangpu District"].target_term == "黄埔区"
    assert terms["Nanfang Plus"].do_not_translate
    client.post(
        "/review/glossary/zh-hans",
        data={"id": str(terms["Huangpu District"].id), "action": "delete", "csrf_token": token},
    )
    with rapp.app_context(), database().session() as session:
        assert [t.source_term for t in Store(session).glossary.terms("en", "zh-Hans")] == [
            "Nanfang Plus"
        ]


# -- PO and XLIFF ----------------------------------------------------------------


def test_po_round_trip_changes_exactly_the_edited_entries(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    zh = api(rapp, secrets["zh"])
    exported = zh.get(f"/exchange/zh-Hans/export.po?article={article}")
    assert exported.status_code == 200 and exported.mimetype == "text/x-po"
    catalog = read_po(io.BytesIO(exported.data))
    messages = [m for m in catalog if m.id]
    before = {s["key"]: s for s in segments_of(zh, article)}
    assert len(messages) == len(before)
    edited = messages[:2]
    # A translator's text keeps the source's placeholders, in the source's order.
    edited[0].string = "第一条人工译文" + "".join(re.findall(r"\{/?\d+\}", edited[0].id))
    edited[0].flags.discard("fuzzy")
    edited[1].string = "第二条人工译文" + "".join(re.findall(r"\{/?\d+\}", edited[1].id))
    out = io.BytesIO()
    write_po(out, catalog)
    result = zh.client.post(
        "/api/v1/exchange/zh-Hans",
        data=out.getvalue(),
        headers=zh.headers({"Content-Type": "text/x-po"}),
    )
    assert result.status_code == 200, result.json
    assert len(result.json["applied"]) == 2 and result.json["rejected"] == [], result.json
    after = {s["key"]: s for s in segments_of(zh, article)}
    changed = {k for k in after if after[k]["target"] != before[k]["target"]}
    keys = [m.context.rsplit("/", 1)[-1] for m in edited]
    assert changed == set(keys)
    assert after[keys[0]]["status"] == "approved" and after[keys[1]]["status"] == "translated"
    with rapp.app_context(), database().session() as session:
        assert Store(session).memory.matches(
            "en",
            "zh-Hans",
            [source_hash(after[keys[0]]["source"])],
        )


def test_import_rejects_entries_whose_source_changed(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    zh = api(rapp, secrets["zh"])
    exported = zh.get(f"/exchange/zh-Hans/export.xlf?article={article}").data
    assert validate_xliff(exported) == []
    editor = api(rapp, secrets["editor"])
    editor.patch(
        f"/articles/{article}", {"title": "District opens a bigger park"}, headers={"If-Match": "*"}
    )
    with rapp.app_context():
        jobs().worker.run_pending()
    root = etree.fromstring(exported)
    ns = {"x": "urn:oasis:names:tc:xliff:document:2.0"}
    for unit in root.iterfind(".//x:unit", ns):
        target = unit.find(".//x:target", ns)
        target.text = "人工：" + (target.text or "")  # before the first inline element
        unit.find(".//x:segment", ns).set("state", "final")
    result = zh.client.post(
        "/api/v1/exchange/zh-Hans",
        data=etree.tostring(root),
        headers=zh.headers({"Content-Type": "application/xliff+xml"}),
    ).json
    reasons = {r["location"]: r["reason"] for r in result["rejected"]}
    assert len(reasons) == 1 and "source changed" in next(iter(reasons.values()))
    assert "title" in next(iter(reasons))
    assert len(result["applied"]) == len(root.findall(".//x:unit", ns)) - 1


def test_unreadable_files_are_refused(rapp: Flask, secrets: dict[str, str]) -> None:
    zh = api(rapp, secrets["zh"])
    for data, media_type in (
        (b"\x00\xff garbage", "text/x-po"),
        (b"<xliff version='1.2'/>", "application/xliff+xml"),
    ):
        response = zh.client.post(
            "/api/v1/exchange/zh-Hans", data=data, headers=zh.headers({"Content-Type": media_type})
        )
        assert response.status_code == 422, response.json


def test_an_alt_text_is_reviewed_as_a_segment_and_published(
    rapp: Flask, secrets: dict[str, str]
) -> None:
    """The image's alt is a segment of its own: shown with its element as context in the
    zh_Hans screen, approved like a sentence, and the feed's image carries the approval."""
    editor = api(rapp, secrets["editor"])
    editor.post("/sections", {"path": "news", "names": {"en": "News"}})
    body = (
        '<p>The park opened.</p><p><img src="https://i.example/p.jpg" alt="The park at dusk"></p>'
    )
    created = editor.post("/articles", {"section": "news", "title": "Park", "body_html": body})
    article = int(created.json["id"])
    with rapp.app_context():
        assert jobs().worker.run_pending() >= 1
    client = rapp.test_client()
    sign_in(client, secrets["zh"])
    page = client.get(f"/review/zh-hans/articles/{article}", headers={"Accept-Language": "zh-CN"})
    doc = lxml.html.fromstring(page.data)
    (item,) = doc.xpath("//li[@data-key='attr.0.img.alt']")
    assert item.findtext(".//div[@class='source']") == "The park at dusk"
    assert item.findtext(".//p[@class='context']") == "图片 <img> 的替代文字（alt）"
    token = csrf_of(page.data)
    for key, target in (
        ("title", "公园"),
        ("body.0.0", "公园开放了。"),
        ("attr.0.img.alt", "黄昏时的公园"),
    ):
        saved = client.post(
            f"/review/zh-hans/articles/{article}/segments/{key}",
            data={
                "target": target,
                "action": "approve",
                "csrf_token": token,
                "etag": etag_of(page.data, key),
            },
        )
        assert saved.status_code == 303
    feed = client.get("/zh-hans/feed.json", base_url=BASE).json
    (item_json,) = [i for i in feed["items"] if i["id"].endswith(f"article/{article}/zh-Hans")]
    assert 'alt="黄昏时的公园"' in item_json["content_html"]
    with rapp.app_context(), database().session() as session:
        remembered = Store(session).memory.matches(
            "en", "zh-Hans", [source_hash("The park at dusk")]
        )
    assert list(remembered.values()) == ["黄昏时的公园"]
