"""No input makes a 500 (issue 13): each reproduction of the attack, on SQLite and
PostgreSQL, answers 4xx (problem+json from the API and review.js, a page from the review
screens) and leaves every stored row as it was."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feedsvc.db import database
from feedsvc.db.tables import Base
from feedsvc.engine import Term, Translated
from feedsvc.exchange import Unit, export_po, export_xliff, parse_po
from feedsvc.jobs import jobs
from feedsvc.schemas import parse_rfc3339
from feedsvc.web.params import MAX_JSON_DEPTH, ascii_int, json_depth_exceeds
from tests.conftest import Api, article_doc

PROBLEM = "application/problem+json"
# Columns a request may touch without changing what is stored: a token's last use.
VOLATILE = {("api_tokens", "last_used_at")}


class PrefixTranslator:
    """A fake model: the source marked, placeholders kept (no Argos package needed)."""

    name = "fake 1"

    def translate(self, sources: Sequence[str], terms: Sequence[Term] = ()) -> list[Translated]:
        return [Translated(f"译：{source}", 0.5) for source in sources]


class FakeEngines:
    def __init__(self) -> None:
        self.packages = jobs().packages

    def translator(self, source: str, target: str) -> PrefixTranslator:
        return PrefixTranslator()


def snapshot(app: Flask) -> dict[str, list[str]]:
    """Every row of every table, as text, in a stable order."""
    rows: dict[str, list[str]] = {}
    with app.app_context(), database().engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            found = connection.execute(select(*columns)).all()
            rows[table.name] = sorted(repr(tuple(row)) for row in found)
    return rows


@contextmanager
def store_unchanged(app: Flask) -> Iterator[None]:
    before = snapshot(app)
    yield
    assert snapshot(app) == before, "a refused request changed the store"


def assert_problem(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    assert response.mimetype == PROBLEM, response.mimetype
    document: dict[str, Any] = response.json
    assert document["status"] == response.status_code
    return document


def assert_page(response: Any, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "text/html"


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture
def world(app: Flask, editor: Api, sections: list[str]) -> dict[str, Any]:
    """An article with machine-translated zh-Hans segments (a fake model)."""
    with app.app_context():
        jobs().worker.engines = FakeEngines()  # type: ignore[assignment]
    created = editor.post("/articles", article_doc())
    assert created.status_code == 201, created.json
    with app.app_context():
        assert jobs().worker.run_pending() >= 1
    return {"article": created.json["id"]}


def segment_of(translator: Api, article: int, key: str = "title") -> dict[str, Any]:
    listing = translator.get(f"/articles/{article}/translations/zh-Hans/segments")
    assert listing.status_code == 200, listing.json
    found: dict[str, Any] = next(s for s in listing.json["items"] if s["key"] == key)
    return found


def csrf_of(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert match, "every form carries a CSRF token"
    return match.group(1).decode()


def signed_in(app: Flask, secret: str) -> FlaskClient:
    client = app.test_client()
    token = csrf_of(client.get("/review/").data)
    response = client.post("/review/", data={"token": secret, "csrf_token": token})
    assert response.status_code == 302, response.data[:300]
    return client


# -- the twelve reproductions ---------------------------------------------------------------


def test_dates_out_of_range(app: Flask, anonymous: Api, editor: Api, world: dict) -> None:  # type: ignore[type-arg]
    with store_unchanged(app):
        refused = anonymous.get("/articles?since=9999-12-31T23:59:59-23:59")
        assert assert_problem(refused, 400)["errors"][0]["parameter"] == "since"
        for stamp in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"):
            created = editor.post("/articles", article_doc(published_at=stamp, external_id="d"))
            assert assert_problem(created, 422)["errors"][0]["pointer"] == "/published_at"
        article = editor.get(f"/articles/{world['article']}")
        patched = editor.patch(
            f"/articles/{world['article']}",
            {"published_at": "0001-01-01T00:00:00+23:59"},
            headers={"If-Match": article.headers["ETag"]},
        )
        assert_problem(patched, 422)
    assert anonymous.get("/articles?since=2026-01-01T00:00:00Z").status_code == 200


def test_deeply_nested_json(
    app: Flask,
    editor: Api,
    translator: Api,
    world: dict,  # type: ignore[type-arg]
) -> None:
    article = world["article"]
    segment = segment_of(translator, article)
    path = f"/articles/{article}/translations/zh-Hans/segments/title"
    json = {"content_type": "application/json"}
    with store_unchanged(app):
        for api, method, url in (
            (editor, "POST", "/articles"),
            (editor, "POST", "/sections"),
            (translator, "PATCH", path),
        ):
            headers = {"If-Match": f'"{segment["etag"]}"'}
            response = api.request(method, url, data=nested(1000), headers=headers, **json)
            assert "deeper than 64" in assert_problem(response, 400)["detail"]
        # also inside a document that is otherwise fine
        deep = b'{"section": "news", "title": "T", "body_html": "<p>x</p>", "tags": '
        response = editor.request("POST", "/articles", data=deep + nested(100) + b"}", **json)
        assert_problem(response, 400)
    # as deep as allowed: parsed, and refused as a document (422), not as JSON
    response = editor.request("POST", "/sections", data=nested(MAX_JSON_DEPTH), **json)
    assert_problem(response, 422)


def test_non_ascii_digits_are_not_ids(
    app: Flask,
    admin: Api,
    editor: Api,
    translator: Api,
    tokens: dict[str, str],
    world: dict,  # type: ignore[type-arg]
) -> None:
    article = world["article"]
    reviewer = signed_in(app, tokens["translator"])
    with store_unchanged(app):
        for digits in ("²", "٣", "1²", "１"):
            refused = translator.get(f"/exchange/zh-Hans/export.po?article={digits}")
            assert assert_problem(refused, 400)["errors"][0]["parameter"] == "article"
            page = reviewer.get(f"/review/zh-hans/export.xlf?article={digits}")
            assert_page(page, 400)
            assert_problem(admin.get(f"/articles?page={digits}"), 400)
        # token 3 exists (the translator's): "٣" is not 3
        assert_problem(admin.delete("/tokens/٣"), 404)
        assert_problem(admin.delete("/tokens/３"), 404)
        assert_problem(editor.get(f"/articles/{str(article).translate(ARABIC)}"), 404)
        assert_problem(editor.get("/articles/99999999999999999999"), 404)
        assert_page(reviewer.get(f"/review/zh-hans/articles/{str(article).translate(ARABIC)}"), 404)
        assert app.test_client().get("/en/articles/١").status_code == 404
        assert reviewer.get("/review/zh-hans/?page=²").status_code == 200  # page 1
    assert translator.get(f"/exchange/zh-Hans/export.po?article={article}").status_code == 200
    assert reviewer.get(f"/review/zh-hans/export.po?article={article}").status_code == 200
    assert admin.get("/articles?page=1").status_code == 200


ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    "target",
    ["/review/\r\nSet-Cookie: x=1", "\r\n/review/zh-hans/", "//[", "/review/\n", "http://["],
)
def test_sign_in_next_with_cr_lf(app: Flask, tokens: dict[str, str], target: str) -> None:
    with store_unchanged(app):
        client = app.test_client()
        page = client.get("/review/", query_string={"next": target})
        assert_page(page, 200)
        assert b"Set-Cookie: x" not in page.data
    client = app.test_client()
    token = csrf_of(client.get("/review/").data)
    done = client.post(
        "/review/", data={"token": tokens["admin"], "csrf_token": token, "next": target}
    )
    assert done.status_code == 302
    assert done.headers["Location"] == "/review/home"  # not the given target
    assert "x=1" not in str(done.headers)


def test_nul_and_control_characters(
    app: Flask,
    anonymous: Api,
    editor: Api,
    translator: Api,
    tokens: dict[str, str],
    world: dict,  # type: ignore[type-arg]
) -> None:
    article = world["article"]
    segment = segment_of(translator, article)
    segments = f"/articles/{article}/translations/zh-Hans/segments"
    reviewer = signed_in(app, tokens["translator"])
    with store_unchanged(app):
        assert_problem(anonymous.get("/sections/news%00"), 404)
        assert_problem(anonymous.get("/sections/news\x01"), 404)
        assert_page(reviewer.get("/review/zh-hans/?section=%00"), 400)
        assert_problem(anonymous.get("/articles?section=news%00"), 400)
        for field, value in (
            ("source_url", "https://x.example/\x00"),
            ("title", "A\x00title"),
            ("summary", "bell\x07"),
            ("body_html", "<p>a\x00b</p>"),
            ("image_url", "https://x.example/\x1f.png"),
            ("author", "lone \ud800 surrogate"),
            ("title", "reads \u202ebackwards"),  # a bidirectional override
            ("author", "C1 \x85 control"),
            # Not a URL a feed may carry (RFC 3987): would make every feed holding it invalid.
            ("source_url", 'https://evil.example/"><script>alert(1)</script>'),
            ("image_url", "https://x.example/a{1}|b.png"),
        ):
            doc = article_doc(external_id=f"nul-{field}") | {field: value}
            created = editor.post("/articles", doc)
            assert assert_problem(created, 422)["errors"][0]["pointer"] == f"/{field}"
        named = editor.post("/sections", {"path": "nul", "names": {"en": "N\x00"}})
        assert_problem(named, 422)
        headers = {"If-Match": f'"{segment["etag"]}"'}
        for doc in (
            {"target": "译\x00文"},
            {"target": "译\x1b[31m"},
            {"target": "\u202e译文"},
            {"target": "译\x85文"},
            {"dismiss": "x\x00", "reason": "r"},
            {"dismiss": "numbers", "reason": "r\x00"},
        ):
            changed = translator.patch(f"{segments}/title", doc, headers=headers)
            assert_problem(changed, 422)
        assert_problem(
            translator.patch(f"{segments}/ti%00tle", {"target": "x"}, headers=headers), 404
        )
        # the review screens' forms: the segment's target, the sign-in token
        page = reviewer.get(f"/review/zh-hans/articles/{article}")
        form = {"csrf_token": csrf_of(page.data), "etag": segment["etag"], "action": "save"}
        saved = reviewer.post(
            f"/review/zh-hans/articles/{article}/segments/title", data=form | {"target": "a\x00"}
        )
        assert_page(saved, 422)
        as_js = reviewer.post(
            f"/review/zh-hans/articles/{article}/segments/title",
            data=form | {"target": "a\x00"},
            headers={"Accept": "application/json"},
        )
        assert_problem(as_js, 422)
        client = app.test_client()
        token = csrf_of(client.get("/review/").data)
        refused = client.post("/review/", data={"token": "fs_\x00", "csrf_token": token})
        assert_page(refused, 422)
    # tab and newline are text; a form's "\r\n" is a newline
    ok = translator.patch(f"{segments}/title", {"target": "译\t文"}, headers=headers)
    assert ok.status_code == 200, ok.json
    page = reviewer.get(f"/review/zh-hans/articles/{article}")
    form = {"csrf_token": csrf_of(page.data), "etag": ok.json["etag"], "action": "save"}
    saved = reviewer.post(
        f"/review/zh-hans/articles/{article}/segments/title", data=form | {"target": "译\r\n文"}
    )
    assert saved.status_code == 303
    assert segment_of(translator, article)["target"] == "译\n文"


def test_glossary_form_with_nul(app: Flask, tokens: dict[str, str]) -> None:
    reviewer = signed_in(app, tokens["admin"])
    page = reviewer.get("/review/glossary/zh-hans")
    assert page.status_code == 200
    with store_unchanged(app):
        refused = reviewer.post(
            "/review/glossary/zh-hans",
            data={
                "csrf_token": csrf_of(page.data),
                "source_term": "bridge\x00",
                "target_term": "桥",
            },
        )
        assert_page(refused, 422)


def xliff_with(translator: Api, article: int, replacement: bytes) -> bytes:
    exported = translator.get(f"/exchange/zh-Hans/export.xlf?article={article}")
    assert exported.status_code == 200
    data: bytes = exported.data
    target = re.search(rb"<target>[^<]*</target>", data)
    if target:
        return data.replace(target.group(), b"<target>" + replacement + b"</target>", 1)
    source = re.search(rb"</source>", data)
    assert source
    return data.replace(source.group(), b"</source><target>" + replacement + b"</target>", 1)


@pytest.mark.parametrize("hex_value", ["0000", "D800", "DFFF", "00"])
def test_xliff_code_points_that_are_not_text(
    app: Flask,
    translator: Api,
    world: dict,  # type: ignore[type-arg]
    hex_value: str,
) -> None:
    article = world["article"]
    data = xliff_with(translator, article, f'x<cp hex="{hex_value}"/>y'.encode())
    headers = {"Content-Type": "application/xliff+xml"}
    with store_unchanged(app):
        imported = translator.post("/exchange/zh-Hans", data=data, headers=headers)
        detail = assert_problem(imported, 422)["errors"][0]["detail"]
        assert f'<cp hex="{hex_value.zfill(4)}"/>' in detail and "not a character" in detail
    fine = xliff_with(translator, article, b'x<cp hex="0001"/>y')
    assert translator.post("/exchange/zh-Hans", data=fine, headers=headers).status_code == 200


def test_po_export_never_holds_a_nul(
    app: Flask,
    translator: Api,
    world: dict,  # type: ignore[type-arg]
) -> None:
    article = world["article"]
    segment = segment_of(translator, article)
    headers = {"If-Match": f'"{segment["etag"]}"'}
    path = f"/articles/{article}/translations/zh-Hans/segments/title"
    with store_unchanged(app):
        assert_problem(translator.patch(path, {"target": "a\x00b"}, headers=headers), 422)
    exported = translator.get("/exchange/zh-Hans/export.po")
    assert exported.status_code == 200 and b"\x00" not in exported.data
    again = translator.post(
        "/exchange/zh-Hans", data=exported.data, headers={"Content-Type": "text/x-po"}
    )
    assert again.status_code == 200, again.json
    # a NUL stored before input was checked (SQLite took it) leaves as U+FFFD
    unit = Unit(1, "title", "Bridge\x00", "桥\x00", False, {})
    po = export_po([unit], "en", "zh-Hans")
    assert b"\x00" not in po
    assert [(e.source, e.target) for e in parse_po(po)] == [("Bridge\ufffd", "桥\ufffd")]
    assert b'hex="0000"' not in export_xliff([unit], "en", "zh-Hans")


# -- the pieces -----------------------------------------------------------------------------


def test_ascii_int() -> None:
    assert ascii_int("42") == 42
    assert ascii_int("007") == 7
    for text in (None, "", "²", "٣", "１", "-1", "+1", " 1", "1_000", "1.0", "9" * 19):
        assert ascii_int(text) is None, text


def test_json_depth_scan() -> None:
    assert not json_depth_exceeds(nested(64))
    assert json_depth_exceeds(nested(65))
    assert json_depth_exceeds(b"{" * 65)  # invalid JSON too
    assert not json_depth_exceeds(b'["' + b"[" * 1000 + b'"]')  # inside a string
    assert not json_depth_exceeds(b'["\\"' + b"[" * 1000 + b'"]')  # escaped quote
    assert json_depth_exceeds(b'["\\\\"' + b"," + nested(65) + b"]")  # escaped backslash
    assert not json_depth_exceeds(b"[]" * 10_000)  # wide is not deep


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "0001-01-01T00:00:00Z",
        "9999-12-31T12:00:00Z",
    ],
)
def test_dates_out_of_range_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="between"):
        parse_rfc3339(value)
