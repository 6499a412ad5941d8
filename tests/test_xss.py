"""The XSS corpus goes through the article API; nothing active survives into storage."""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html
import pytest
from flask import Flask
from sqlalchemy import select

from feedsvc.db import database
from feedsvc.db.tables import ArticleRow
from feedsvc.sanitize import ATTRIBUTES, TAGS, clean_html
from tests.conftest import Api, article_doc

VECTORS = json.loads((Path(__file__).parent / "data" / "xss_vectors.json").read_text())
SAFE_URL = re.compile(r"^(https?://[^\s/?#]+|mailto:)", re.IGNORECASE)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # refused in plain-text fields
GLOBAL_ATTRIBUTES = {"rel"}  # nh3 adds rel="noopener noreferrer" to links


def assert_inert(html: str) -> None:
    """Every element and attribute is on the allow-list; every URL is absolute http(s)."""
    if not html.strip():
        return
    for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        if element.tag == "div" and element.getparent() is None:
            continue
        assert isinstance(element.tag, str), f"comment or PI survived: {html!r}"
        assert element.tag in TAGS, f"<{element.tag}> survived: {html!r}"
        allowed = ATTRIBUTES.get(element.tag, set()) | GLOBAL_ATTRIBUTES
        for name, value in element.attrib.items():
            assert name in allowed, f"{name}= on <{element.tag}> survived: {html!r}"
            if name in ("href", "src"):
                assert SAFE_URL.match(value), f"unsafe URL {value!r} survived: {html!r}"
    # Text may mention "javascript:" harmlessly; a raw "<" in text would be escaped as &lt;.
    lowered = html.lower()
    for needle in (
        "<script",
        "<style",
        "<iframe",
        "<svg",
        "<object",
        "<embed",
        "<form",
        "<meta",
        "<base",
        "<link",
        "<math",
    ):
        assert needle not in lowered, f"{needle} survived: {html!r}"


def test_corpus_is_large_and_distinct() -> None:
    assert len(VECTORS) >= 30
    assert len({v["name"] for v in VECTORS}) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_clean_html_neutralizes(vector: dict[str, str]) -> None:
    assert_inert(clean_html(vector["html"]))


def test_checker_would_catch_an_unsanitized_vector() -> None:
    with pytest.raises(AssertionError):
        assert_inert('<p>Hi <img src="x" onerror="alert(1)"></p>')
    with pytest.raises(AssertionError):
        assert_inert('<a href="javascript:alert(1)">x</a>')


def test_no_vector_survives_into_storage(editor: Api, app: Flask, sections: list[str]) -> None:
    stored_ids = []
    for index, vector in enumerate(VECTORS):
        doc = article_doc(
            title=f"Vector {vector['name']} <script>alert(1)</script>",
            # C0 controls are refused in every text field (issue 13), body included.
            body_html=CONTROL.sub("", vector["html"]) + "<p>Safe tail.</p>",
            summary=CONTROL.sub("", vector["html"])[:2000],
            external_id=f"xss-{index}",
        )
        response = editor.post("/articles", doc)
        assert response.status_code == 201, (vector["name"], response.json)
        stored_ids.append(response.json["id"])
    with app.app_context(), database().session() as session:
        rows = session.scalars(select(ArticleRow).where(ArticleRow.id.in_(stored_ids))).all()
    assert len(rows) == len(VECTORS)
    for row in rows:
        assert_inert(row.body_html)
        assert "<" not in row.title and "<" not in (row.summary or "").replace("< ", ""), row.title
        assert "alert(1)" not in row.title
