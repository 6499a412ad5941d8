"""JSON API v1: each handler decodes, validates, calls a service, and responds."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial, wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, json, request, url_for
from pydantic import BaseModel
from werkzeug.http import quote_etag

from .. import qa
from ..articles import Editor, Saved, utcnow
from ..config import SOURCE_LANGUAGE, Language
from ..db import after_request_session, database, request_session
from ..domain import (
    ApiToken,
    Article,
    FieldError,
    GlossaryTerm,
    Invalid,
    Page,
    Role,
    Section,
    SegmentState,
    SegmentStatus,
    Variant,
)
from ..feeds.data import publishable
from ..glossary import add_term, update_term
from ..jobs import jobs
from ..review import (
    Reviewer,
    export_page,
    issues,
    live_article,
    read_exchange_file,
    segment_etag,
    terms_of,
)
from ..schemas import (
    SECTION_PATH_PATTERN,
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticlePatch,
    GlossaryIn,
    GlossaryList,
    GlossaryOut,
    ImportItemOut,
    ImportRejection,
    ImportResult,
    JobOut,
    SectionIn,
    SectionList,
    SectionOut,
    SectionPatch,
    SegmentIssue,
    SegmentList,
    SegmentOut,
    SegmentPatch,
    SegmentReview,
    TokenCreated,
    TokenIn,
    TokenList,
    TokenOut,
    TranslationOut,
    VariantSummary,
    parse_document,
    parse_rfc3339,
)
from ..store import ArticleFilter, Store
from ..tokens import authenticate, issue_token, record_use
from .limits import limits
from .openapi import openapi_document
from .params import ascii_int
from .problems import ApiError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ARTICLE_ID = "<int(signed=True):article_id>"
TOKEN_ID = "<int(signed=True):token_id>"
TERM_ID = "<int(signed=True):term_id>"
MAX_PAGE = 100_000
EDITORS = (Role.ADMIN, Role.EDITOR)

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def store() -> Store:
    return Store(request_session())


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def too_many(wait: int, detail: str) -> ApiError:
    return ApiError(429, f"{detail} Try again in {wait} s.", headers={"Retry-After": str(wait)})


def authenticated(*roles: Role) -> ApiToken:
    """The request's bearer token: 401 without a valid (live, unexpired) one, 403 with a
    role not in ``roles``, 429 after too many failures from this client IP or too many
    writes with this token (limits.py)."""
    limiter = limits()
    if (wait := limiter.auth_blocked()) is not None:
        raise too_many(wait, "Too many failed authentications from this address.")
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = authenticate(store(), secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        limiter.auth_failed()
        raise ApiError(
            401,
            "Send a valid API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="feedsvc"'},
        )
    if token.role not in roles:
        raise ApiError(403, f"A {token.role} token may not do this.")
    if request.method in WRITES and (wait := limiter.write(token.id)) is not None:
        raise too_many(wait, "Too many writes with this token.")
    after_request_session(partial(record_use, database(), token))
    g.token = token
    return token


def requires(*roles: Role) -> Callable[[F], F]:
    """Bearer-token check before the view: see ``authenticated``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            authenticated(*roles)
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
    number = ascii_int(raw, max_digits=9)
    if number is None or not low <= number <= high:
        errors.append(FieldError(None, f"must be an integer from {low} to {high}", name))
        return default
    return number


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
    return respond(SectionList(items=[section_out(s) for s in store().sections.all()]))


@bp.post("/sections")
@requires(*EDITORS)
def create_section() -> Response:
    section = editor().create_section(body(SectionIn))
    commit()
    location = url_for("api.get_section", section_path=section.path)
    return respond(section_out(section), 201, {"Location": location})


@bp.get("/sections/<path:section_path>")
def get_section(section_path: str) -> Response:
    return respond(section_out(store().sections.get(section_path)))


@bp.patch("/sections/<path:section_path>")
@requires(*EDITORS)
def update_section(section_path: str) -> Response:
    section = editor().update_section(section_path, body(SectionPatch))
    commit()
    return respond(section_out(section))


# -- articles ----------------------------------------------------------------


def out(model: type[M], source: Any, **overrides: Any) -> M:
    """A response document from a domain object with the same field names."""
    fields = {
        name: getattr(source, name)
        for name in model.model_fields
        if name not in overrides and hasattr(source, name)
    }
    return model.model_validate(fields | overrides)


def article_out(article: Article, variants: list[Variant]) -> ArticleOut:
    return out(
        ArticleOut,
        article,
        section=article.section_path,
        tags=list(article.tags),
        translations=[out(VariantSummary, v) for v in variants],
    )


def article_response(article: Article, status: int = 200) -> Response:
    variants = store().variants.of([article.id])[article.id]
    headers = {"ETag": quote_etag(article.etag)}
    if status == 201:
        headers["Location"] = url_for("api.get_article", article_id=article.id)
    return respond(article_out(article, variants), status, headers)


QUEUE_HEADER = "Feedsvc-Translation-Queue"


def saved_response(saved: Saved) -> Response:
    commit()
    deferred = jobs().dispatcher.dispatch(saved.jobs)
    response = article_response(saved.article, 201 if saved.created else 200)
    if deferred:
        # Saved and queued in the database; the queue was out of reach, so translation
        # starts when the worker's sweep hands the jobs over.
        response.headers[QUEUE_HEADER] = "deferred"
    return response


def editor() -> Editor:
    return Editor(store(), current_app.extensions["feedsvc.settings"].target_tags)


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
    if include_deleted == "true":
        # Deleted articles' text is editorial state, like GET by id's 410: only editors
        # and admins list it (401 without a token, 403 for a translator).
        authenticated(*EDITORS)
    if section is not None:
        store().sections.get(section)  # 404 for an unknown section
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
    page = store().articles.page(where, page_number, per_page)
    variants = store().variants.of([a.id for a in page.items])
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
    return saved_response(editor().upsert(body(ArticleIn)))


@bp.get(f"/articles/{ARTICLE_ID}")
def get_article(article_id: int) -> Response:
    article = store().articles.get(article_id)
    if article.deleted_at is not None:
        raise ApiError(
            410, f"Article {article_id} was deleted at {article.deleted_at.isoformat()}."
        )
    return article_response(article).make_conditional(request)


@bp.put(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
def replace_article(article_id: int) -> Response:
    check = if_match()
    return saved_response(editor().replace(article_id, body(ArticleIn), check))


@bp.patch(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
def patch_article(article_id: int) -> Response:
    check = if_match()
    return saved_response(editor().patch(article_id, body(ArticlePatch), check))


@bp.delete(f"/articles/{ARTICLE_ID}")
@requires(*EDITORS)
def delete_article(article_id: int) -> Response:
    check = request.if_match.contains if request.headers.get("If-Match") else None
    editor().delete(article_id, check)
    commit()
    return Response(status=204)


# -- translations ------------------------------------------------------------


def target_language(tag: str) -> Language:
    language = current_app.extensions["feedsvc.settings"].language(tag)
    if language is None or language.tag == SOURCE_LANGUAGE:
        raise ApiError(404, f"{tag!r} is not a target language of this service.")
    return language


def require_language(language: Language) -> None:
    token: ApiToken = g.token
    if token.role is Role.TRANSLATOR and language.tag not in token.languages:
        raise ApiError(403, f"This translator token does not cover {language.tag}.")


@bp.get(f"/articles/{ARTICLE_ID}/translations/<lang_tag>")
@requires(*Role)
def get_translation(article_id: int, lang_tag: str) -> Response:
    language = target_language(lang_tag)
    require_language(language)
    st = store()
    article = live_article(st, article_id)
    variant = st.variants.get(article_id, language.tag)
    job = st.jobs.latest(article_id, language.tag)
    segments = st.segments.of(article_id, language.tag)
    counts = {status.value: 0 for status in SegmentStatus}
    for segment in segments:
        counts[segment.status.value] += 1
    published = variant is not None and variant.status in publishable(language)
    document = TranslationOut(
        article_id=article.id,
        lang=language.tag,
        policy=language.policy.value,
        published=published,
        status=variant.status.value if variant else "none",
        origin=variant.origin.value if variant else None,
        engine=variant.engine if variant else None,
        source_revision=variant.source_revision if variant else None,
        article_revision=article.revision,
        updated_at=variant.updated_at if variant else None,
        title=variant.title if variant else None,
        summary=variant.summary if variant else None,
        body_html=variant.body_html if variant else None,
        job=out(JobOut, job) if job else None,
        counts=counts | {"total": len(segments)},
        segments=[out(SegmentOut, seg) for seg in segments],
    )
    return respond(document)


def reviewer(language: Language) -> Reviewer:
    token: ApiToken = g.token
    return Reviewer(store(), language, f"token:{token.id} {token.name}")


def segment_review(segment: SegmentState, lang: str, terms: list[qa.Term]) -> SegmentReview:
    found = issues(segment, segment.target, terms, lang) if segment.target else []
    return out(
        SegmentReview,
        segment,
        etag=segment_etag(segment),
        issues=[
            SegmentIssue(
                code=i.code,
                severity=i.severity,
                message=qa.message(i),
                dismissed=i.severity == "warning" and i.code in segment.dismissed,
            )
            for i in found
        ],
    )


@bp.get(f"/articles/{ARTICLE_ID}/translations/<lang_tag>/segments")
@requires(*Role)
def list_segments(article_id: int, lang_tag: str) -> Response:
    language = target_language(lang_tag)
    require_language(language)
    st = store()
    live_article(st, article_id)
    terms = terms_of(st, language.tag)
    items = [
        segment_review(s, language.tag, terms) for s in st.segments.of(article_id, language.tag)
    ]
    return respond(SegmentList(items=items))


@bp.patch(f"/articles/{ARTICLE_ID}/translations/<lang_tag>/segments/<key>")
@requires(Role.ADMIN, Role.TRANSLATOR)
def patch_segment(article_id: int, lang_tag: str, key: str) -> Response:
    language = target_language(lang_tag)
    require_language(language)
    expected = request.headers.get("If-Match")
    if not expected:
        raise ApiError(428, "Send If-Match with the segment's etag from your last GET.")
    doc = body(SegmentPatch)
    work = reviewer(language)
    expected = expected.strip('"')
    if doc.reject:
        segment = work.reject(article_id, key, expected)
    elif doc.dismiss is not None:
        segment = work.dismiss(article_id, key, doc.dismiss, doc.reason or "", expected)
    elif doc.target is not None:
        segment = work.save(article_id, key, doc.target, doc.status == "approved", expected)
    elif doc.status == "approved":
        segment = work.approve(article_id, key, expected)
    else:
        raise Invalid([FieldError("/", 'give target, status "approved" or reject')])
    commit()
    jobs().dispatcher.dispatch(work.queued)
    response = respond(segment_review(segment, language.tag, terms_of(store(), language.tag)))
    response.headers["ETag"] = quote_etag(segment_etag(segment))
    return response


@bp.post("/exchange/<lang_tag>")
@requires(Role.ADMIN, Role.TRANSLATOR)
def import_exchange(lang_tag: str) -> Response:
    language = target_language(lang_tag)
    require_language(language)
    raw = request.args.get("overwrite", "false")
    if raw not in ("true", "false"):
        raise Invalid([FieldError(None, "must be true or false", "overwrite")])
    entries = read_exchange_file(request.get_data(), request.mimetype)
    report = reviewer(language).apply(entries, overwrite=raw == "true")
    commit()
    return respond(
        ImportResult(
            applied=report.applied,
            unchanged=report.unchanged,
            rejected=[ImportRejection(location=loc, reason=why) for loc, why in report.rejected],
            conflicts=len(report.conflicts),
            overwrite=raw == "true",
            items=[
                ImportItemOut(
                    code=item.code,
                    location=item.location,
                    line=item.line,
                    article_id=item.article_id,
                    article_title=item.article_title,
                    key=item.key,
                    source=item.source,
                    reason=item.reason or None,
                    params=item.params,
                )
                for item in report.items
            ],
        )
    )


@bp.get("/exchange/<lang_tag>/export.<any(po, xlf):fmt>")
@requires(*Role)
def export_exchange(lang_tag: str, fmt: str) -> Response:
    language = target_language(lang_tag)
    require_language(language)
    raw = request.args.get("article")
    article = ascii_int(raw)
    if raw is not None and article is None:
        raise Invalid([FieldError(None, "must be an article id (ASCII digits)", "article")])
    raw_after = request.args.get("after")
    after = ascii_int(raw_after)
    if raw_after is not None and after is None:
        raise Invalid([FieldError(None, "must be an article id (ASCII digits)", "after")])
    # A whole language comes in pages of FEEDSVC_EXPORT_MAX_SEGMENTS segments (whole
    # articles); Link rel="next" names the next page while more remain.
    page = export_page(store(), language.tag, article, fmt, after or 0)
    response = Response(page.data, mimetype=page.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="feedsvc-{language.tag}.{fmt}"'
    if page.next_after is not None:
        following = url_for(
            "api.export_exchange", lang_tag=language.tag, fmt=fmt, after=page.next_after
        )
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


# -- glossary -------------------------------------------------------------------


def term_out(term: GlossaryTerm) -> GlossaryOut:
    return out(GlossaryOut, term)


def term_of(language: Language, term_id: int) -> GlossaryTerm:
    term = store().glossary.get(term_id)
    if term.target_lang != language.tag:
        raise ApiError(404, f"No term {term_id} in the {language.tag} glossary.")
    return term


@bp.get("/glossary/<lang_tag>")
@requires(*Role)
def list_glossary(lang_tag: str) -> Response:
    """Admins and editors read every glossary, a translator those of their languages."""
    language = target_language(lang_tag)
    require_language(language)
    items = [term_out(t) for t in store().glossary.terms(SOURCE_LANGUAGE, language.tag)]
    return respond(GlossaryList(items=items))


@bp.post("/glossary/<lang_tag>")
@requires(Role.ADMIN)  # as the review screens: admins edit glossaries
def create_glossary_term(lang_tag: str) -> Response:
    language = target_language(lang_tag)
    doc = body(GlossaryIn)
    check_term_target(doc)
    term = add_term(
        store(),
        current_app.extensions["feedsvc.settings"],
        language.tag,
        doc.source_term,
        doc.target_term or doc.source_term,
        doc.do_not_translate,
    )
    commit()
    return respond(term_out(term), 201)


@bp.put(f"/glossary/<lang_tag>/{TERM_ID}")
@requires(Role.ADMIN)  # as the review screens: admins edit glossaries
def replace_glossary_term(lang_tag: str, term_id: int) -> Response:
    language = target_language(lang_tag)
    doc = body(GlossaryIn)
    check_term_target(doc)
    term_of(language, term_id)
    term = update_term(
        store(), term_id, doc.source_term, doc.target_term or doc.source_term, doc.do_not_translate
    )
    commit()
    return respond(term_out(term))


@bp.delete(f"/glossary/<lang_tag>/{TERM_ID}")
@requires(Role.ADMIN)  # as the review screens: admins edit glossaries
def delete_glossary_term(lang_tag: str, term_id: int) -> Response:
    term_of(target_language(lang_tag), term_id)
    store().glossary.delete(term_id, utcnow())
    commit()
    return Response(status=204)


def check_term_target(doc: GlossaryIn) -> None:
    if not doc.do_not_translate and not doc.target_term:
        raise Invalid([FieldError("/target_term", "is required unless do_not_translate")])


# -- tokens ------------------------------------------------------------------


@bp.get("/tokens")
@requires(Role.ADMIN)
def list_tokens() -> Response:
    return respond(TokenList(items=[out(TokenOut, t) for t in store().tokens.all()]))


@bp.post("/tokens")
@requires(Role.ADMIN)
def create_token() -> Response:
    doc = body(TokenIn)
    token, secret = issue_token(
        store(), doc.name, doc.role, doc.languages, expires_at=doc.expires_at
    )
    commit()
    return respond(out(TokenCreated, token, token=secret), 201)


@bp.delete(f"/tokens/{TOKEN_ID}")
@requires(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    store().tokens.revoke(token_id, utcnow())
    commit()
    return Response(status=204)
