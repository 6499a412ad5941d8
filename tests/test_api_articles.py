"""Articles API: create, upsert, get, list, replace, patch, delete; every failure path."""

from __future__ import annotations

import pytest

from tests.conftest import Api, article_doc

pytestmark = pytest.mark.usefixtures("sections")


def create(editor: Api, **overrides: object) -> dict:
    response = editor.post("/articles", article_doc(**overrides))
    assert response.status_code == 201, response.json
    return response.json


def test_create_returns_article_with_etag_and_location(editor: Api) -> None:
    response = editor.post("/articles", article_doc(external_id="ext-1"))
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"/api/v1/articles/{body['id']}"
    assert response.headers["ETag"] == f'"article-{body["id"]}-r1"'
    assert body["slug"] == "district-opens-new-bridge"
    assert body["section"] == "news/world"
    assert body["published_at"] == "2026-02-19T01:30:00Z"
    assert body["revision"] == 1
    assert body["deleted_at"] is None


def test_get_article_is_public_and_conditional(editor: Api, anonymous: Api) -> None:
    created = create(editor)
    response = anonymous.get(f"/articles/{created['id']}")
    assert response.status_code == 200
    assert response.json["title"] == "District opens new bridge"
    etag = response.headers["ETag"]
    again = anonymous.get(f"/articles/{created['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_second_post_with_same_external_id_updates(editor: Api) -> None:
    first = create(editor, external_id="nfp-2026-0219")
    same = editor.post("/articles", article_doc(external_id="nfp-2026-0219"))
    assert same.status_code == 200
    assert same.json["revision"] == 1, "identical content must not make a new revision"
    changed = editor.post("/articles", article_doc(external_id="nfp-2026-0219", title="New"))
    assert changed.status_code == 200
    assert changed.json["id"] == first["id"]
    assert changed.json["revision"] == 2
    assert changed.json["title"] == "New"
    assert changed.json["slug"] == first["slug"], "slugs are URLs: edits keep them"
    listing = editor.get("/articles").json
    assert listing["total"] == 1


def test_slug_collisions_get_a_suffix_and_explicit_collision_conflicts(editor: Api) -> None:
    assert create(editor)["slug"] == "district-opens-new-bridge"
    assert create(editor)["slug"] == "district-opens-new-bridge-2"
    response = editor.post("/articles", article_doc(slug="district-opens-new-bridge"))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "at least 1 character"),
        ("title", None, "valid string"),
        ("title", "x" * 501, "at most 500"),
        ("body_html", "", "at least 1 character"),
        ("section", "No Such/Path", "pattern"),
        ("section", "nowhere", "does not exist"),
        ("published_at", "2026-02-19", "RFC 3339"),
        ("published_at", "2026-02-19T09:30:00", "UTC offset"),
        ("published_at", 1771464600, "RFC 3339"),
        ("source_url", "javascript:alert(1)", "http or https URL"),
        ("image_url", "/relative.jpg", "http or https URL"),
        ("tags", ["ok", ""], "at least 1 character"),
        ("tags", "not-a-list", "valid list"),
        ("slug", "Not A Slug", "pattern"),
        ("author", "bad\x00name", "control characters"),
        ("colour", "red", "unknown field"),
        ("body_html", "<script>alert(1)</script>", "no content left"),
    ],
)
def test_validation_errors_name_the_field(
    editor: Api, field: str, value: object, message: str
) -> None:
    response = editor.post("/articles", article_doc(**{field: value}))
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == 422
    assert problem["type"].endswith("/invalid-fields")
    pointers = {error["pointer"]: error["detail"] for error in problem["errors"]}
    pointer = f"/{field}" if field != "tags" or value == "not-a-list" else "/tags/1"
    assert pointer in pointers, pointers
    assert message in pointers[pointer]
    assert editor.get("/articles").json["total"] == 0, "a rejected request changes nothing"


def test_missing_fields_are_each_reported(editor: Api) -> None:
    response = editor.post("/articles", {})
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json["errors"]}
    assert pointers == {"/section", "/title", "/body_html"}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ('{"title": "x"}', "text/plain", 415),
        ("[1, 2]", "application/json", 422),
        ("null", "application/json", 400),
    ],
)
def test_malformed_bodies(editor: Api, data: str, content_type: str, status: int) -> None:
    response = editor.client.post(
        "/api/v1/articles", data=data, headers=editor.headers({"Content-Type": content_type})
    )
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_body_over_the_limit_gets_413(editor: Api) -> None:
    response = editor.post("/articles", article_doc(body_html="<p>" + "x" * 300_000 + "</p>"))
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert editor.get("/articles").json["total"] == 0


def test_put_requires_if_match_and_rejects_stale_etag(editor: Api) -> None:
    created = editor.post("/articles", article_doc())
    path = f"/articles/{created.json['id']}"
    etag = created.headers["ETag"]

    missing = editor.put(path, article_doc(title="Changed"))
    assert missing.status_code == 428

    ok = editor.put(path, article_doc(title="Changed"), headers={"If-Match": etag})
    assert ok.status_code == 200
    assert ok.json["revision"] == 2
    assert ok.headers["ETag"] != etag

    stale = editor.put(path, article_doc(title="Lost update"), headers={"If-Match": etag})
    assert stale.status_code == 412
    assert editor.get(path).json["title"] == "Changed"


def test_put_replaces_optional_fields(editor: Api) -> None:
    created = editor.post("/articles", article_doc())
    doc = article_doc(summary=None, tags=[])
    del doc["author"]
    response = editor.put(
        f"/articles/{created.json['id']}", doc, headers={"If-Match": created.headers["ETag"]}
    )
    assert response.status_code == 200
    assert response.json["author"] is None
    assert response.json["summary"] is None
    assert response.json["tags"] == []


def test_put_cannot_change_external_id(editor: Api) -> None:
    created = editor.post("/articles", article_doc(external_id="a"))
    response = editor.put(
        f"/articles/{created.json['id']}",
        article_doc(external_id="b"),
        headers={"If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/external_id"


def test_patch_changes_only_given_fields(editor: Api) -> None:
    created = editor.post("/articles", article_doc())
    path = f"/articles/{created.json['id']}"
    response = editor.patch(
        path,
        {"title": "Bridge reopens", "section": "sport"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 200
    assert response.json["title"] == "Bridge reopens"
    assert response.json["section"] == "sport"
    assert response.json["author"] == "Li Wen"
    assert response.json["revision"] == 2


def test_patch_without_changes_keeps_revision(editor: Api) -> None:
    created = editor.post("/articles", article_doc())
    response = editor.patch(
        f"/articles/{created.json['id']}",
        {"author": "Li Wen"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 200
    assert response.json["revision"] == 1


@pytest.mark.parametrize("field", ["title", "section", "body_html", "published_at"])
def test_patch_cannot_null_required_fields(editor: Api, field: str) -> None:
    created = editor.post("/articles", article_doc())
    response = editor.patch(
        f"/articles/{created.json['id']}",
        {field: None},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == f"/{field}"


def test_patch_requires_if_match_and_checks_it(editor: Api) -> None:
    created = editor.post("/articles", article_doc())
    path = f"/articles/{created.json['id']}"
    assert editor.patch(path, {"title": "x"}).status_code == 428
    stale = editor.patch(path, {"title": "x"}, headers={"If-Match": '"article-1-r9"'})
    assert stale.status_code == 412
    star = editor.patch(path, {"title": "x"}, headers={"If-Match": "*"})
    assert star.status_code == 200


def test_delete_leaves_a_tombstone(editor: Api, anonymous: Api) -> None:
    created = editor.post("/articles", article_doc(external_id="to-delete"))
    path = f"/articles/{created.json['id']}"
    assert editor.delete(path).status_code == 204

    gone = anonymous.get(path)
    assert gone.status_code == 410
    assert gone.mimetype == "application/problem+json"
    assert editor.get("/articles").json["total"] == 0
    tombstones = editor.get("/articles?include_deleted=true").json["items"]
    assert [t["id"] for t in tombstones] == [created.json["id"]]
    assert tombstones[0]["deleted_at"] is not None
    assert editor.delete(path).status_code == 410
    assert editor.patch(path, {"title": "x"}, headers={"If-Match": "*"}).status_code == 410

    revived = editor.post("/articles", article_doc(external_id="to-delete"))
    assert revived.status_code == 200
    assert revived.json["deleted_at"] is None
    assert revived.json["id"] == created.json["id"]


def test_delete_with_stale_if_match_changes_nothing(editor: Api) -> None:
    created = editor.post("/articles", article_doc())
    path = f"/articles/{created.json['id']}"
    assert editor.delete(path, headers={"If-Match": '"stale"'}).status_code == 412
    assert editor.get(path).status_code == 200
    assert editor.delete(path, headers={"If-Match": created.headers["ETag"]}).status_code == 204


def test_unknown_article_is_404(editor: Api) -> None:
    assert editor.get("/articles/999").status_code == 404
    assert editor.get("/articles/99999999999").status_code == 404
    assert editor.put("/articles/999", article_doc(), headers={"If-Match": "*"}).status_code == 404
    assert editor.delete("/articles/999").status_code == 404


def test_list_filters_by_section_subtree_and_since(editor: Api) -> None:
    world = create(editor, published_at="2026-01-01T00:00:00Z")
    local = create(editor, section="news/local", published_at="2026-01-02T00:00:00Z")
    sport = create(editor, section="sport", published_at="2026-01-03T00:00:00Z")

    news = editor.get("/articles?section=news").json
    assert [a["id"] for a in news["items"]] == [local["id"], world["id"]], "newest first"
    assert [a["id"] for a in editor.get("/articles?section=sport").json["items"]] == [sport["id"]]
    assert editor.get("/articles?section=nowhere").status_code == 404

    since = sport["updated_at"]
    changed = editor.get("/articles", query_string={"since": since}).json["items"]
    assert [a["id"] for a in changed] == [sport["id"]]


def test_list_pagination_and_bounds(editor: Api) -> None:
    for day in range(1, 6):
        create(editor, published_at=f"2026-03-0{day}T00:00:00Z")
    page = editor.get("/articles?per_page=2&page=2")
    assert page.status_code == 200
    body = page.json
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert [a["published_at"][:10] for a in body["items"]] == ["2026-03-03", "2026-03-02"]
    links = page.headers["Link"]
    for rel in ("first", "last", "prev", "next"):
        assert f'rel="{rel}"' in links
    last = editor.get("/articles?per_page=2&page=3")
    assert 'rel="next"' not in last.headers["Link"]
    assert len(last.json["items"]) == 1
    beyond = editor.get("/articles?per_page=2&page=9")
    assert beyond.status_code == 200 and beyond.json["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=100001",
        "per_page=0",
        "per_page=101",
        "per_page=1.5",
        "since=yesterday",
        "include_deleted=maybe",
        "section=Bad Path",
    ],
)
def test_list_rejects_bad_query_parameters(editor: Api, query: str) -> None:
    response = editor.get(f"/articles?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["parameter"] == query.split("=")[0]


def test_unicode_round_trips(editor: Api) -> None:
    created = create(
        editor,
        title="广州开发区 opens “smart” bridge — 56.39 sq km",
        body_html="<p>黄埔区 said: “done”.</p>",
    )
    fetched = editor.get(f"/articles/{created['id']}").json
    assert fetched["title"] == "广州开发区 opens “smart” bridge — 56.39 sq km"
    assert fetched["body_html"] == "<p>黄埔区 said: “done”.</p>"
