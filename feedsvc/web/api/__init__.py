"""JSON API v1: one module per resource, every handler on the one ``api`` blueprint
(endpoint names ``api.<view>``); each decodes, calls a service and responds."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, json

from ..openapi import Reply, build_document, operation
from . import articles, exchange, glossary, sections, segments, tokens, translations
from .common import PATH_PARAMETERS, bp

__all__ = [
    "articles",
    "bp",
    "exchange",
    "glossary",
    "openapi_document",
    "sections",
    "segments",
    "tokens",
    "translations",
]
DOCUMENT_KEY = "feedsvc.openapi"


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, built from its routes once."""
    document: dict[str, Any] | None = current_app.extensions.get(DOCUMENT_KEY)
    if document is None:
        document = build_document(current_app, bp.name, bp.url_prefix or "", PATH_PARAMETERS)
        current_app.extensions[DOCUMENT_KEY] = document
    return document


@bp.get("/openapi.json")
@operation(Reply(200, "OpenAPI 3.1", content={"application/json": {"schema": {}}}))
def openapi() -> Response:
    """This document."""
    return Response(json.dumps(openapi_document()), mimetype="application/json")
