"""Exchange files: segments out as PO or XLIFF 2.0 for a translator's own tools, and the
translated file back in, entry by entry with a report."""

from __future__ import annotations

from flask import Response, request, url_for

from ...domain import FieldError, Invalid, Role
from ...review import export_page, read_exchange_file
from ...schemas import ImportItemOut, ImportRejection, ImportResult
from ..openapi import Reply, operation, query
from ..params import ascii_int
from ..scope import current_store
from .common import (
    ID_SCHEMA,
    bp,
    commit,
    flag_parameter,
    out,
    requires,
    respond,
    reviewer,
    target_language,
)

PO = "text/x-po"
XLIFF = "application/xliff+xml"
EXCHANGE_FILE = {
    media: {"schema": {"type": "string", "description": description}}
    for media, description in ((PO, "A gettext PO file"), (XLIFF, "An XLIFF 2.0 file"))
}


def article_parameter(name: str) -> int | None:
    """An optional article id in the query string: 422 unless ASCII digits."""
    raw = request.args.get(name)
    number = ascii_int(raw)
    if raw is not None and number is None:
        raise Invalid([FieldError(None, "must be an article id (ASCII digits)", name)])
    return number


@bp.post("/exchange/<lang_tag>")
@requires(Role.ADMIN, Role.TRANSLATOR)
@operation(
    Reply(200, "OK", ImportResult),
    errors=[404],
    content=EXCHANGE_FILE,
    parameters=[
        query(
            "overwrite",
            {"type": "string", "enum": ["true", "false"]},
            "Let the file win over approved or since-changed segments",
        )
    ],
)
def import_exchange(lang_tag: str) -> Response:
    """Import a translated PO or XLIFF 2.0 file (by media type, else by content)."""
    language = target_language(lang_tag)
    errors: list[FieldError] = []
    overwrite = flag_parameter("overwrite", errors)
    if errors:
        raise Invalid(errors)
    entries = read_exchange_file(request.get_data(), request.mimetype)
    report = reviewer(language).apply(entries, overwrite=overwrite)
    commit()
    return respond(
        out(
            ImportResult,
            report,
            rejected=[ImportRejection(location=loc, reason=why) for loc, why in report.rejected],
            conflicts=len(report.conflicts),
            overwrite=overwrite,
            items=[out(ImportItemOut, item, reason=item.reason or None) for item in report.items],
        )
    )


@bp.get("/exchange/<lang_tag>/export.<any(po, xlf):fmt>")
@requires(*Role)
@operation(
    Reply(
        200,
        "OK",
        content={media: {"schema": {"type": "string"}} for media in (PO, XLIFF)},
        headers={
            "Content-Disposition": "attachment; filename=feedsvc-<lang>.<fmt>",
            "Link": 'rel="next" while more segments remain',
        },
    ),
    errors=[400, 404, 410],
    parameters=[
        query("article", ID_SCHEMA, "Only this article, approved segments included"),
        query(
            "after",
            ID_SCHEMA,
            "The next page: the article id of the previous page's Link rel=next",
        ),
    ],
)
def export_exchange(lang_tag: str, fmt: str) -> Response:
    """Export segments for translation: one article, or a page of a language's
    unapproved segments."""
    language = target_language(lang_tag)
    article = article_parameter("article")
    after = article_parameter("after")
    # A whole language comes in pages of FEEDSVC_EXPORT_MAX_SEGMENTS segments (whole
    # articles); Link rel="next" names the next page while more remain.
    page = export_page(current_store(), language.tag, article, fmt, after or 0)
    response = Response(page.data, mimetype=page.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="feedsvc-{language.tag}.{fmt}"'
    if page.next_after is not None:
        following = url_for(
            "api.export_exchange", lang_tag=language.tag, fmt=fmt, after=page.next_after
        )
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response
