"""Review work that must never lose or misstate a person's text: a changed English source,
bulk approval with undo, dismissed warnings, in-place saves and their conflicts, and
memory hits that carry warnings (issue 12)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import lxml.html
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from werkzeug.test import TestResponse

from feedsvc.articles import utcnow
from feedsvc.config import Language
from feedsvc.db import database
from feedsvc.domain import SegmentOrigin, SegmentStatus, StoredSegment
from feedsvc.jobs import jobs
from feedsvc.qa import check
from feedsvc.review import Reviewer, suggestions_for
from feedsvc.store import Store
from tests.test_review import (  # noqa: F401  (fixtures)
    ATOM,
    BASE,
    api,
    article,
    csrf_of,
    rapp,
    secrets,
    segments_of,
    sign_in,
)

ZH = "zh-Hans"
PROVENANCE = "https://feedsvc.example/ns/provenance"


def clean_target(source: str) -> str:
    """A Chinese-looking text that QA passes for ``source``: every Latin word becomes one
    CJK character; placeholders, numbers and URLs stay."""
    return re.sub(r"(?<![/.\w])[A-Za-z]+(?![\w.]*/)", "文", source).replace("--", "——")


def set_machine_texts(rapp: Flask, article: int, flawed: dict[str, str]) -> None:
    """Give every segment a clean machine text, and ``flawed`` keys the text given."""
    with rapp.app_context(), database().session() as session:
        store = Store(session)
        for segment in store.segments.of(article, ZH):
            target = flawed.get(segment.key, clean_target(segment.source))
            store.segments.change(
                segment,
                target,
                SegmentStatus.TRANSLATED,
                SegmentOrigin.MODEL,
                "test",
                "edit",
                utcnow(),
            )
        session.commit()


def zh_hans(rapp: Flask) -> Language:
    language = rapp.extensions["feedsvc.settings"].language(ZH)
    assert language is not None
    return language


def states(rapp: Flask, article: int) -> dict[str, StoredSegment]:
    with rapp.app_context(), database().session() as session:
        return {s.key: s for s in Store(session).segments.of(article, ZH)}


def provenance(rapp: Flask) -> list[str | None]:
    feed = etree.fromstring(rapp.test_client().get("/zh-hans/feed.atom", base_url=BASE).data)
    return [
        next(
            (c.get("term") for c in e.findall(f"{ATOM}category") if c.get("scheme") == PROVENANCE),
            None,
        )
        for e in feed.findall(f"{ATOM}entry")
    ]


def send(
    client: FlaskClient,
    token: str,
    segment: StoredSegment,
    target: str,
    action: str = "save",
    as_json: bool = True,
) -> TestResponse:
    """A segment form as the editor posts it, with the segment's etag as it was read."""
    return client.post(
        f"/review/zh-hans/articles/{segment.article_id}/segments/{segment.key}",
        data={
            "csrf_token": token,
            "etag": f"segment-{segment.id}-v{segment.version}",
            "target": target,
            "action": action,
        },
        headers={"Accept": "application/json"} if as_json else {},
    )


def signed_in(rapp: Flask, secret: str, locale: str = "en") -> FlaskClient:
    client = rapp.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
    sign_in(client, secret)
    return client


def test_clean_targets_pass_qa(rapp: Flask, article: int) -> None:
    """The helper the other tests rely on really makes issue-free texts."""
    for segment in states(rapp, article).values():
        found = check(segment.source, clean_target(segment.source), segment.placeholders)
        assert found == [], (segment.source, clean_target(segment.source), found)


def test_approve_unchanged_skips_issues_and_can_be_undone(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    before = states(rapp, article)
    number_key = next(k for k, s in before.items() if "56.39" in s.source)
    set_machine_texts(
        rapp, article, {number_key: "它占地平方公里。", "title": "District opens park 开园"}
    )
    client = signed_in(rapp, secrets["zh"])
    page = client.get(f"/review/zh-hans/articles/{article}/approve-unchanged")
    assert page.status_code == 200, "without JavaScript a confirmation page comes first"
    assert states(rapp, article)[number_key].status is SegmentStatus.TRANSLATED, (
        "GET changes nothing"
    )
    token = csrf_of(page.data)
    done = client.post(
        f"/review/zh-hans/articles/{article}/approve-unchanged", data={"csrf_token": token}
    )
    assert done.status_code == 303
    after = states(rapp, article)
    skipped = {k for k, s in after.items() if s.status is not SegmentStatus.APPROVED}
    assert skipped == {number_key, "title"}, "the two segments with QA issues stay for review"
    assert provenance(rapp) == [], "the reviewed policy shows nothing until all are approved"

    editor = client.get(f"/review/zh-hans/articles/{article}")
    undo = lxml.html.fromstring(editor.data).xpath("//form[contains(@action, '/undo/')]")
    assert len(undo) == 1, "the editor offers to undo the bulk approval"
    undone = client.post(undo[0].get("action"), data={"csrf_token": token})
    assert undone.status_code == 303
    assert all(s.status is SegmentStatus.TRANSLATED for s in states(rapp, article).values())
    with rapp.app_context(), database().session() as session:
        segment = Store(session).segments.get(article, ZH, "body.0.0")
        actions = [h.action for h in Store(session).segments.history(segment.id)]
    assert actions[:2] == ["undo", "approve"]


def test_undo_leaves_segments_changed_since_and_expires(rapp: Flask, article: int) -> None:
    set_machine_texts(rapp, article, {})
    with rapp.app_context(), database().session() as session:
        store = Store(session)
        language = zh_hans(rapp)
        now = [utcnow()]
        work = Reviewer(store, language, "tester", clock=lambda: now[0])
        done = work.approve_many(article)
        assert len(done.approved) == len(store.segments.of(article, ZH)) and not done.skipped
        edited = store.segments.get(article, ZH, "title")
        work.save(article, "title", "区里开了机器人产业园", True)
        assert work.undo(article, done.batch) == len(done.approved) - 1
        assert store.segments.get(article, ZH, "title").target == "区里开了机器人产业园"
        assert store.segments.get(article, ZH, "title").version > edited.version
        again = work.approve_many(article)
        now[0] += timedelta(minutes=11)
        assert work.undo(article, again.batch) == 0, "an undo after ten minutes does nothing"
        session.rollback()


def test_a_dismissed_warning_needs_a_reason_and_is_recorded(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    set_machine_texts(rapp, article, {"title": "District opens park 开园"})
    zh = api(rapp, secrets["zh"])
    title = next(i for i in segments_of(zh, article) if i["key"] == "title")
    codes = [i["code"] for i in title["issues"]]
    assert "untranslated" in codes
    path = f"/articles/{article}/translations/zh-Hans/segments/title"
    headers = {"If-Match": f'"{title["etag"]}"'}
    assert zh.patch(path, {"dismiss": "untranslated"}, headers=headers).status_code == 422
    assert (
        zh.patch(path, {"dismiss": "tag_order", "reason": "x"}, headers=headers).status_code == 422
    )
    done = zh.patch(path, {"dismiss": "untranslated", "reason": "the park's name"}, headers=headers)
    assert done.status_code == 200, done.json
    assert [i["dismissed"] for i in done.json["issues"] if i["code"] == "untranslated"] == [True]
    with rapp.app_context(), database().session() as session:
        store = Store(session)
        history = store.segments.history(store.segments.get(article, ZH, "title").id)
    assert (history[0].action, history[0].note) == ("dismiss", "the park's name")
    with rapp.app_context(), database().session() as session:
        plan = Reviewer(Store(session), zh_hans(rapp), "t").bulk_plan(article)
    assert "title" in [s.key for s in plan.approvable], "a dismissed warning no longer blocks"


def test_in_place_save_answers_json_and_keeps_typed_text_on_refusal(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = signed_in(rapp, secrets["zh"], "zh-CN")
    page = client.get(f"/review/zh-hans/articles/{article}")
    token = csrf_of(page.data)
    title = states(rapp, article)["title"]
    saved = send(client, token, title, "新标题")
    assert saved.status_code == 200, saved.data[:300]
    body = saved.json
    assert body["target"] == "新标题" and body["etag"] != f"segment-{title.id}-v{title.version}"
    assert lxml.html.fragment_fromstring(body["html"]).get("id") == "segment-title"
    assert body["total"] == len(states(rapp, article))

    stale = send(client, token, title, "我的标题")
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    assert (
        stale.json["theirs"]["target"] == "新标题" and stale.json["theirs"]["etag"] == body["etag"]
    )
    assert "zh person" in stale.json["theirs"]["actor"]
    assert states(rapp, article)["title"].target == "新标题", "the stale save changed nothing"

    linked = next(s for s in states(rapp, article).values() if "{1}" in s.source)
    broken = send(client, token, linked, "没有占位符")
    assert broken.status_code == 422
    assert re.search(r"[\u4e00-\u9fff]", broken.json["detail"]), "the reason is in the UI language"
    assert states(rapp, article)[linked.key].target == linked.target

    # Without JavaScript: the editor again, with the typed text at its segment.
    plain = send(client, token, linked, "没有占位符", "save", as_json=False)
    assert plain.status_code == 422
    item = lxml.html.fromstring(plain.data).get_element_by_id(f"segment-{linked.key}")
    assert item.xpath(".//textarea")[0].text == "没有占位符"
    full_width = send(
        client, token, linked, "官员说｛1｝公园｛／1｝将容纳｛2｝120家企业｛／2｝。", "save", True
    )
    assert full_width.status_code == 200, full_width.json
    assert full_width.json["target"] == "官员说{1}公园{/1}将容纳{2}120家企业{/2}。"


def test_source_change_keeps_the_human_translation_for_review(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    zh = api(rapp, secrets["zh"])
    title = next(i for i in segments_of(zh, article) if i["key"] == "title")
    approved = zh.patch(
        f"/articles/{article}/translations/zh-Hans/segments/title",
        {"target": "区里的机器人产业园开园", "status": "approved"},
        headers={"If-Match": f'"{title["etag"]}"'},
    )
    assert approved.status_code == 200
    editor = api(rapp, secrets["editor"])
    current = editor.get(f"/articles/{article}")
    changed = editor.patch(
        f"/articles/{article}",
        {"title": "District opens robotics park"},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.json
    with rapp.app_context():
        assert jobs().worker.run_pending() >= 1
    segment = states(rapp, article)["title"]
    assert segment.previous_source == "District opens park"
    assert segment.previous_target == "区里的机器人产业园开园"
    assert segment.status is not SegmentStatus.APPROVED, "the old text is not approved for the new"
    out = next(i for i in segments_of(zh, article) if i["key"] == "title")
    assert out["previous_target"] == "区里的机器人产业园开园"

    with rapp.app_context(), database().session() as session:
        found = suggestions_for(Store(session), [segment], ZH)[segment.id]
    assert found[0].kind == "previous" and found[0].target == "区里的机器人产业园开园"

    client = signed_in(rapp, secrets["zh"])
    page = lxml.html.fromstring(client.get(f"/review/zh-hans/articles/{article}").data)
    item = page.get_element_by_id("segment-title")
    inserted = [el.text_content() for el in item.xpath(".//ins")]
    assert inserted and all("robotics" in text for text in inserted), inserted
    assert not item.xpath(".//del"), "nothing of the old English was removed"
    changed_queue = client.get("/review/zh-hans/?status=changed&q=robotics")
    assert f"/review/zh-hans/articles/{article}".encode() in changed_queue.data

    token = csrf_of(client.get(f"/review/zh-hans/articles/{article}").data)
    send(client, token, segment, "区里的机器人产业园开园了", "approve", as_json=False)
    done = states(rapp, article)["title"]
    assert done.status is SegmentStatus.APPROVED and done.previous_source is None


def test_memory_hits_with_warnings_arrive_for_review(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    set_machine_texts(rapp, article, {"title": "District opens park 开园"})
    with rapp.app_context(), database().session() as session:
        store = Store(session)
        work = Reviewer(store, zh_hans(rapp), "t")
        for segment in store.segments.of(article, ZH):
            work.approve(article, segment.key)
        session.commit()
    editor = api(rapp, secrets["editor"])
    again = editor.post(
        "/articles",
        {
            "section": "news",
            "title": "District opens park",
            "body_html": "<p>Unrelated words here.</p>",
        },
    )
    assert again.status_code == 201
    with rapp.app_context():
        jobs().worker.run_pending()
    title = states(rapp, int(again.json["id"]))["title"]
    assert title.origin is SegmentOrigin.MEMORY and title.target == "District opens park 开园"
    assert title.status is SegmentStatus.TRANSLATED, "a memory hit with warnings is not approved"
    with rapp.app_context(), database().session() as session:
        store = Store(session)
        own = store.segments.get(article, ZH, "title")
        found = suggestions_for(store, [own], ZH)[own.id]
    assert all(s.target != own.target for s in found), "a segment is no suggestion for itself"


def test_preview_shows_typed_text_sanitized(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = signed_in(rapp, secrets["zh"])
    token = csrf_of(client.get(f"/review/zh-hans/articles/{article}").data)
    key = next(
        k for k, s in states(rapp, article).items() if k.startswith("body") and "{" not in s.source
    )
    shown = client.post(
        f"/review/zh-hans/articles/{article}/preview",
        data=json.dumps({"targets": {key: "预览<script>alert(1)</script>文本"}}),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert shown.status_code == 200, shown.data[:300]
    assert "预览" in shown.json["html"] and "<script" not in shown.json["html"]
    bad = client.post(
        f"/review/zh-hans/articles/{article}/preview",
        data=json.dumps({"targets": ["x"]}),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert bad.status_code == 400


def test_review_screens_forbid_inline_script(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = signed_in(rapp, secrets["zh"])
    for path in ("/review/", "/review/zh-hans/", f"/review/zh-hans/articles/{article}"):
        response = client.get(path, follow_redirects=True)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        doc = lxml.html.fromstring(response.data)
        assert all(script.get("src") for script in doc.iter("script")), "no inline script"
        handlers = [
            name for el in doc.iter() for name in el.attrib if name.lower().startswith("on")
        ]
        assert handlers == [], "no inline event handlers"
        assert not doc.xpath("//*[@style]"), "no inline styles (style-src 'self')"


def test_refusals_of_the_form_route_are_localized_and_change_nothing(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = signed_in(rapp, secrets["zh"], "zh-CN")
    token = csrf_of(client.get(f"/review/zh-hans/articles/{article}").data)
    title = states(rapp, article)["title"]
    url = f"/review/zh-hans/articles/{article}/segments/title"
    accept = {"Accept": "application/json"}
    cases = {
        "no etag": ({"csrf_token": token, "target": "新", "action": "save"}, 428),
        "unknown action": (
            {"csrf_token": token, "etag": "x", "target": "新", "action": "explode"},
            400,
        ),
        "no csrf token": ({"etag": "x", "target": "新", "action": "save"}, 400),
    }
    for name, (data, status) in cases.items():
        answer = client.post(url, data=data, headers=accept)
        assert answer.status_code == status, name
        assert answer.mimetype == "application/problem+json", name
        assert re.search(r"[\u4e00-\u9fff]", answer.json["detail"]), name
        page = client.post(url, data=data)
        assert page.status_code == status and "text/html" in page.content_type, name
        assert re.search("[\u4e00-\u9fff]", page.get_data(as_text=True)), name
    missing = client.post(
        f"/review/zh-hans/articles/{article}/segments/body.99.0",
        data={"csrf_token": token, "etag": "x", "target": "新", "action": "save"},
        headers=accept,
    )
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    long_reason = client.post(
        url,
        data={
            "csrf_token": token,
            "etag": f"segment-{title.id}-v{title.version}",
            "action": "dismiss",
            "code": "length",
            "reason": "x" * 501,
        },
        headers=accept,
    )
    assert long_reason.status_code == 422
    assert states(rapp, article)["title"].version == title.version, "nothing changed"


def test_a_deleted_article_is_closed_to_translators(
    rapp: Flask, secrets: dict[str, str], article: int
) -> None:
    client = signed_in(rapp, secrets["zh"])
    token = csrf_of(client.get(f"/review/zh-hans/articles/{article}").data)
    title = states(rapp, article)["title"]
    editor = api(rapp, secrets["editor"])
    assert editor.delete(f"/articles/{article}").status_code == 204
    zh = api(rapp, secrets["zh"])
    base = f"/articles/{article}/translations/zh-Hans"
    assert zh.get(base).status_code == 410
    assert zh.get(f"{base}/segments").status_code == 410
    patched = zh.patch(f"{base}/segments/title", {"target": "标题"}, headers={"If-Match": "*"})
    assert patched.status_code == 410
    assert zh.get(f"/exchange/zh-Hans/export.po?article={article}").status_code == 410
    assert client.get(f"/review/zh-hans/articles/{article}").status_code == 410
    assert send(client, token, title, "标题").status_code == 410
    assert states(rapp, article)["title"].target == title.target, "nothing changed"
