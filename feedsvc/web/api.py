"""JSON API v1: each handler decodes, validates, calls a service, and responds."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, g, json, request, url_for
from pydantic import BaseModel
from werkzeug.http import quote_etag

from ..articles import Editor, Saved, utcnow
from ..db import request_session
from ..domain import ApiToken, Article, FieldError, Invalid, Page, Role, Section
from ..schemas import (
    SECTION_PATH_PATTERN,
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticlePatch,
    SectionIn,
    SectionList,
    SectionOut,
    SectionPatch,
    TokenCreated,
    TokenIn,
    TokenList,
    TokenOut,
    VariantSummary,
    parse_document,
    parse_rfc3339,
)
from ..store import ArticleFilter, Store
from ..tokens import authenticate, issue_token
from .openapi import openapi_document
from .problems import ApiError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ARTICLE_ID = "<int(signed=True):article_id>"
TOKEN_ID = "<int(signed=True):token_id>"
MAX_PAGE = 100_000
EDITORS = (Role.ADMIN, Role.EDITOR)

F = TypeVar("F", bound=Callable[..., Any])


def store() -> Store:
    return Store(request_session())


def requires(*roles: Role) -> Callable[[F], F]:
    """Bearer-token check: 401 without a valid token, 403 with a role not in ``roles``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
            token = authenticate(store(), secret.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                raise ApiError(
                    401,
                    "Send a valid API token as 'Authorization: Bearer <token>'.",
                    headers={"WWW-Authenticate": 'Bearer realm="feedsvc"'},
                )
            if token.role not in roles:
                raise ApiError(403, f"A {token.role} token may not do this.")
            g.token = token
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def body(model: type[BaseModel]) -> Any:
    if not request.is_json:
        raise ApiError(415, "Send the body as application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "The body is not valid JSON.")
    return parse_document(model, data)


def respond(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(model.model_dump_json(), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def if_match() -> Callable[[str], bool]:
    """The If-Match check PUT and PATCH need; 428 when the header is missing."""
    if not request.headers.get("If-Match"):
        raise ApiError(428, "Send If-Match with the ETag from your last GET of this article.")
    return request.if_match.contains


def int_parameter(name: str, default: int, low: int, high: int, errors: list[FieldError]) -> int:
    """A bounded integer query parameter; a bad value is added to ``errors``."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw) or not low <= int(raw) <= high:
        errors.append(FieldError(None, f"must be an integer from {low} to {high}", name))
        return default
    return int(raw)


def commit() -> None:
    request_session().commit()


# -- OpenAPI -----------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return Response(json.dumps(openapi_document()), mimetype="application/json")


# -- sections ----------------------------------------------------------------


def section_out(section: Section) -> SectionOut:
    return SectionOut(
        path=section.path,
        parent=section.parent_path,
        names=section.names,
        created_at=section.created_at,
        updated_at=section.updated_at,
    )


@bp.get("/sections")
def list_sections() -> Response:
    return respond(SectionList(items=[section_out(s) for s in store().sections()]))


@bp.post("/sections")
@requires(*EDITORS)
def create_section() -> Response:
    section = Editor(store()).create_section(body(SectionIn))
    commit()
    location = url_for("api.get_section", section_path=section.path)
    return respond(section_out(section), 201, {"Location": location})


@bp.get("/sections/<path:section_path>")
def get_section(section_path: str) -> Response:
    return respond(section_out(store().section(section_path)))


@bp.patch("/sections/<path:section_path>")
@requires(*EDITORS)
def update_section(section_path: str) -> Response:
    section = Editor(store()).update_section(section_path, body(SectionPatch))
    commit()
    return respond(section_out(section))


# -- articles ----------------------------------------------------------------


def article_out(article: Article, variants: list[Any]) -> ArticleOut:
    return ArticleOut(
        id=article.id,
        external_id=article.external_id,
        section=article.section_path,
        slug=article.slug,
        title=article.title,
        summary=article.summary,
        body_html=article.body_html,
        author=article.author,
        published_at=article.published_at,
        source_name=article.source_name,
        source_url=article.source_url,
        image_url=article.image_url,
        tags=list(article.tags),
        revision=article.revision,
        created_at=article.created_at,
        updated_at=article.updated_at,
        deleted_at=article.deleted_at,
        translations=[
            VariantSummary(
                lang=v.lang,
                origin=v.origin,
                status=v.status,
                source_revision=v.source_revision,
                updated_at=v.updated_at,
            )
            for v in variants
        ],
    )


def article_response(article: Article, status: int = 200) -> Response:
    variants = store().variants_of([article.id])[article.id]
    headers = {"ETag": quote_etag(article.etag)}
    if status == 201:
        headers["Location"] = url_for("api.get_article", article_id=article.id)
    return respond(article_out(article, variants), status, headers)


def saved_response(saved: Saved) -> Response:
    commit()
    return article_response(saved.article, 201 if saved.created else 200)


def article_filter(errors: list[FieldError]) -> ArticleFilter:
    section = request.args.get("section")
    if section is not None and not re.fullmatch(SECTION_PATH_PATTERN, section):
        errors.append(FieldError(None, "must be a section path like news/world", "section"))
    since = None
    if (raw_since := request.args.get("since")) is not None:
        try:
            since = parse_rfc3339(raw_since)
        except ValueError as exc:
            errors.append(FieldError(None, str(exc), "since"))
    include_deleted = request.args.get("include_deleted", "false")
    if include_deleted not in ("true", "false"):
        errors.append(FieldError(None, "must be true or false", "include_deleted"))
    if errors:
        raise Invalid(errors)
    if section is not None:
        store().section(section)  # 404 for an unknown section
    return ArticleFilter(section, since, include_deleted == "true")


def pagination_links(page: Page[Any]) -> str:
    def link(number: int, rel: str) -> str:
        query = {k: v for k, v in request.args.items() if k != "page"} | {"page": str(number)}
        return f'<{request.base_url}?{urlencode(query)}>; rel="{rel}"'

    links = [link(1, "first"), link(page.pages, "last")]
    if page.page > 1:
        links.append(link(min(page.page - 1, page.pages), "prev"))
    if page.page < page.pages:
        links.append(link(page.page + 1, "next"))
    return ", ".join(links)


@bp.get("/articles")
def list_articles() -> Response:
    errors: list[FieldError] = []
    page_number = int_parameter("page", 1, 1, MAX_PAGE, errors)
    per_page = int_parameter("per_page", 20, 1, 100, errors)
    where = article_filter(errors)
    page = store().articles(where, page_number, per_page)
    variants = store().variants_of([a.id for a in page.items])
    listing = ArticleList(
        items=[article_out(a, variants[a.id]) for a in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
    )
    return respond(listing, headers={"Link": pagination_links(page)})


@bp.post("/articles")
@requires(*EDITORS)
def create_article() -> Response:
    return saved_response(Editor(store()).upsert(body(ArticleIn)))


@bp.get(f"/articles/{ARTICLE_ID}")
def get_article(article_id: int) -> Response:
    article = store().article(article_id)
    if article.deleted_at is not None:
        raise ApiError(
            410, f"Article {article_id} was deleted at {article.deleted_at.isoformat()}."
        )
    return article_response(article).make_conditional(request)


@bp.put(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
def replace_article(article_id: int) -> Response:
    check = if_match()
    return saved_response(Editor(store()).replace(article_id, body(ArticleIn), check))


@bp.patch(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
def patch_article(article_id: int) -> Response:
    check = if_match()
    return saved_response(Editor(store()).patch(article_id, body(ArticlePatch), check))


@bp.delete(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
def delete_article(article_id: int) -> Response:
    check = request.if_match.contains if request.headers.get("If-Match") else None
    Editor(store()).delete(article_id, check)
    commit()
    return Response(status=204)


# -- tokens ------------------------------------------------------------------


def token_out(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "languages": list(token.languages),
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@bp.get("/tokens")
@requires(Role.ADMIN)
def list_tokens() -> Response:
    return respond(TokenList(items=[TokenOut(**token_out(t)) for t in store().tokens()]))


@bp.post("/tokens")
@requires(Role.ADMIN)
def create_token() -> Response:
    doc = body(TokenIn)
    token, secret = issue_token(store(), doc.name, doc.role, doc.languages)
    commit()
    return respond(TokenCreated(**token_out(token), token=secret), 201)


@bp.delete(f"/tokens/{TOKEN_ID}")
@requires(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    store().revoke_token(token_id, utcnow())
    commit()
    return Response(status=204)
