"""The translators' workplace: sign in with a token, a queue per language, the segment
editor, PO/XLIFF exchange and (for admins) the glossary. Server-rendered, little JS."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import qa
from ..articles import utcnow
from ..config import SOURCE_LANGUAGE, Language
from ..db import after_request_session, database, request_session
from ..domain import DomainError, Invalid, NotFound, Role, SegmentStatus
from ..feeds.data import language_name, publishable
from ..glossary import add_term, update_term
from ..jobs import jobs
from ..review import (
    Reviewer,
    export_file,
    issues,
    read_exchange_file,
    segment_etag,
    suggestions_for,
    terms_of,
)
from ..segments import attribute_context
from ..store import Store

bp = Blueprint("review", __name__, url_prefix="/review")
F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "review_token_id"


def store() -> Store:
    return Store(request_session())


def signed_in(view: F) -> F:
    """The signed-in translator or admin, whose token must still be live."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        token_id = session.get(SESSION_KEY)
        token = store().tokens.get(token_id) if isinstance(token_id, int) else None
        if token is None or token.revoked_at is not None:
            session.pop(SESSION_KEY, None)
            return redirect(url_for("review.sign_in", next=request.path))
        g.reviewer = token
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]


def language_for(tag: str) -> Language:
    """A target language this reviewer may work on: 404 if unknown, 403 if not theirs."""
    language = current_app.extensions["feedsvc.settings"].language(tag)
    if language is None or language.tag == SOURCE_LANGUAGE:
        abort(404)
    if g.reviewer.role is not Role.ADMIN and language.tag not in g.reviewer.languages:
        abort(403)
    g.page_language = None
    return language


def my_languages() -> list[Language]:
    settings = current_app.extensions["feedsvc.settings"]
    return [
        lang
        for lang in settings.target_languages
        if g.reviewer.role is Role.ADMIN or lang.tag in g.reviewer.languages
    ]


def context(**values: Any) -> dict[str, Any]:
    return {
        "reviewer": g.reviewer,
        "languages": my_languages(),
        "language_name": language_name,
        **values,
    }


@bp.get("/")
def sign_in() -> str | Response:
    if session.get(SESSION_KEY):
        return redirect(url_for("review.home"))
    return render_template("review/sign_in.html", next=request.args.get("next", ""))


@bp.post("/")
def sign_in_post() -> Response | tuple[str, int]:
    from ..tokens import authenticate, record_use

    token = authenticate(store(), request.form.get("token", "").strip())
    if token is None or token.role not in (Role.TRANSLATOR, Role.ADMIN):
        request_session().rollback()
        return render_template(
            "review/sign_in.html",
            next="",
            error=_("This is not a valid translator or admin token."),
        ), 401
    after_request_session(partial(record_use, database(), token))
    session.clear()
    session[SESSION_KEY] = token.id
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/review/") else url_for("review.home"))


@bp.post("/sign-out")
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("review.sign_in"))


@bp.get("/home")
@signed_in
def home() -> Response:
    languages = my_languages()
    if not languages:
        abort(403)
    return redirect(url_for("review.queue", lang_tag=languages[0].url_tag))


@bp.get("/<lang_tag>/")
@signed_in
def queue(lang_tag: str) -> str:
    language = language_for(lang_tag)
    section = request.args.get("section") or None
    status = request.args.get("status", "todo")
    order = request.args.get("sort", "oldest")
    items = store().segments.review_queue(language.tag, section)
    if status == "todo":
        items = [i for i in items if i.approved < i.total]
    elif status == "done":
        items = [i for i in items if i.approved == i.total]
    if order == "confidence":
        items.sort(key=lambda i: (i.lowest_score is None, i.lowest_score or 0, i.article_id))
    else:
        items.sort(key=lambda i: (i.oldest_change, i.article_id))
    totals = {
        "articles": len(items),
        "segments": sum(i.total for i in items),
        "approved": sum(i.approved for i in items),
    }
    sections = [s.path for s in store().sections.all()]
    return render_template(
        "review/queue.html",
        **context(
            language=language,
            items=items,
            totals=totals,
            sections=sections,
            section=section,
            status=status,
            order=order,
        ),
    )


@bp.get("/<lang_tag>/articles/<int:article_id>")
@signed_in
def editor(lang_tag: str, article_id: int) -> str:
    language = language_for(lang_tag)
    st = store()
    try:
        article = st.articles.get(article_id)
    except NotFound:
        abort(404)
    terms = terms_of(st, language.tag)
    # One query each for the segments, their histories and the memory: the page costs the
    # same few queries for a 5- or a 50-segment article.
    segments = st.segments.of(article_id, language.tag)
    histories = st.segments.histories([segment.id for segment in segments])
    suggested = suggestions_for(st, segments, language.tag)
    # A derived language's reviewer sees the base text each segment is converted from.
    base = (
        {s.key: s for s in st.segments.of(article_id, language.derived_from)}
        if language.derived_from
        else {}
    )
    rows = []
    for segment in segments:
        found = issues(segment, segment.target, terms, language.tag) if segment.target else []
        rows.append(
            {
                "segment": segment,
                "etag": segment_etag(segment),
                "issues": [(i.severity, qa_message(i)) for i in found],
                "terms": qa.glossary_hits(segment.source, terms),
                "suggestions": suggested[segment.id],
                "history": histories[segment.id],
                "base": base.get(segment.key),
                "context": segment_context(segment.key),
            }
        )
    approved = sum(1 for r in rows if r["segment"].status is SegmentStatus.APPROVED)
    variant = st.variants.get(article_id, language.tag)
    published = variant is not None and variant.status in publishable(language)
    return render_template(
        "review/editor.html",
        **context(
            language=language,
            article=article,
            rows=rows,
            approved=approved,
            variant=variant,
            published=published,
        ),
    )


@bp.post("/<lang_tag>/articles/<int:article_id>/segments/<key>")
@signed_in
def change_segment(lang_tag: str, article_id: int, key: str) -> Response:
    language = language_for(lang_tag)
    work = Reviewer(store(), language, actor())
    action = request.form.get("action", "save")
    etag = request.form.get("etag") or None
    try:
        if action == "reject":
            work.reject(article_id, key, etag)
        elif action == "approve" and request.form.get("target") is None:
            work.approve(article_id, key, etag)
        else:
            work.save(article_id, key, request.form.get("target", ""), action == "approve", etag)
        request_session().commit()
        jobs().dispatcher.dispatch(work.queued)
    except DomainError as exc:
        request_session().rollback()
        if isinstance(exc, NotFound):
            abort(404)
        detail = "; ".join(e.detail for e in exc.errors) if isinstance(exc, Invalid) else str(exc)
        flash(_("Not saved: %(reason)s", reason=detail), "error")
    return redirect(
        url_for("review.editor", lang_tag=lang_tag, article_id=article_id) + f"#segment-{key}"
    )


@bp.post("/<lang_tag>/articles/<int:article_id>/approve-unchanged")
@signed_in
def approve_unchanged(lang_tag: str, article_id: int) -> Response:
    language = language_for(lang_tag)
    try:
        count = Reviewer(store(), language, actor()).approve_unchanged(article_id)
    except NotFound:
        abort(404)
    request_session().commit()
    flash(_("%(count)d segments approved.", count=count), "info")
    return redirect(url_for("review.editor", lang_tag=lang_tag, article_id=article_id))


@bp.get("/<lang_tag>/export.<any(po, xlf):fmt>")
@signed_in
def export(lang_tag: str, fmt: str) -> Response:
    language = language_for(lang_tag)
    article = request.args.get("article", "")
    try:
        data, media_type = export_file(
            store(), language.tag, int(article) if article.isdigit() else None, fmt
        )
    except NotFound:
        abort(404)
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="feedsvc-{language.tag}.{fmt}"'
    return response


@bp.post("/<lang_tag>/import")
@signed_in
def import_file(lang_tag: str) -> str | tuple[str, int]:
    language = language_for(lang_tag)
    upload = request.files.get("file")
    if upload is None:
        flash(_("Choose a PO or XLIFF file to import."), "error")
        return render_template("review/import.html", **context(language=language, report=None)), 400
    try:
        entries = read_exchange_file(upload.read(), upload.mimetype or "")
    except Invalid as exc:
        flash(exc.errors[0].detail, "error")
        return render_template("review/import.html", **context(language=language, report=None)), 400
    report = Reviewer(store(), language, actor()).apply(entries)
    request_session().commit()
    return render_template("review/import.html", **context(language=language, report=report))


@bp.get("/glossary/<lang_tag>")
@signed_in
def glossary(lang_tag: str) -> str:
    language = admin_language(lang_tag)
    return render_template(
        "review/glossary.html",
        **context(language=language, terms=store().glossary.terms(SOURCE_LANGUAGE, language.tag)),
    )


@bp.post("/glossary/<lang_tag>")
@signed_in
def glossary_change(lang_tag: str) -> Response:
    language = admin_language(lang_tag)
    st = store()
    form = request.form
    keep = form.get("do_not_translate") == "on"
    try:
        if form.get("action") == "delete":
            st.glossary.delete(int(form.get("id", "0")), utcnow())
        elif form.get("id"):
            update_term(
                st, int(form["id"]), form.get("source_term", ""), form.get("target_term", ""), keep
            )
        else:
            add_term(
                st,
                current_app.extensions["feedsvc.settings"],
                language.tag,
                form.get("source_term", ""),
                form.get("target_term", ""),
                keep,
            )
        request_session().commit()
    except (DomainError, ValueError) as exc:
        request_session().rollback()
        detail = "; ".join(e.detail for e in exc.errors) if isinstance(exc, Invalid) else str(exc)
        flash(_("Not saved: %(reason)s", reason=detail), "error")
    return redirect(url_for("review.glossary", lang_tag=lang_tag))


def admin_language(tag: str) -> Language:
    if g.reviewer.role is not Role.ADMIN:
        abort(403)
    return language_for(tag)


def actor() -> str:
    return f"{g.reviewer.name} (token {g.reviewer.id})"


def segment_context(key: str) -> str | None:
    """Where an attribute segment's text appears: its element and attribute."""
    where = attribute_context(key)
    if where is None:
        return None
    element, attribute = where
    if attribute == "alt":
        return _("Text alternative (alt) of an image <%(element)s>", element=element)
    return _("Tooltip (%(attribute)s) of <%(element)s>", attribute=attribute, element=element)


def qa_message(issue: qa.Issue) -> str:
    """The QA warning in the reviewer's language (codes are stable, texts are localized)."""
    messages = {
        "numbers": _(
            "Numbers differ: missing %(missing)s, extra %(extra)s.",
            missing=issue.params.get("missing") or "–",
            extra=issue.params.get("extra") or "–",
        ),
        "placeholder_missing": _(
            "Inline tags or placeholders missing: %(ids)s.",
            ids=issue.params.get("placeholders", ""),
        ),
        "placeholder_extra": _(
            "Inline tags or placeholders that the source lacks: %(ids)s.",
            ids=issue.params.get("placeholders", ""),
        ),
        "value_typed": _(
            "Keep the placeholders %(ids)s instead of typing their values.",
            ids=issue.params.get("placeholders", ""),
        ),
        "tag_order": _("Inline tags are nested wrongly."),
        "links": _(
            "URLs or e-mail addresses of the source are missing or changed: %(links)s.",
            links=issue.params.get("links", ""),
        ),
        "glossary": _(
            "Glossary: “%(term)s” must be translated as “%(expected)s”.",
            term=issue.params.get("term", ""),
            expected=issue.params.get("expected", ""),
        ),
        "length": _(
            "The translation's length is far from the source's (ratio %(ratio)s).",
            ratio=issue.params.get("ratio", ""),
        ),
        "untranslated": _(
            "Text seems left untranslated: %(words)s.", words=issue.params.get("words", "")
        ),
        "whitespace": _("Leading or trailing spaces differ from the source."),
        "punctuation": _("The final punctuation differs from the source's."),
        "empty": _("The translation is empty."),
    }
    return messages.get(issue.code, qa.message(issue))
