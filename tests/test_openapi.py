"""The OpenAPI document is generated from the API blueprint's routes: it describes each
of them and nothing else, so a new route without a description fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from feedsvc.web.openapi import openapi_path, operation

PREFIX = "/api/v1"
OPERATION_METHODS = ("get", "put", "post", "patch", "delete")


def routes(app: Flask) -> set[tuple[str, str]]:
    """(path as the document spells it, method) of every rule under /api/v1."""
    return {
        (openapi_path(rule.rule, PREFIX), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def openapi_document(client: FlaskClient) -> dict[str, Any]:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    assert isinstance(document, dict)
    return document


def described(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in OPERATION_METHODS
    }


def test_document_is_openapi_31(client: FlaskClient) -> None:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": PREFIX}]
    assert {
        "/articles",
        "/articles/{article_id}",
        "/sections",
        "/sections/{section_path}",
        "/tokens",
        "/tokens/{token_id}",
        "/openapi.json",
        "/glossary/{lang_tag}",
        "/glossary/{lang_tag}/{term_id}",
        "/articles/{article_id}/translations/{lang_tag}",
        "/articles/{article_id}/translations/{lang_tag}/segments",
        "/articles/{article_id}/translations/{lang_tag}/segments/{key}",
        "/exchange/{lang_tag}",
        "/exchange/{lang_tag}/export.{fmt}",
    } == set(document["paths"])
    schemas = document["components"]["schemas"]
    assert set(schemas["ArticleIn"]["required"]) == {"section", "title", "body_html"}
    assert schemas["ArticleIn"]["additionalProperties"] is False


def test_document_describes_every_api_route(app: Flask, client: FlaskClient) -> None:
    """Each method of each rule under /api/v1 is an operation of the document, and the
    document describes no other."""
    document = openapi_document(client)
    assert routes(app) == described(document)


def test_a_route_without_a_description_is_found(app: Flask) -> None:
    def undocumented() -> Response:
        return Response(status=204)

    app.add_url_rule(f"{PREFIX}/undocumented/<int:thing_id>", "api.undocumented", undocumented)
    document = openapi_document(app.test_client())
    assert routes(app) - described(document) == {("/undocumented/{thing_id}", "GET")}


def test_every_reference_resolves(client: FlaskClient) -> None:
    text = client.get(f"{PREFIX}/openapi.json").get_data(as_text=True)
    names = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert names and names <= set(openapi_document(client)["components"]["schemas"])


def test_security_follows_the_token_check(client: FlaskClient) -> None:
    """Operations that need a token say so (the 401, 403 and 429 a token check may answer);
    the others are marked public with an empty security list."""
    document = openapi_document(client)
    public = {
        (path, method)
        for path, item in document["paths"].items()
        for method, described_operation in item.items()
        if method in OPERATION_METHODS and described_operation.get("security") == []
    }
    assert public == {
        ("/openapi.json", "get"),
        ("/sections", "get"),
        ("/sections/{section_path}", "get"),
        ("/articles", "get"),
        ("/articles/{article_id}", "get"),
    }
    for path, item in document["paths"].items():
        for method, described_operation in item.items():
            if method in OPERATION_METHODS and (path, method) not in public:
                responses = set(described_operation["responses"])
                assert {"401", "403", "429"} <= responses, (path, method)


def test_an_operation_needs_a_summary() -> None:
    """The view's docstring is the operation's summary: a view without one is refused."""

    def view() -> Response:
        return Response(status=204)

    with pytest.raises(TypeError, match="docstring"):
        operation()(view)
