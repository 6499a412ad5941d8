"""The OpenAPI 3.1 description of /api/v1, built from the same models the handlers use."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from .. import schemas as s

REF = "#/components/schemas/{model}"
_INPUTS = (
    s.ArticleIn,
    s.ArticlePatch,
    s.SectionIn,
    s.SectionPatch,
    s.TokenIn,
    s.GlossaryIn,
    s.SegmentPatch,
)
_OUTPUTS = (
    s.ArticleOut,
    s.ArticleList,
    s.SectionOut,
    s.SectionList,
    s.TokenOut,
    s.TokenCreated,
    s.TokenList,
    s.GlossaryOut,
    s.GlossaryList,
    s.TranslationOut,
    s.SegmentReview,
    s.SegmentList,
    s.ImportResult,
    s.Problem,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


_ERRORS = {
    "400": _problem("Malformed JSON or query parameters"),
    "401": _problem("Missing or unknown token"),
    "403": _problem("The token's role may not do this"),
    "404": _problem("Not found"),
    "405": _problem("Method not allowed"),
    "409": _problem("Conflicts with a stored resource (slug, path, external_id)"),
    "410": _problem("Deleted; a tombstone remains"),
    "412": _problem("If-Match does not match the current ETag"),
    "413": _problem("Request body too large"),
    "415": _problem("Body is not application/json"),
    "422": _problem("Invalid fields; `errors` lists each"),
    "428": _problem("If-Match is required"),
    "429": _problem(
        "Too many failed authentications from this address, or writes with this token; "
        "Retry-After says when to try again"
    ),
}
_ETAG = {"ETag": {"description": "Strong validator of this revision", "schema": {"type": "string"}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _ERRORS[str(code)] for code in codes}


def _operation(
    summary: str,
    ok: dict[str, Any],
    *errors: int,
    body: str | None = None,
    content: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    public: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": ok | _errors(*errors)}
    if not public:
        operation["responses"] |= _errors(401, 403, 429)
    if body:
        content = _json(body)
    if content:
        operation["requestBody"] = {"required": True, "content": content}
        operation["responses"] |= _errors(400, 413, 415, 422)
    if parameters:
        operation["parameters"] = parameters
    if public:
        operation["security"] = []
    return operation


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_ARTICLE_ID = {
    "name": "article_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647},
}
_TOKEN_ID = _ARTICLE_ID | {"name": "token_id"}
_SECTION_PATH = {
    "name": "section_path",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": s.SECTION_PATH_PATTERN},
}
_LANG = {
    "name": "lang_tag",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "A target language tag, e.g. zh-Hans",
}
_TERM_ID = _ARTICLE_ID | {"name": "term_id"}
_SEGMENT_KEY = {
    "name": "key",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "A segment key, e.g. body.0.1",
}
_FORMAT = {
    "name": "fmt",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["po", "xlf"]},
    "description": "po: gettext PO; xlf: XLIFF 2.0",
}
_PO = "text/x-po"
_XLIFF = "application/xliff+xml"
_EXCHANGE_FILE = {
    media: {"schema": {"type": "string", "description": description}}
    for media, description in ((_PO, "A gettext PO file"), (_XLIFF, "An XLIFF 2.0 file"))
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "The ETag of the last GET",
}
_IF_MATCH_OPTIONAL = _IF_MATCH | {"required": False}


@cache
def openapi_document() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(m, "validation") for m in _INPUTS] + [(m, "serialization") for m in _OUTPUTS],
        ref_template=REF,
    )
    ok = {"200": {"description": "OK", "content": _json("ArticleOut"), "headers": _ETAG}}
    created = {"201": {"description": "Created", "content": _json("ArticleOut"), "headers": _ETAG}}
    gone = (404, 410)
    list_params = [
        _query(
            "section",
            {"type": "string", "pattern": s.SECTION_PATH_PATTERN},
            "Only this section and its subsections",
        ),
        _query(
            "since",
            {"type": "string", "format": "date-time"},
            "Only articles changed at or after this time (RFC 3339), oldest change first",
        ),
        _query(
            "include_deleted",
            {"type": "string", "enum": ["true", "false"]},
            "Include tombstones of deleted articles (needs an editor or admin token)",
        ),
        _query("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page, from 1"),
        _query(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": 100},
            "Items per page (default 20)",
        ),
    ]
    paths: dict[str, Any] = {
        "/openapi.json": {
            "get": _operation(
                "This document",
                {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {}}},
                    }
                },
                public=True,
            )
        },
        "/sections": {
            "get": _operation(
                "List sections",
                {"200": {"description": "OK", "content": _json("SectionList")}},
                public=True,
            ),
            "post": _operation(
                "Create a section",
                {"201": {"description": "Created", "content": _json("SectionOut")}},
                409,
                body="SectionIn",
            ),
        },
        "/sections/{section_path}": {
            "parameters": [_SECTION_PATH],
            "get": _operation(
                "Get a section",
                {"200": {"description": "OK", "content": _json("SectionOut")}},
                404,
                public=True,
            ),
            "patch": _operation(
                "Rename and/or move a section",
                {"200": {"description": "OK", "content": _json("SectionOut")}},
                404,
                409,
                body="SectionPatch",
            ),
        },
        "/articles": {
            "get": _operation(
                "List articles, newest first",
                {
                    "200": {
                        "description": "OK",
                        "content": _json("ArticleList"),
                        "headers": {
                            "Link": {
                                "description": "RFC 8288 first/prev/next/last",
                                "schema": {"type": "string"},
                            }
                        },
                    }
                },
                400,
                401,  # include_deleted=true without an editor or admin token
                403,
                404,
                429,
                parameters=list_params,
                public=True,
            ),
            "post": _operation(
                "Create an article, or update the one with this external_id",
                ok | created,
                409,
                body="ArticleIn",
            ),
        },
        "/articles/{article_id}": {
            "parameters": [_ARTICLE_ID],
            "get": _operation(
                "Get an article", ok | {"304": {"description": "Not modified"}}, *gone, public=True
            ),
            "put": _operation(
                "Replace an article",
                ok,
                *gone,
                409,
                412,
                428,
                body="ArticleIn",
                parameters=[_IF_MATCH],
            ),
            "patch": _operation(
                "Change some fields of an article",
                ok,
                *gone,
                409,
                412,
                428,
                body="ArticlePatch",
                parameters=[_IF_MATCH],
            ),
            "delete": _operation(
                "Delete an article (a tombstone remains)",
                {"204": {"description": "Deleted"}},
                *gone,
                412,
                parameters=[_IF_MATCH_OPTIONAL],
            ),
        },
        "/articles/{article_id}/translations/{lang_tag}": {
            "parameters": [_ARTICLE_ID, _LANG],
            "get": _operation(
                "A translation: status, job, and every segment with its origin",
                {"200": {"description": "OK", "content": _json("TranslationOut")}},
                *gone,
            ),
        },
        "/articles/{article_id}/translations/{lang_tag}/segments": {
            "parameters": [_ARTICLE_ID, _LANG],
            "get": _operation(
                "The segments of a translation for review, each with its etag and QA issues",
                {"200": {"description": "OK", "content": _json("SegmentList")}},
                *gone,
            ),
        },
        "/articles/{article_id}/translations/{lang_tag}/segments/{key}": {
            "parameters": [_ARTICLE_ID, _LANG, _SEGMENT_KEY],
            "patch": _operation(
                "Review a segment: new text, approve, back to the model, or dismiss a warning",
                {
                    "200": {
                        "description": "OK",
                        "content": _json("SegmentReview"),
                        "headers": {
                            "ETag": {
                                "description": "The segment's new etag",
                                "schema": {"type": "string"},
                            }
                        },
                    }
                },
                *gone,
                412,
                428,
                body="SegmentPatch",
                parameters=[_IF_MATCH | {"description": "The segment's etag from the last GET"}],
            ),
        },
        "/exchange/{lang_tag}": {
            "parameters": [_LANG],
            "post": _operation(
                "Import a translated PO or XLIFF 2.0 file (by media type, else by content)",
                {"200": {"description": "OK", "content": _json("ImportResult")}},
                404,
                content=_EXCHANGE_FILE,
                parameters=[
                    _query(
                        "overwrite",
                        {"type": "string", "enum": ["true", "false"]},
                        "Let the file win over approved or since-changed segments",
                    )
                ],
            ),
        },
        "/exchange/{lang_tag}/export.{fmt}": {
            "parameters": [_LANG, _FORMAT],
            "get": _operation(
                "Export segments for translation: one article, or a page of a language's "
                "unapproved segments",
                {
                    "200": {
                        "description": "OK",
                        "content": {
                            media: {"schema": {"type": "string"}} for media in (_PO, _XLIFF)
                        },
                        "headers": {
                            "Content-Disposition": {
                                "description": "attachment; filename=feedsvc-<lang>.<fmt>",
                                "schema": {"type": "string"},
                            },
                            "Link": {
                                "description": 'rel="next" while more segments remain',
                                "schema": {"type": "string"},
                            },
                        },
                    }
                },
                400,
                *gone,
                parameters=[
                    _query(
                        "article",
                        {"type": "integer", "minimum": 0, "maximum": 2147483647},
                        "Only this article, approved segments included",
                    ),
                    _query(
                        "after",
                        {"type": "integer", "minimum": 0, "maximum": 2147483647},
                        "The next page: the article id of the previous page's Link rel=next",
                    ),
                ],
            ),
        },
        "/glossary/{lang_tag}": {
            "parameters": [_LANG],
            "get": _operation(
                "Glossary of a language pair (en → lang_tag)",
                {"200": {"description": "OK", "content": _json("GlossaryList")}},
                404,
            ),
            "post": _operation(
                "Add a term (or a do-not-translate entry)",
                {"201": {"description": "Created", "content": _json("GlossaryOut")}},
                404,
                409,
                body="GlossaryIn",
            ),
        },
        "/glossary/{lang_tag}/{term_id}": {
            "parameters": [_LANG, _TERM_ID],
            "put": _operation(
                "Replace a term",
                {"200": {"description": "OK", "content": _json("GlossaryOut")}},
                404,
                409,
                body="GlossaryIn",
            ),
            "delete": _operation("Delete a term", {"204": {"description": "Deleted"}}, 404),
        },
        "/tokens": {
            "get": _operation(
                "List API tokens (admin)",
                {"200": {"description": "OK", "content": _json("TokenList")}},
            ),
            "post": _operation(
                "Create an API token (admin); the secret is shown once",
                {"201": {"description": "Created", "content": _json("TokenCreated")}},
                body="TokenIn",
            ),
        },
        "/tokens/{token_id}": {
            "parameters": [_TOKEN_ID],
            "delete": _operation(
                "Revoke an API token (admin)", {"204": {"description": "Revoked"}}, 404
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "feedsvc API",
            "version": "1.0.0",
            "description": "Editor, translator and admin API of feedsvc. Errors are "
            "RFC 9457 application/problem+json.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
