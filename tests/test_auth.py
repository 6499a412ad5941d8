"""Bearer tokens and roles: 401 without a valid token, 403 for a role that may not act."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feedsvc.db import database
from feedsvc.db.tables import ApiTokenRow
from feedsvc.store import Store
from tests.conftest import Api, article_doc

WRITES = [
    ("POST", "/sections", {"path": "news", "names": {"en": "News"}}),
    ("PATCH", "/sections/news", {"names": {"en": "News"}}),
    ("POST", "/articles", None),
    ("PUT", "/articles/1", None),
    ("PATCH", "/articles/1", {"title": "x"}),
    ("DELETE", "/articles/1", None),
]
ADMIN_ONLY = [
    ("GET", "/tokens", None),
    ("POST", "/tokens", {"name": "x", "role": "editor"}),
    ("DELETE", "/tokens/1", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES + ADMIN_ONLY)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer nope", "Basic Zm9vOmJhcg==", "Bearer fsv_unknown"]
)
def test_missing_or_bad_token_is_401(
    client: FlaskClient, method: str, path: str, body: object, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open(
        f"/api/v1{path}", method=method, json=body or article_doc(), headers=headers
    )
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_translator_may_not_edit(translator: Api, method: str, path: str, body: object) -> None:
    response = translator.request(method, path, body or article_doc())
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
def test_editor_may_not_manage_tokens(editor: Api, method: str, path: str, body: object) -> None:
    assert editor.request(method, path, body).status_code == 403


def test_revoked_token_is_refused(admin: Api, client: FlaskClient) -> None:
    created = admin.post("/tokens", {"name": "ci", "role": "editor"})
    assert created.status_code == 201
    secret = created.json["token"]
    api = Api(client, secret)
    assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    assert admin.delete(f"/tokens/{created.json['id']}").status_code == 204
    assert api.post("/sections", {"path": "sport", "names": {"en": "S"}}).status_code == 401


def test_tokens_api(admin: Api, app: Flask) -> None:
    created = admin.post(
        "/tokens", {"name": "Zhang", "role": "translator", "languages": ["zh-hans"]}
    )
    assert created.status_code == 201
    assert created.json["languages"] == ["zh-Hans"]
    assert created.json["token"].startswith("fsv_")
    listing = admin.get("/tokens").json["items"]
    assert "token" not in listing[-1], "secrets are shown once"
    assert listing[-1]["prefix"] == created.json["token"][:12]
    with app.app_context(), database().session() as session:
        stored = {row.prefix for row in Store(session).tokens.all()}
    assert created.json["prefix"] in stored
    assert admin.delete("/tokens/9999").status_code == 404


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"name": "t", "role": "translator"}, "/languages"),
        ({"name": "t", "role": "editor", "languages": ["fr"]}, "/languages"),
        ({"name": "t", "role": "translator", "languages": ["klingon-xx"]}, "/languages/0"),
        ({"name": "t", "role": "superuser"}, "/role"),
        ({"role": "editor"}, "/name"),
    ],
)
def test_token_validation(admin: Api, doc: dict, pointer: str) -> None:
    response = admin.post("/tokens", doc)
    assert response.status_code == 422
    assert pointer in {e["pointer"] for e in response.json["errors"]}, response.json


def test_tokens_are_stored_hashed(admin: Api, app: Flask) -> None:
    secret = admin.post("/tokens", {"name": "x", "role": "editor"}).json["token"]
    with app.app_context(), database().session() as session:
        hashes = session.scalars(select(ApiTokenRow.token_hash)).all()
    assert secret not in hashes
    assert all(len(h) == 64 for h in hashes)
