"""The translators' workplace: sign in with a token, a queue per language, the segment
editor, PO/XLIFF exchange and (for admins) the glossary. Server-rendered, little JS."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import partial, wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    get_template_attribute,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import i18n, qa
from ..articles import utcnow
from ..config import SOURCE_LANGUAGE, Language
from ..db import after_request_session, database, request_session
from ..domain import (
    Article,
    DomainError,
    FieldError,
    Invalid,
    PreconditionFailed,
    QueueItem,
    Role,
    Section,
    SegmentStatus,
    StoredSegment,
)
from ..feeds.data import language_name, publishable
from ..glossary import add_term, update_term
from ..jobs import jobs
from ..review import (
    UNDO_WINDOW,
    ImportItem,
    Reviewer,
    export_file,
    issues,
    live_article,
    preview,
    read_exchange_file,
    segment_etag,
    suggestions_for,
    terms_of,
    typed_text,
)
from ..segments import segment_places
from ..store import QueueFilter, Store
from .limits import limits
from .params import ascii_int
from .problems import MISSING, aborting_if_missing, problem, status_of
from .scope import current_settings
from .segment_rows import build_row, qa_message

bp = Blueprint("review", __name__, url_prefix="/review")
P = ParamSpec("P")
R = TypeVar("R")
SESSION_KEY = "review_token_id"
UNDO_KEY = "review_undo"  # the reviewer's last bulk approval, while it can be undone


# Security headers (a strict CSP without inline script, nosniff, Referrer-Policy, no
# framing) are set for every HTML page of the app: overhead.secure_pages.
SESSION_GENERATION_KEY = "review_session_generation"  # sign-out raises the token's


def store() -> Store:
    """The request's store, for the review views."""
    return Store(request_session())


def signed_in(view: Callable[P, R]) -> Callable[P, R | Response]:
    """The signed-in translator or admin, whose token must still be live."""

    @wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        token_id = session.get(SESSION_KEY)
        token = store().tokens.get(token_id) if isinstance(token_id, int) else None
        if (
            token is None
            or not token.live(utcnow())
            or session.get(SESSION_GENERATION_KEY) != token.session_generation
        ):
            # Revoked, expired, or signed out since this cookie was issued (a copy of it).
            session.pop(SESSION_KEY, None)
            session.pop(SESSION_GENERATION_KEY, None)
            return redirect(url_for("review.sign_in", next=request.path))
        g.reviewer = token
        return view(*args, **kwargs)

    return checked


def language_for(tag: str) -> Language:
    """A target language this reviewer may work on: 404 if unknown, 403 if not theirs."""
    language = current_settings().language(tag)
    if language is None or language.tag == SOURCE_LANGUAGE:
        abort(404)
    if g.reviewer.role is not Role.ADMIN and language.tag not in g.reviewer.languages:
        abort(403)
    g.page_language = None
    return language


def my_languages() -> list[Language]:
    """The languages the signed-in reviewer may work on: all for admins, else their token's."""
    settings = current_app.extensions["feedsvc.settings"]
    return [
        lang
        for lang in settings.target_languages
        if g.reviewer.role is Role.ADMIN or lang.tag in g.reviewer.languages
    ]


def context(**values: Any) -> dict[str, Any]:
    """Template values every review page needs, plus the view's own."""
    return {
        "reviewer": g.reviewer,
        "languages": my_languages(),
        "language_name": language_name,
        **values,
    }


@bp.get("/")
def sign_in() -> str | Response:
    """The token sign-in form, or home for a reviewer already signed in."""
    if session.get(SESSION_KEY):
        return redirect(url_for("review.home"))
    return render_template(
        "review/sign_in.html", next=local_review_path(request.args.get("next")) or ""
    )


@bp.post("/")
def sign_in_post() -> Response | tuple[str, int]:
    """Sign in with a token. Failed attempts are counted per client IP and per token name
    (limits.py); past either limit the answer is 429 with Retry-After, even for a good
    token, until the window has passed."""
    from ..tokens import authenticate, record_use, token_name

    target = local_review_path(request.form.get("next"))
    secret = request.form.get("token", "").strip()
    name = token_name(secret)
    if (wait := limits().sign_in_blocked(name)) is not None:
        return too_many_attempts(wait, target)
    token = authenticate(store(), secret)
    if token is None or token.role not in (Role.TRANSLATOR, Role.ADMIN):
        request_session().rollback()
        limits().sign_in_failed(name)
        return render_template(
            "review/sign_in.html",
            next=target or "",
            error=_("This is not a valid translator or admin token."),
        ), 401
    after_request_session(partial(record_use, database(), token))
    ui_language = session.get(i18n.UI_LANGUAGE_KEY)  # chosen before signing in: it stays
    session.clear()
    session[SESSION_KEY] = token.id
    session[SESSION_GENERATION_KEY] = token.session_generation
    if ui_language:
        session[i18n.UI_LANGUAGE_KEY] = ui_language
    return redirect(target or url_for("review.home"))


def too_many_attempts(wait: int, target: str | None) -> Response:
    """429 for a sign-in past the limit: problem+json for scripts, a localized page else."""
    headers = {"Retry-After": str(wait)}
    detail = _("Too many failed sign-ins. Try again in %(seconds)d seconds.", seconds=wait)
    if wants_json():
        return problem(429, detail, headers=headers)
    page = render_template("review/sign_in.html", next=target or "", error=detail, status=429)
    return Response(page, 429, headers=headers, mimetype="text/html")


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session here and on the server: the token's session generation is raised,
    so this cookie (or a copy of it) no longer signs anyone in. Every review session of
    the token ends with it."""
    token_id = session.get(SESSION_KEY)
    token = store().tokens.get(token_id) if isinstance(token_id, int) else None
    if token is not None and session.get(SESSION_GENERATION_KEY) == token.session_generation:
        store().tokens.end_sessions(token.id)
        request_session().commit()
    ui_language = session.get(i18n.UI_LANGUAGE_KEY)  # a choice of language outlives the sign-in
    session.clear()
    if ui_language:
        session[i18n.UI_LANGUAGE_KEY] = ui_language
    return redirect(url_for("review.sign_in"))


@bp.get("/home")
@signed_in
def home() -> Response:
    """Sends the reviewer to the queue of their first language, 403 if they have none."""
    languages = my_languages()
    if not languages:
        abort(403)
    return redirect(url_for("review.queue", lang_tag=languages[0].url_tag))


@bp.get("/<lang_tag>/")
@signed_in
def queue(lang_tag: str) -> str:
    """One page of the language's queue: filtered and sorted in SQL; word counts, flags
    (QA errors, changed English, a job waiting for a model) for the page's articles only."""
    language = language_for(lang_tag)
    st = store()
    chosen = QueueView.read(request.args)
    found = queue_page(st, language, chosen)
    labels = section_labels(st.sections.all())
    link = partial(
        url_for,
        "review.queue",
        lang_tag=language.url_tag,
        section=chosen.section,
        q=chosen.search or None,
        status=chosen.status,
        sort=chosen.order,
    )
    page = chosen.page
    return render_template(
        "review/queue.html",
        **context(
            language=language,
            items=found.items,
            totals=found.totals,
            scan_limited=found.scan_limited,
            sections=list(labels.items()),
            section_label=labels,
            **asdict(chosen),  # the form's values: section, search, status, order, page
            first=(page - 1) * QUEUE_PAGE + 1,
            prev_url=link(page=page - 1) if page > 1 else None,
            next_url=link(page=page + 1) if found.more else None,
        ),
    )


EDITOR_FILTERS = {
    "status": ("pending", "translated", "approved", "changed"),
    "origin": ("model", "memory", "human", "converted", "glossary"),
    "check": ("any", *qa.CODES),
}


def editor_filters() -> dict[str, str]:
    """The editor's row filters from the query string; unknown values are ignored."""
    return {
        name: value
        for name, allowed in EDITOR_FILTERS.items()
        if (value := request.args.get(name, "")) in allowed
    }


def shown(row: dict[str, Any], filters: dict[str, str]) -> bool:
    """Whether an editor row passes the status, origin and QA check filters chosen."""
    segment: StoredSegment = row["segment"]
    status = filters.get("status")
    if status == "changed" and not segment.source_changed:
        return False
    if status not in (None, "changed") and segment.status.value != status:
        return False
    if (origin := filters.get("origin")) and (segment.origin is None or segment.origin != origin):
        return False
    check = filters.get("check")
    live = [i["code"] for i in row["issues"] if not i["dismissed"]]
    return not check or (bool(live) if check == "any" else check in live)


def editor_rows(
    st: Store,
    language: Language,
    article: Article,
    keys: set[str] | None = None,
    typed: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflicts: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of the editor (all, or those of ``keys``), as segment_rows.build_row makes them
    (source_parts, chips, kind, issues, suggestions…). One query each for the segments,
    their histories and the memory: the same few queries for a 5- or a 50-segment article."""
    terms = terms_of(st, language.tag)
    segments = st.segments.of(article.id, language.tag)
    wanted = [s for s in segments if keys is None or s.key in keys]
    histories = st.segments.histories([segment.id for segment in wanted])
    suggested = suggestions_for(st, wanted, language.tag)
    # A derived language's reviewer sees the base text each segment is converted from.
    base = (
        {s.key: s for s in st.segments.of(article.id, language.derived_from)}
        if language.derived_from
        else {}
    )
    places = segment_places(article.body_html)
    numbers = {segment.key: number for number, segment in enumerate(segments, 1)}
    return [
        build_row(
            segment,
            number=numbers[segment.key],
            total=len(segments),
            lang=language.tag,
            terms=terms,
            places=places,
            suggestions=suggested[segment.id],
            history=histories[segment.id],
            base=base.get(segment.key),
            typed=(typed or {}).get(segment.key),
            error=(errors or {}).get(segment.key, ()),
            conflict=(conflicts or {}).get(segment.key),
        )
        for segment in wanted
    ]


def publication_label(st: Store, language: Language, article_id: int) -> str:
    """How the article shows in this language now, so reviewers know what readers see."""
    variant = st.variants.get(article_id, language.tag)
    if variant is None or variant.status not in publishable(language):
        return _("Not published yet")
    if variant.status.value == "reviewed":
        return _("Published as human-reviewed")
    if language.derived_from:
        return _("Published as converted text")
    return _("Published as machine translation")


def article_or_abort(st: Store, article_id: int) -> Article:
    """The article a screen works on: 404 if unknown, 410 if deleted."""
    with aborting_if_missing():
        return live_article(st, article_id)


def bulk_summary(
    st: Store, language: Language, article_id: int, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """What "approve all unchanged" would approve, and what it skips and why."""
    plan = Reviewer(st, language, actor()).bulk_plan(article_id)
    return {
        "approvable": [segment.key for segment in plan.approvable],
        "skipped": [skipped_item(rows, segment, found) for segment, found in plan.skipped],
    }


def render_editor(
    language: Language,
    article_id: int,
    status: int = 200,
    **changes: Any,
) -> tuple[str, int]:
    """The article editor page, with ``changes`` (errors, typed text) carried into its rows."""
    st = store()
    article = article_or_abort(st, article_id)
    rows = editor_rows(st, language, article, **changes)
    filters = editor_filters()
    visible = [row for row in rows if shown(row, filters)]
    bulk = bulk_summary(st, language, article_id, rows) | {
        "shown": [
            row["segment"].key
            for row in visible
            if row["segment"].status is not SegmentStatus.APPROVED
        ],
    }
    typed = {row["segment"].key: row["typed"] for row in rows}
    shown_preview = preview(st, article_id, language.tag, typed)
    return render_template(
        "review/editor.html",
        **context(
            language=language,
            article=article,
            rows=visible,
            total=len(rows),
            approved=sum(1 for r in rows if r["segment"].status is SegmentStatus.APPROVED),
            publication_label=publication_label(st, language, article_id),
            filters=filters,
            bulk=bulk,
            undo=session_undo(article_id, language),
            preview_html=Markup(shown_preview.body_html),
            preview_title=shown_preview.title,
            preview_summary=shown_preview.summary,
        ),
    ), status


def skipped_item(
    rows: list[dict[str, Any]], segment: StoredSegment, found: list[qa.Issue]
) -> dict[str, Any]:
    """Why a bulk approval skipped a segment, with its position, so the reviewer can find it."""
    row = next(r for r in rows if r["segment"].key == segment.key)
    messages = [qa_message(issue) for issue in found]
    if segment.source_changed:
        messages.insert(0, _("The English changed: the earlier translation needs review."))
    return {"key": segment.key, "position": row["position"], "messages": messages}


@bp.get("/<lang_tag>/articles/<int:article_id>")
@signed_in
def editor(lang_tag: str, article_id: int) -> tuple[str, int]:
    """The editor of one article's translation into one language."""
    return render_editor(language_for(lang_tag), article_id)


SEGMENT_ACTIONS = ("save", "approve", "reject", "dismiss")


def wants_json() -> bool:
    """Whether the client (the editor's script) asked for JSON rather than a page."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def refusal(exc: DomainError, segment: StoredSegment | None, typed: str, lang: str) -> list[str]:
    """Why a change was refused, in the reviewer's language, for the segment's row."""
    if isinstance(exc, PreconditionFailed):
        return [_("Someone changed this segment since you loaded it.")]
    messages = []
    for error in exc.errors if isinstance(exc, Invalid) else []:
        if error.pointer == "/target" and segment is not None and typed:
            found = issues(segment, typed_text(typed), terms_of(store(), lang), lang)
            messages += [qa_message(i) for i in found if i.severity == "error"]
        elif error.pointer == "/target":
            messages.append(_("There is no text to approve yet."))
        elif error.pointer == "/reason":
            messages.append(_("Say in at most 500 characters why the warning does not apply."))
        elif error.pointer == "/code":
            messages.append(_("This warning is no longer raised for this text."))
    return messages or [_("Not saved.")]


@bp.post("/<lang_tag>/articles/<int:article_id>/segments/<key>")
@signed_in
def change_segment(lang_tag: str, article_id: int, key: str) -> Response | tuple[str, int]:
    """Save, approve, reject or dismiss one segment as the reviewer saw it (its etag).
    From review.js (JSON): the re-rendered row, or a problem naming what to do; typed text
    stays in the page. From a plain form: back to the editor, or the editor again with the
    typed text and the reason at the segment."""
    language = language_for(lang_tag)
    st = store()
    work = Reviewer(st, language, actor())
    form = request.form
    action = form.get("action", "save")
    if action not in SEGMENT_ACTIONS:
        abort(400)
    etag = form.get("etag") or None
    if etag is None:
        abort(428)  # a change without the version it was made on could overwrite anything
    typed = form.get("target")
    try:
        if action == "reject":
            work.reject(article_id, key, etag)
        elif action == "dismiss":
            work.dismiss(article_id, key, form.get("code", ""), form.get("reason", ""), etag)
        elif action == "approve" and typed is None:
            work.approve(article_id, key, etag)
        else:
            work.save(article_id, key, typed or "", action == "approve", etag)
        request_session().commit()
        jobs().dispatcher.dispatch(work.queued)
    except DomainError as exc:
        request_session().rollback()
        if isinstance(exc, MISSING):
            if wants_json():
                return problem(
                    status_of(exc), _("This segment no longer exists; reload the article.")
                )
            abort(status_of(exc))
        with aborting_if_missing():
            current = st.segments.get(article_id, language.tag, key)
        messages = refusal(exc, current, typed or "", language.tag)
        conflict = None
        if isinstance(exc, PreconditionFailed):
            theirs = editor_rows(st, language, st.articles.get(article_id), keys={key})[0]
            last = theirs["history"][0] if theirs["history"] else None
            conflict = {
                "target": current.target or "",
                "status": current.status.value,
                "etag": segment_etag(current),
                "actor": person(last.actor) if last else _("the translation job"),
            }
            if wants_json():
                conflict["html"] = render_row(language, st.articles.get(article_id), theirs)
        status = 412 if isinstance(exc, PreconditionFailed) else 422
        if wants_json():
            document = problem(
                status,
                messages[0],
                [FieldError("/target", message) for message in messages],
            )
            body = json.loads(document.get_data())
            body |= {"key": key} | ({"theirs": conflict} if conflict else {})
            return Response(json.dumps(body), status=status, mimetype="application/problem+json")
        kept = {key: typed} if typed is not None else {}
        return render_editor(
            language,
            article_id,
            status,
            typed=kept,
            errors={key: messages},
            conflicts={key: conflict} if conflict else None,
        )
    if wants_json():
        article = live_article(st, article_id)
        row = editor_rows(st, language, article, keys={key})[0]
        segments = st.segments.of(article_id, language.tag)
        segment = row["segment"]
        return Response(
            json.dumps(
                {
                    "key": key,
                    "etag": row["etag"],
                    "status": segment.status.value,
                    "target": segment.target,
                    "html": render_row(language, article, row),
                    "approved": sum(s.status is SegmentStatus.APPROVED for s in segments),
                    "total": len(segments),
                    "publication": publication_label(st, language, article_id),
                }
            ),
            mimetype="application/json",
        )
    # url_for's route values are Any; a dict of str would be checked against its _external.
    values: dict[str, Any] = {"lang_tag": lang_tag, "article_id": article_id, **editor_filters()}
    return redirect(url_for("review.editor", **values) + f"#segment-{key}", 303)


def render_row(language: Language, article: Article, row: dict[str, Any]) -> str:
    """One segment's <li>, as the editor page renders it."""
    macro = get_template_attribute("review/_segment.html", "segment_row")
    return str(macro(row, language, article))


@bp.post("/<lang_tag>/articles/<int:article_id>/preview")
@signed_in
def preview_article(lang_tag: str, article_id: int) -> Response:
    """The article with the texts typed so far (sanitized), for the editor's preview."""
    language = language_for(lang_tag)
    document = request.get_json(silent=True)
    targets = document.get("targets") if isinstance(document, dict) else None
    if not isinstance(targets, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in targets.items()
    ):
        return problem(400, _('Send {"targets": {segment key: text}}.'))
    try:
        shown_preview = preview(store(), article_id, language.tag, targets)
    except MISSING:
        return problem(404, _("This article no longer exists."))
    return Response(
        json.dumps(
            {
                "html": shown_preview.body_html,
                "title": shown_preview.title,
                "summary": shown_preview.summary,
            }
        ),
        mimetype="application/json",
    )


@bp.get("/<lang_tag>/articles/<int:article_id>/approve-unchanged")
@signed_in
def confirm_approve_unchanged(lang_tag: str, article_id: int) -> str:
    """Without JavaScript, what "approve all unchanged" will do, before it does it."""
    language = language_for(lang_tag)
    st = store()
    article = article_or_abort(st, article_id)
    rows = editor_rows(st, language, article)
    bulk = bulk_summary(st, language, article_id, rows)
    return render_template(
        "review/approve_unchanged.html", **context(language=language, article=article, bulk=bulk)
    )


@bp.post("/<lang_tag>/articles/<int:article_id>/approve-unchanged")
@signed_in
def approve_unchanged(lang_tag: str, article_id: int) -> Response:
    """Approve the unchanged proposals (or the segments listed in ``keys``) that carry no
    QA issue, as one batch that can be undone for a while."""
    language = language_for(lang_tag)
    keys = request.form.getlist("keys") or None
    work = Reviewer(store(), language, actor())
    with aborting_if_missing():
        done = work.approve_many(article_id, keys)
    request_session().commit()
    jobs().dispatcher.dispatch(work.queued)
    left = len(Reviewer(store(), language, actor()).bulk_plan(article_id).skipped)
    if done.approved:
        session[UNDO_KEY] = {
            "article": article_id,
            "lang": language.tag,
            "batch": done.batch,
            "count": len(done.approved),
            "until": (utcnow() + UNDO_WINDOW).isoformat(),
        }
    flash(
        _(
            "%(count)d segments approved; %(skipped)d skipped because of QA issues.",
            count=len(done.approved),
            skipped=left,
        ),
        "info",
    )
    return redirect(url_for("review.editor", lang_tag=lang_tag, article_id=article_id), 303)


def session_undo(article_id: int, language: Language) -> dict[str, Any] | None:
    """The bulk approval of this article the reviewer may still undo."""
    last = session.get(UNDO_KEY)
    if not isinstance(last, dict) or last.get("article") != article_id:
        return None
    if last.get("lang") != language.tag:
        return None
    until = datetime.fromisoformat(str(last.get("until")))
    if until <= utcnow():
        return None
    return {"batch": last["batch"], "count": last["count"], "until": until}


@bp.post("/<lang_tag>/articles/<int:article_id>/undo/<batch>")
@signed_in
def undo_approval(lang_tag: str, article_id: int, batch: str) -> Response:
    """Reverts a bulk approval, so one mistaken click does not publish a whole article."""
    language = language_for(lang_tag)
    work = Reviewer(store(), language, actor())
    reverted = work.undo(article_id, batch)
    request_session().commit()
    jobs().dispatcher.dispatch(work.queued)
    session.pop(UNDO_KEY, None)
    flash(_("Bulk approval undone for %(count)d segments.", count=reverted), "info")
    return redirect(url_for("review.editor", lang_tag=lang_tag, article_id=article_id), 303)


@bp.get("/<lang_tag>/export.<any(po, xlf):fmt>")
@signed_in
def export(lang_tag: str, fmt: str) -> Response:
    """A language's segments as a PO or XLIFF file, for translators working offline."""
    language = language_for(lang_tag)
    raw, raw_after = request.args.get("article"), request.args.get("after")
    article, after = ascii_int(raw), ascii_int(raw_after)
    if (raw and article is None) or (raw_after and after is None):
        abort(400)  # "²" or "٣" is not an article id
    with aborting_if_missing():
        data, media_type = export_file(store(), language.tag, article, fmt, after or 0)
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="feedsvc-{language.tag}.{fmt}"'
    return response


@bp.post("/<lang_tag>/import")
@signed_in
def import_file(lang_tag: str) -> str | tuple[str, int]:
    """Applies an uploaded PO or XLIFF file and reports what became of each entry."""
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
    overwrite = request.form.get("overwrite") == "on"
    report = Reviewer(store(), language, actor()).apply(entries, overwrite=overwrite)
    request_session().commit()
    return render_template(
        "review/import.html",
        **context(
            language=language,
            report=report,
            overwrite=overwrite,
            rows=[import_row(language, item) for item in report.items],
        ),
    )


def import_row(language: Language, item: ImportItem) -> dict[str, Any]:
    """One entry of an import report for the page: where it is (article, segment, English
    source, place in the file) and what became of it, in the reviewer's language."""
    params = item.params
    if item.line is not None:
        where = _("line %(line)d", line=item.line)
    else:
        where = _("unit %(unit)s", unit=item.key or item.location)
    status = {
        "applied": _("Applied"),
        "unchanged": _("Unchanged"),
        "conflict": _("Conflict: not imported"),
        "source_changed": _("Source changed: not imported"),
        "unknown": _("Unknown segment: not imported"),
        "qa": _("Refused by the checks"),
    }.get(item.code, item.code)
    current = str(params.get("current") or "")
    theirs = str(params.get("file") or "")
    if item.code == "applied":
        message = (
            _("Imported and approved.")
            if params.get("status") == SegmentStatus.APPROVED.value
            else _("Imported as a translation to review.")
        )
    elif item.code == "unchanged":
        message = _("The file has the same text and status, or no translation.")
    elif item.code == "conflict" and params.get("why") == "approved" and current == theirs:
        message = _(
            "This segment is approved; the file has the same text without approval and "
            "would take the approval back. Approved text: “%(current)s”.",
            current=current,
        )
    elif item.code == "conflict" and params.get("why") == "approved":
        message = _(
            "This segment is approved with a different text or status; the file would "
            "replace it. Approved text: “%(current)s”. Text in the file: “%(file)s”.",
            current=current,
            file=theirs,
        )
    elif item.code == "conflict" and params.get("why") == "unversioned":
        message = _(
            "The file does not say which version it was exported from, and this segment "
            "has a text a person wrote or approved. Current text: “%(current)s”. Text in "
            "the file: “%(file)s”.",
            current=current,
            file=theirs,
        )
    elif item.code == "conflict":
        message = _(
            "This segment changed after the file was exported (version %(revision)s, now "
            "%(version)s). Current text: “%(current)s”. Text in the file: “%(file)s”.",
            revision=params.get("revision"),
            version=params.get("version"),
            current=current,
            file=theirs,
        )
    elif item.code == "source_changed":
        message = _(
            "The English source changed since the export; export the article again. "
            "Source in the file: “%(source)s”.",
            source=str(params.get("file_source") or ""),
        )
    elif item.code == "unknown" and params.get("why") == "no_id":
        message = _("This entry does not identify a feedsvc segment (its context or id).")
    elif item.code == "unknown":
        message = _("There is no such segment: the article changed or was deleted.")
    else:
        found = params.get("issues") or []
        message = " ".join(
            qa_message(qa.Issue(i["code"], i["params"], "error"))
            for i in found  # type: ignore[attr-defined]
        )
    editor_url = None
    if item.article_id is not None and item.article_title is not None:
        editor_url = url_for(
            "review.editor", lang_tag=language.url_tag, article_id=item.article_id
        ) + (f"#segment-{item.key}" if item.key else "")
    return {
        "code": item.code,
        "status": status,
        "article_id": item.article_id,
        "article_title": item.article_title,
        "key": item.key,
        "source": item.source,
        "where": where,
        "message": message,
        "editor_url": editor_url,
    }


@bp.get("/glossary/<lang_tag>")
@signed_in
def glossary(lang_tag: str) -> str:
    """Every reviewer of the language may read its glossary; admins edit it."""
    language = language_for(lang_tag)
    return render_template(
        "review/glossary.html",
        **context(
            language=language,
            terms=store().glossary.terms(SOURCE_LANGUAGE, language.tag),
            editable=g.reviewer.role is Role.ADMIN,
        ),
    )


@bp.post("/glossary/<lang_tag>")
@signed_in
def glossary_change(lang_tag: str) -> Response:
    """Adds, edits or deletes a glossary term from the admin form."""
    language = admin_language(lang_tag)
    st = store()
    form = request.form
    keep = form.get("do_not_translate") == "on"
    try:
        if form.get("action") == "delete":
            st.glossary.delete(ascii_int(form.get("id")) or 0, utcnow())
        elif form.get("id"):
            update_term(
                st,
                ascii_int(form["id"]) or 0,
                form.get("source_term", ""),
                form.get("target_term", ""),
                keep,
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
    """The language named in the URL, for admin-only views: 403 for anyone else."""
    if g.reviewer.role is not Role.ADMIN:
        abort(403)
    return language_for(tag)


def person(actor: str) -> str:
    """The person's name in a history actor ("token:2 Wang Fang", "Wang Fang (token 2)")."""
    if actor.startswith("token:"):
        return actor.partition(" ")[2] or actor
    return actor.rsplit(" (token ", 1)[0]


def actor() -> str:
    """How the signed-in reviewer is named in segment history, token id included."""
    return f"{g.reviewer.name} (token {g.reviewer.id})"


# -- the queue's pages, section names, the UI language, a localized 403 -------------

QUEUE_PAGE = 50  # articles on one page of the queue
QUEUE_STATUSES = ("todo", "done", "all", "changed", "errors")
QUEUE_ORDERS = ("oldest", "confidence", "changed")
ERRORS_CHUNK = 200  # articles checked at a time when the queue shows only QA errors
ERRORS_SCAN_LIMIT = 5_000  # … and at most this many per request


@dataclass(frozen=True)
class QueuePage:
    """One page of the review queue, with what the pager and filter counts need."""

    items: list[QueueItem]
    more: bool  # a next page exists
    totals: dict[str, int] | None  # over every page; None when not all were looked at
    scan_limited: bool = False  # the errors filter stopped before the end of the queue


@dataclass(frozen=True)
class QueueView:
    """The queue page's filters, order and page number, as its query string chose them."""

    section: str | None
    search: str
    status: str  # one of QUEUE_STATUSES
    order: str  # one of QUEUE_ORDERS
    page: int

    @classmethod
    def read(cls, args: MultiDict[str, str]) -> QueueView:
        """The choices in ``args``; an unknown status, order or page reads as the default."""
        status = args.get("status", "todo")
        order = args.get("sort", "oldest")
        return cls(
            section=args.get("section") or None,
            search=args.get("q", "").strip()[:200],
            status=status if status in QUEUE_STATUSES else "todo",
            order=order if order in QUEUE_ORDERS else "oldest",
            page=min(ascii_int(args.get("page", "1")) or 1, 100_000),
        )

    def where(self, lang: str) -> QueueFilter:
        """The store's filter; "errors" is no SQL status: it reads all, QA checks them."""
        status = "all" if self.status == "errors" else self.status
        return QueueFilter(lang, self.section, self.search, status)


def queue_page(st: Store, language: Language, chosen: QueueView) -> QueuePage:
    """One page of a language's review queue; the errors filter scans the QA results."""
    start = (chosen.page - 1) * QUEUE_PAGE
    where = chosen.where(language.tag)
    if chosen.status != "errors":
        items = st.segments.review_queue(
            where, order=chosen.order, offset=start, limit=QUEUE_PAGE + 1
        )
        totals: dict[str, int] | None = st.segments.review_queue_totals(where)
        return QueuePage(
            with_flags(st, language, items[:QUEUE_PAGE]), len(items) > QUEUE_PAGE, totals
        )
    # QA runs in Python: the queue is read a chunk at a time, in the page's order, until
    # this page and one more article with errors are found (or the scan limit is reached).
    found: list[QueueItem] = []
    offset, ended = 0, False
    while len(found) <= start + QUEUE_PAGE and offset < ERRORS_SCAN_LIMIT:
        chunk = st.segments.review_queue(
            where, order=chosen.order, offset=offset, limit=ERRORS_CHUNK
        )
        found += [item for item in with_flags(st, language, chunk) if item.errors]
        offset += ERRORS_CHUNK
        if len(chunk) < ERRORS_CHUNK:
            ended = True
            break
    totals = None
    if ended:
        totals = {
            "articles": len(found),
            "segments": sum(i.total for i in found),
            "approved": sum(i.approved for i in found),
            "words": sum(i.words for i in found),
            "words_to_review": sum(i.words_to_review for i in found),
        }
    return QueuePage(
        found[start : start + QUEUE_PAGE],
        len(found) > start + QUEUE_PAGE,
        totals,
        scan_limited=not ended and len(found) <= start + QUEUE_PAGE,
    )


def with_flags(st: Store, language: Language, items: list[QueueItem]) -> list[QueueItem]:
    """The items with their QA errors and waiting jobs: three queries for all of them."""
    if not items:
        return []
    ids = [item.article_id for item in items]
    terms = terms_of(st, language.tag)
    segments = st.segments.of_articles(ids, language.tag)
    waiting = st.segments.latest_waiting(ids, language.tag)
    return [
        replace(
            item,
            errors=sum(1 for s in segments[item.article_id] if blocks(s, terms, language.tag)),
            waiting=waiting.get(item.article_id),
        )
        for item in items
    ]


def blocks(segment: StoredSegment, terms: list[qa.Term], lang: str) -> bool:
    """Whether the segment's current text has an error-severity QA issue."""
    if segment.target is None:
        return False
    return any(i.severity == "error" for i in issues(segment, segment.target, terms, lang))


def section_labels(sections: list[Section]) -> dict[str, str]:
    """Section path → its name in the UI language (else English, else its slug), under
    its parents' names: "News › Business"."""
    tag = i18n.bcp47(str(get_locale() or SOURCE_LANGUAGE))
    labels: dict[str, str] = {}
    for section in sections:  # by path: parents before their children
        names = section.names
        name = names.get(tag) or names.get(SOURCE_LANGUAGE) or section.slug
        parent = labels.get(section.parent_path or "")
        labels[section.path] = f"{parent} › {name}" if parent else name
    return labels


def local_review_path(target: str | None) -> str | None:
    """``target`` when it is a path of the review screens on this site, else None: a
    redirect never leaves for another site."""
    if not target or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # "//[" is an invalid IPv6 host to urlsplit
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/review/"):
        return None
    return target


@bp.post("/ui-language")
def choose_ui_language() -> Response:
    """The language switcher: the review screens speak the chosen UI language, whatever
    the browser's Accept-Language says; back to the page it was used on."""
    chosen = request.form.get("ui_language", "")
    if chosen in i18n.ui_languages():
        session[i18n.UI_LANGUAGE_KEY] = chosen
    back = local_review_path(request.form.get("next")) or url_for("review.sign_in")
    return redirect(back, 303)


@bp.app_template_global()
def ui_language_choices() -> list[tuple[str, str]]:
    """(tag, its name in itself) of each UI language there is a catalog for."""
    return [(tag, language_name(tag, tag)) for tag in i18n.ui_languages()]


@bp.errorhandler(403)
def forbidden(exc: HTTPException) -> tuple[str, int] | Response:
    """A localized page, with the reviewer's own languages to go to."""
    if wants_json():
        return problem(403, _("Your token does not give access to this page."))
    reviewer = g.get("reviewer")
    values = context() if reviewer is not None else {"reviewer": None, "languages": []}
    return render_template("review/forbidden.html", **values), 403


def http_error_detail(exc: HTTPException) -> str:
    """What went wrong, in the reviewer's language: the screens never show Werkzeug's
    English pages."""
    if isinstance(exc, CSRFError):
        return _("The page has expired. Reload it; copy your unsaved text first.")
    details = {
        400: _("The request could not be understood."),
        404: _("This page or segment does not exist (any more)."),
        405: _("This address does not accept that request."),
        410: _("This article was deleted."),
        413: _("The text is too long to be saved."),
        422: _("A field holds characters that are not text (control characters)."),
        429: _("Too many requests. Wait a moment and try again."),
        428: _("The form lacks the segment's version; reload the page."),
    }
    return details.get(exc.code or 400, _("The request failed."))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[str, int] | Response:
    """Errors of the review screens: problem+json for review.js, a localized page else."""
    status = exc.code or 500
    if wants_json():
        return problem(status, http_error_detail(exc))
    reviewer = g.get("reviewer")
    values = context() if reviewer is not None else {"reviewer": None, "languages": []}
    return render_template(
        "review/error.html", status=status, detail=http_error_detail(exc), **values
    ), status
