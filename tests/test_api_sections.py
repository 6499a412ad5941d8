"""Sections API: create, list, get, rename, move (with aliases for the old paths)."""

from __future__ import annotations

from flask import Flask

from feedsvc.db import database
from feedsvc.store import Store
from tests.conftest import Api, article_doc


def test_create_list_and_get(editor: Api, anonymous: Api) -> None:
    response = editor.post(
        "/sections", {"path": "news", "names": {"en": "News", "zh-hans": "新闻"}}
    )
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/sections/news"
    assert response.json["names"] == {"en": "News", "zh-Hans": "新闻"}, "tags are canonicalized"
    child = editor.post(
        "/sections",
        {"path": "news/media-views-of-huangpu", "names": {"en": "Media Views of Huangpu"}},
    )
    assert child.json["parent"] == "news"
    listing = anonymous.get("/sections").json["items"]
    assert [s["path"] for s in listing] == ["news", "news/media-views-of-huangpu"]
    got = anonymous.get("/sections/news/media-views-of-huangpu")
    assert got.status_code == 200 and got.json["names"]["en"] == "Media Views of Huangpu"
    assert anonymous.get("/sections/nowhere").status_code == 404


def test_create_validation(editor: Api) -> None:
    cases = [
        ({"path": "Bad Path", "names": {"en": "x"}}, 422, "/path"),
        ({"path": "news", "names": {"fr": "Actualités"}}, 422, "/names/en"),
        ({"path": "news", "names": {"xx-Qqqq-99": "x"}}, 422, "/names/xx-Qqqq-99"),
        ({"path": "a/b", "names": {"en": "B"}}, 422, "/path"),
        ({"path": "news", "names": {"en": ""}}, 422, "/names/en"),
        ({"names": {"en": "x"}}, 422, "/path"),
    ]
    for doc, status, pointer in cases:
        response = editor.post("/sections", doc)
        assert response.status_code == status, (doc, response.json)
        assert pointer in {e["pointer"] for e in response.json["errors"]}, response.json
    assert editor.get("/sections").json["items"] == []


def test_duplicate_path_conflicts(editor: Api) -> None:
    assert editor.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    again = editor.post("/sections", {"path": "news", "names": {"en": "News"}})
    assert again.status_code == 409


def test_rename_merges_names(editor: Api) -> None:
    editor.post("/sections", {"path": "news", "names": {"en": "News"}})
    response = editor.patch("/sections/news", {"names": {"zh-Hans": "新闻", "en": "Latest"}})
    assert response.status_code == 200
    assert response.json["names"] == {"en": "Latest", "zh-Hans": "新闻"}


def test_move_carries_subtree_and_articles_and_keeps_aliases(editor: Api, app: Flask) -> None:
    for path in ["news", "news/world", "news/world/asia", "archive"]:
        editor.post("/sections", {"path": path, "names": {"en": path}})
    article = editor.post("/articles", article_doc(section="news/world/asia")).json
    moved = editor.patch("/sections/news/world", {"path": "archive/world"})
    assert moved.status_code == 200, moved.json
    assert moved.json["path"] == "archive/world"
    assert moved.json["parent"] == "archive"
    paths = [s["path"] for s in editor.get("/sections").json["items"]]
    assert paths == ["archive", "archive/world", "archive/world/asia", "news"]
    assert editor.get(f"/articles/{article['id']}").json["section"] == "archive/world/asia"
    with app.app_context(), database().session() as session:
        store = Store(session)
        assert store.sections.alias("news/world") == "archive/world"
        assert store.sections.alias("news/world/asia") == "archive/world/asia"
    # A new section may take an old path again; the alias then gives way.
    assert editor.post("/sections", {"path": "news/world", "names": {"en": "W"}}).status_code == 201
    with app.app_context(), database().session() as session:
        assert Store(session).sections.alias("news/world") is None


def test_move_failures(editor: Api) -> None:
    for path in ["news", "news/world", "sport"]:
        editor.post("/sections", {"path": path, "names": {"en": path}})
    assert editor.patch("/sections/news", {"path": "news/world/x"}).status_code == 422
    assert editor.patch("/sections/news/world", {"path": "sport"}).status_code == 409
    assert editor.patch("/sections/news/world", {"path": "nowhere/world"}).status_code == 422
    assert editor.patch("/sections/nowhere", {"path": "x"}).status_code == 404
    assert [s["path"] for s in editor.get("/sections").json["items"]] == [
        "news",
        "news/world",
        "sport",
    ]
