"""Articles: anyone reads the live ones; editors create, replace, change and delete them,
and every change queues its translations."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from flask import Response, request, url_for
from werkzeug.http import quote_etag

from ...articles import Saved
from ...domain import Article, FieldError, Invalid, Page, Variant
from ...jobs import jobs
from ...schemas import (
    SECTION_PATH_PATTERN,
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticlePatch,
    VariantSummary,
    parse_rfc3339,
)
from ...store import ArticleFilter
from ..openapi import Reply, operation, query
from ..problems import ApiError
from ..scope import current_store
from .common import (
    ARTICLE_ID,
    DELETED,
    EDITORS,
    ETAG,
    IF_MATCH,
    authenticated,
    body,
    bp,
    commit,
    flag_parameter,
    if_match,
    int_parameter,
    out,
    requires,
    respond,
)
from .sections import editor

log = logging.getLogger(__name__)
MAX_PAGE = 100_000
QUEUE_HEADER = "Feedsvc-Translation-Queue"
OK = Reply(200, "OK", ArticleOut, headers=ETAG)
GONE = (404, 410)
LIST_PARAMETERS = (
    query(
        "section",
        {"type": "string", "pattern": SECTION_PATH_PATTERN},
        "Only this section and its subsections",
    ),
    query(
        "since",
        {"type": "string", "format": "date-time"},
        "Only articles changed at or after this time (RFC 3339), oldest change first",
    ),
    query(
        "include_deleted",
        {"type": "string", "enum": ["true", "false"]},
        "Include tombstones of deleted articles (needs an editor or admin token)",
    ),
    query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page, from 1"),
    query(
        "per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page (default 20)"
    ),
)


def article_out(article: Article, variants: list[Variant]) -> ArticleOut:
    """The article as the API shows it, with a summary of each translation."""
    return out(
        ArticleOut,
        article,
        section=article.section_path,
        tags=list(article.tags),
        translations=[out(VariantSummary, v) for v in variants],
    )


def article_response(article: Article, status: int = 200) -> Response:
    """The article with its ETag (and Location when just created)."""
    variants = current_store().variants.of([article.id])[article.id]
    headers = {"ETag": quote_etag(article.etag)}
    if status == 201:
        headers["Location"] = url_for("api.get_article", article_id=article.id)
    return respond(article_out(article, variants), status, headers)


def saved_response(saved: Saved) -> Response:
    """Commit a saved article, then queue its translations: a job never runs on an
    uncommitted revision."""
    commit()
    log.info(
        "article %s revision=%d jobs=%s",
        "created" if saved.created else "updated" if saved.changed else "unchanged",
        saved.article.revision,
        ",".join(map(str, saved.jobs)) or "-",
        extra={"article_id": saved.article.id},
    )
    deferred = jobs().dispatcher.dispatch(saved.jobs)
    response = article_response(saved.article, 201 if saved.created else 200)
    if deferred:
        # Saved and queued in the database; the queue was out of reach, so translation
        # starts when the worker's sweep hands the jobs over.
        response.headers[QUEUE_HEADER] = "deferred"
    return response


def article_filter(errors: list[FieldError]) -> ArticleFilter:
    """The listing's filter from the query string; every bad parameter in one 422."""
    section = request.args.get("section")
    if section is not None and not re.fullmatch(SECTION_PATH_PATTERN, section):
        errors.append(FieldError(None, "must be a section path like news/world", "section"))
    since = None
    if (raw_since := request.args.get("since")) is not None:
        try:
            since = parse_rfc3339(raw_since)
        except ValueError as exc:
            errors.append(FieldError(None, str(exc), "since"))
    include_deleted = flag_parameter("include_deleted", errors)
    if errors:
        raise Invalid(errors)
    if include_deleted:
        # Deleted articles' text is editorial state, like GET by id's 410: only editors
        # and admins list it (401 without a token, 403 for a translator).
        authenticated(*EDITORS)
    if section is not None:
        current_store().sections.get(section)  # 404 for an unknown section
    return ArticleFilter(section, since, include_deleted)


def pagination_links(page: Page[Any]) -> str:
    """RFC 8288 first/last/prev/next links that keep the request's other parameters."""

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
@operation(
    Reply(200, "OK", ArticleList, headers={"Link": "RFC 8288 first/prev/next/last"}),
    # 401, 403 and 429: include_deleted=true without an editor's or admin's token
    errors=[400, 401, 403, 404, 429],
    parameters=LIST_PARAMETERS,
)
def list_articles() -> Response:
    """List articles, newest first."""
    errors: list[FieldError] = []
    page_number = int_parameter("page", 1, 1, MAX_PAGE, errors)
    per_page = int_parameter("per_page", 20, 1, 100, errors)
    where = article_filter(errors)
    page = current_store().articles.page(where, page_number, per_page)
    variants = current_store().variants.of([a.id for a in page.items])
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
@operation(OK, Reply(201, "Created", ArticleOut, headers=ETAG), errors=[409], body=ArticleIn)
def create_article() -> Response:
    """Create an article, or update the one with this external_id."""
    return saved_response(editor().upsert(body(ArticleIn)))


@bp.get(f"/articles/{ARTICLE_ID}")
@operation(OK, Reply(304, "Not modified"), errors=GONE)
def get_article(article_id: int) -> Response:
    """Get an article."""
    article = current_store().articles.get(article_id)
    if article.deleted_at is not None:
        raise ApiError(
            410, f"Article {article_id} was deleted at {article.deleted_at.isoformat()}."
        )
    response = article_response(article)
    response.make_conditional(request)  # 304 for a matching If-None-Match
    return response


@bp.put(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
@operation(OK, errors=[*GONE, 409, 412, 428], body=ArticleIn, parameters=[IF_MATCH])
def replace_article(article_id: int) -> Response:
    """Replace an article."""
    check = if_match()
    return saved_response(editor().replace(article_id, body(ArticleIn), check))


@bp.patch(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
@operation(OK, errors=[*GONE, 409, 412, 428], body=ArticlePatch, parameters=[IF_MATCH])
def patch_article(article_id: int) -> Response:
    """Change some fields of an article.

    A field left out keeps its value; an optional field set to null is cleared.
    """
    check = if_match()
    return saved_response(editor().patch(article_id, body(ArticlePatch), check))


@bp.delete(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
@operation(DELETED, errors=[*GONE, 412], parameters=[replace(IF_MATCH, required=False)])
def delete_article(article_id: int) -> Response:
    """Delete an article (a tombstone remains)."""
    check = request.if_match.contains if request.headers.get("If-Match") else None
    editor().delete(article_id, check)
    commit()
    return Response(status=204)
