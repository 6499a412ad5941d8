"""Importing a PO/XLIFF file never overwrites newer or approved work without an explicit
choice: an old file re-imported after newer approvals changes nothing, and the report names
each conflict by article, segment and English source (issue 12, acceptance 3)."""

from __future__ import annotations

import io
import re
from typing import Any

import lxml.html
import pytest
from babel.messages.pofile import read_po, write_po
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.db import database
from feedsvc.domain import Role
from feedsvc.exchange import XLIFF_NAMESPACE, parse_po, parse_xliff, validate_xliff
from feedsvc.jobs import jobs
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.conftest import Api
from tests.test_review import rapp  # noqa: F401  (fixtures)

NS = {"x": XLIFF_NAMESPACE}
TITLE = "District opens park"
BODY = (
    "<p>The district opened a robotics park on Monday. It covers 56.39 sq km.</p>"
    '<p>Officials said the <a href="https://gdd.example.org/p">park</a> will host '
    "<strong>120 companies</strong>.</p>"
)
Snapshot = dict[str, tuple[Any, ...]]


@pytest.fixture
def people(rapp: Flask) -> dict[str, Api]:
    found = {}
    with rapp.app_context(), database().session() as session:
        for name, role, langs in (
            ("editor", Role.EDITOR, []),
            ("zh", Role.TRANSLATOR, ["zh-Hans"]),
            ("other", Role.TRANSLATOR, ["zh-Hans"]),
        ):
            _, secret = issue_token(Store(session), f"{name} person", role, langs)
            found[name] = Api(rapp.test_client(), secret)
    return found


@pytest.fixture
def article(rapp: Flask, people: dict[str, Api]) -> int:
    editor = people["editor"]
    editor.post("/sections", {"path": "news", "names": {"en": "News"}})
    created = editor.post("/articles", {"section": "news", "title": TITLE, "body_html": BODY})
    assert created.status_code == 201, created.json
    with rapp.app_context():
        assert jobs().worker.run_pending() >= 1
    return int(created.json["id"])


def segments(api: Api, article: int) -> dict[str, dict[str, Any]]:
    response = api.get(f"/articles/{article}/translations/zh-Hans/segments")
    assert response.status_code == 200, response.json
    return {s["key"]: s for s in response.json["items"]}


def snapshot(api: Api, article: int) -> Snapshot:
    return {
        key: (s["target"], s["status"], s["origin"], s["etag"])
        for key, s in segments(api, article).items()
    }


def export(api: Api, article: int, fmt: str) -> bytes:
    response = api.client.get(
        f"/api/v1/exchange/zh-Hans/export.{fmt}?article={article}", headers=api.headers()
    )
    assert response.status_code == 200
    return bytes(response.data)


def import_file(api: Api, data: bytes, fmt: str, overwrite: bool = False) -> dict[str, Any]:
    media_type = "text/x-po" if fmt == "po" else "application/xliff+xml"
    query = "?overwrite=true" if overwrite else ""
    response = api.client.post(
        f"/api/v1/exchange/zh-Hans{query}",
        data=data,
        headers=api.headers({"Content-Type": media_type}),
    )
    assert response.status_code == 200, response.json
    return dict(response.json)


def tokens_of(source: str) -> str:
    return "".join(re.findall(r"\{/?\d+\}", source))


def translated(data: bytes, fmt: str, prefix: str) -> bytes:
    """The translator's work on an exported file: every entry gets a new text (keeping the
    source's placeholders) and is approved."""
    if fmt == "po":
        catalog = read_po(io.BytesIO(data))
        for message in catalog:
            if message.id:
                message.string = f"{prefix}{message.context.rsplit('/', 1)[-1]}" + tokens_of(
                    message.id
                )
                message.flags.discard("fuzzy")
        out = io.BytesIO()
        write_po(out, catalog)
        return out.getvalue()
    root = etree.fromstring(data)
    for unit in root.iterfind(".//x:unit", NS):
        target = unit.find(".//x:target", NS)
        target.text = f"{prefix}{unit.get('id')}" + (target.text or "")
        unit.find(".//x:segment", NS).set("state", "final")
    out_xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert validate_xliff(out_xml) == []
    return bytes(out_xml)


def targets_in(data: bytes, fmt: str) -> dict[str, str]:
    entries = parse_po(data) if fmt == "po" else parse_xliff(data)
    return {str(e.key): e.target for e in entries}


def approve_two_later(api: Api, article: int) -> tuple[str, str]:
    """After the export someone approves two segments: one with a new text, one as it is."""
    current = segments(api, article)
    edited, kept = "title", next(k for k in current if k.startswith("body.") and k != "title")
    path = f"/articles/{article}/translations/zh-Hans/segments"
    done = api.patch(
        f"{path}/{edited}",
        {"target": "区里的机器人产业园开园", "status": "approved"},
        headers={"If-Match": f'"{current[edited]["etag"]}"'},
    )
    assert done.status_code == 200, done.json
    done = api.patch(
        f"{path}/{kept}", {"status": "approved"}, headers={"If-Match": f'"{current[kept]["etag"]}"'}
    )
    assert done.status_code == 200, done.json
    return edited, kept


def conflicts_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in result["items"] if item["code"] == "conflict"}


@pytest.mark.parametrize("fmt", ["po", "xlf"])
def test_an_old_file_reimported_after_newer_approvals_changes_nothing(
    people: dict[str, Api], article: int, fmt: str
) -> None:
    zh, other = people["zh"], people["other"]
    old = export(zh, article, fmt)
    edited, kept = approve_two_later(other, article)
    before = snapshot(zh, article)
    stored = segments(zh, article)

    result = import_file(zh, old, fmt)

    assert snapshot(zh, article) == before, "no segment changed, not even its version"
    assert result["applied"] == [] and result["conflicts"] == 2, result
    conflicts = conflicts_of(result)
    assert set(conflicts) == {edited, kept}
    for key, item in conflicts.items():
        assert item["article_id"] == article and item["article_title"] == TITLE
        assert item["source"] == stored[key]["source"], "named by its English source"
        assert item["params"]["why"] == "approved"
        assert item["params"]["current"] == stored[key]["target"]
        assert item["params"]["current_status"] == "approved"
        assert "not overwritten" in item["reason"]
        if fmt == "po":
            assert item["line"] and item["location"] == f"line {item['line']}"
        else:
            assert item["location"] == f"unit {key} in file article-{article}"
    assert conflicts[edited]["params"]["file"] != "区里的机器人产业园开园"
    # Backward compatible: conflicts are among the rejected entries, with a reason.
    assert {r["location"] for r in result["rejected"]} == {
        item["location"] for item in conflicts.values()
    }
    assert len(result["unchanged"]) == len(before) - 2


@pytest.mark.parametrize("fmt", ["po", "xlf"])
def test_translated_old_file_applies_only_where_nothing_newer_happened(
    people: dict[str, Api], article: int, fmt: str
) -> None:
    zh, other = people["zh"], people["other"]
    work = translated(export(zh, article, fmt), fmt, "人工")
    edited, kept = approve_two_later(other, article)
    # A third segment is edited (not approved) after the export as well.
    current = segments(zh, article)
    changed_later = next(k for k in current if k not in (edited, kept))
    saved = other.patch(
        f"/articles/{article}/translations/zh-Hans/segments/{changed_later}",
        {"target": "后来的人工译文" + tokens_of(current[changed_later]["source"])},
        headers={"If-Match": f'"{current[changed_later]["etag"]}"'},
    )
    assert saved.status_code == 200, saved.json
    before = snapshot(zh, article)

    result = import_file(zh, work, fmt)

    after = snapshot(zh, article)
    conflicts = conflicts_of(result)
    assert set(conflicts) == {edited, kept, changed_later}
    assert conflicts[changed_later]["params"]["why"] == "newer"
    assert (
        conflicts[changed_later]["params"]["revision"]
        < conflicts[changed_later]["params"]["version"]
    )
    for key in conflicts:
        assert after[key] == before[key], f"{key} keeps the newer work"
    others = set(before) - set(conflicts)
    assert others and len(result["applied"]) == len(others)
    wanted = targets_in(work, fmt)
    for key in others:
        assert after[key][0] == wanted[key] and wanted[key].startswith(f"人工{key}")
        assert after[key][1] == "approved" and after[key][2] == "human"

    # The explicit choice: the file wins everywhere.
    forced = import_file(zh, work, fmt, overwrite=True)
    assert forced["conflicts"] == 0 and forced["overwrite"] is True
    assert {i["key"] for i in forced["items"] if i["code"] == "applied"} == set(conflicts)
    final = segments(zh, article)
    for key in conflicts:
        assert final[key]["target"] == wanted[key]
        assert final[key]["status"] == "approved" and final[key]["origin"] == "human"


@pytest.mark.parametrize("fmt", ["po", "xlf"])
def test_a_fresh_export_reimported_applies_normally(
    people: dict[str, Api], article: int, fmt: str
) -> None:
    zh, other = people["zh"], people["other"]
    edited, kept = approve_two_later(other, article)
    fresh = export(zh, article, fmt)
    assert import_file(zh, fresh, fmt)["conflicts"] == 0, "an untouched file changes nothing"
    work = translated(fresh, fmt, "新")
    result = import_file(zh, work, fmt)
    conflicts = conflicts_of(result)
    # Approved segments still need the explicit choice; the rest applies.
    assert set(conflicts) == {edited, kept}
    assert all(c["params"]["why"] == "approved" for c in conflicts.values())
    current = segments(zh, article)
    applied = {i["key"] for i in result["items"] if i["code"] == "applied"}
    assert applied == set(current) - {edited, kept}
    for key in applied:
        assert current[key]["target"].startswith(f"新{key}")


def test_a_file_without_revisions_conflicts_with_human_work_only(
    people: dict[str, Api], article: int
) -> None:
    zh, other = people["zh"], people["other"]
    data = export(zh, article, "po").decode("utf-8")
    old = re.sub(r"#\. feedsvc-revision: \d+\n", "", data)  # as exported before revisions
    assert "#. feedsvc-revision" in data and "#. feedsvc-revision" not in old
    work = translated(old.encode(), "po", "旧")
    edited, kept = approve_two_later(other, article)
    current = segments(zh, article)
    human = next(k for k in current if k not in (edited, kept))
    saved = other.patch(
        f"/articles/{article}/translations/zh-Hans/segments/{human}",
        {"target": "人工" + tokens_of(current[human]["source"])},
        headers={"If-Match": f'"{current[human]["etag"]}"'},
    )
    assert saved.status_code == 200
    before = snapshot(zh, article)
    result = import_file(zh, work, "po")
    conflicts = conflicts_of(result)
    assert set(conflicts) == {edited, kept, human}
    assert conflicts[human]["params"]["why"] == "unversioned"
    assert conflicts[human]["params"]["revision"] is None
    after = snapshot(zh, article)
    assert all(after[k] == before[k] for k in conflicts)
    machine = set(current) - set(conflicts)
    assert machine and {i["key"] for i in result["items"] if i["code"] == "applied"} == machine


def test_rejections_keep_their_codes_and_sources(people: dict[str, Api], article: int) -> None:
    zh = people["zh"]
    catalog = read_po(io.BytesIO(export(zh, article, "po")))
    messages = [m for m in catalog if m.id]
    broken = next(m for m in messages if "{1}" in m.id)
    broken.string = "没有占位符"
    broken.flags.discard("fuzzy")
    stale = next(m for m in messages if m is not broken)
    stale.id = "An English sentence of an earlier export."
    stale.string = "早先的句子。"
    catalog.add("Who knows", "谁知道", context="article/999999/title")
    catalog.add("Not ours", "不是我们的", context="something/else")
    out = io.BytesIO()
    write_po(out, catalog)
    result = import_file(zh, out.getvalue(), "po")
    codes = {(i["article_id"], i["key"]): i for i in result["items"]}
    assert codes[(article, broken.context.rsplit("/", 1)[-1])]["code"] == "qa"
    qa_item = codes[(article, broken.context.rsplit("/", 1)[-1])]
    assert qa_item["params"]["issues"][0]["code"] == "placeholder_missing"
    assert qa_item["source"] == broken.id and qa_item["article_title"] == TITLE
    changed = codes[(article, stale.context.rsplit("/", 1)[-1])]
    assert changed["code"] == "source_changed"
    assert changed["params"]["file_source"] == "An English sentence of an earlier export."
    assert changed["source"] != changed["params"]["file_source"], "the current source is named"
    assert codes[(999999, "title")]["code"] == "unknown"
    assert codes[(999999, "title")]["params"]["why"] == "not_found"
    assert codes[(None, None)]["code"] == "unknown"
    assert codes[(None, None)]["params"]["why"] == "no_id"
    assert len(result["rejected"]) == 4 and result["conflicts"] == 0
    assert import_file(zh, out.getvalue(), "po")["items"] == result["items"], (
        "nothing was applied: the same file reports the same"
    )


def test_overwrite_must_be_true_or_false(people: dict[str, Api], article: int) -> None:
    zh = people["zh"]
    response = zh.client.post(
        "/api/v1/exchange/zh-Hans?overwrite=yes",
        data=export(zh, article, "po"),
        headers=zh.headers({"Content-Type": "text/x-po"}),
    )
    assert response.status_code == 400, "a bad query parameter, as elsewhere in the API"
    assert "overwrite" in response.get_data(as_text=True)


# -- the review screen ----------------------------------------------------------------


def csrf_of(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1).decode()


def signed_in(rapp: Flask, api: Api) -> FlaskClient:
    client = rapp.test_client()
    token = csrf_of(client.get("/review/").data)
    response = client.post("/review/", data={"token": api.token, "csrf_token": token})
    assert response.status_code == 302
    return client


def upload(client: FlaskClient, data: bytes, name: str, overwrite: bool = False) -> Any:
    token = csrf_of(client.get("/review/zh-hans/").data)
    form: dict[str, Any] = {"csrf_token": token, "file": (io.BytesIO(data), name)}
    if overwrite:
        form["overwrite"] = "on"
    return client.post(
        "/review/zh-hans/import",
        data=form,
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )


def test_the_import_page_names_article_segment_and_source(
    rapp: Flask, people: dict[str, Api], article: int
) -> None:
    zh, other = people["zh"], people["other"]
    old = export(zh, article, "po")
    edited, kept = approve_two_later(other, article)
    stored = segments(zh, article)
    before = snapshot(zh, article)
    client = signed_in(rapp, zh)

    page = upload(client, old, "old.po")
    assert page.status_code == 200
    assert snapshot(zh, article) == before
    doc = lxml.html.fromstring(page.data)
    rows = doc.xpath("//table[contains(@class,'import-report')]//tr[@class='import-conflict']")
    assert len(rows) == 2
    for row in rows:
        cells = [" ".join(td.text_content().split()) for td in row.findall("td")]
        status, title, key, source, where, details = cells
        assert title == TITLE
        assert key in (edited, kept)
        assert source == " ".join(stored[key]["source"].split())
        assert re.fullmatch(r"line \d+", where)
        assert "approved" in details and stored[key]["target"] in details
        if key == kept:
            assert "take the approval back" in details
        (link,) = row.xpath(".//a/@href")
        assert link.endswith(f"/articles/{article}#segment-{key}")
    (box,) = doc.xpath("//input[@type='checkbox'][@name='overwrite']")
    assert "Overwrite newer or approved segments" in box.getparent().text_content()

    forced = upload(client, old, "old.po", overwrite=True)
    assert forced.status_code == 200
    after = segments(zh, article)
    assert after[edited]["target"] != stored[edited]["target"], "the file won"
    assert after[kept]["status"] == "translated", "its fuzzy entry took the approval back"
    assert not lxml.html.fromstring(forced.data).xpath("//tr[@class='import-conflict']")
