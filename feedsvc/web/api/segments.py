"""Segments: a translation's sentences for review, each with its etag and QA issues;
translators and admins edit, approve, reject or set a warning aside, one at a time."""

from __future__ import annotations

from dataclasses import replace

from flask import Response, request
from werkzeug.http import quote_etag

from ... import qa
from ...domain import FieldError, Invalid, Role, StoredSegment
from ...jobs import jobs
from ...review import issues, live_article, segment_etag, terms_of
from ...schemas import SegmentIssue, SegmentList, SegmentPatch, SegmentReview
from ..openapi import Reply, operation
from ..problems import ApiError
from ..scope import current_store
from .common import (
    ARTICLE_ID,
    IF_MATCH,
    body,
    bp,
    commit,
    out,
    requires,
    respond,
    reviewer,
    target_language,
)

SEGMENTS = f"/articles/{ARTICLE_ID}/translations/<lang_tag>/segments"


def segment_review(segment: StoredSegment, lang: str, terms: list[qa.Term]) -> SegmentReview:
    """A segment with its etag and the QA issues of its current text."""
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


@bp.get(SEGMENTS)
@requires(*Role)
@operation(Reply(200, "OK", SegmentList), errors=[404, 410])
def list_segments(article_id: int, lang_tag: str) -> Response:
    """The segments of a translation for review, each with its etag and QA issues."""
    language = target_language(lang_tag)
    st = current_store()
    live_article(st, article_id)
    terms = terms_of(st, language.tag)
    items = [
        segment_review(s, language.tag, terms) for s in st.segments.of(article_id, language.tag)
    ]
    return respond(SegmentList(items=items))


@bp.patch(f"{SEGMENTS}/<key>")
@requires(Role.ADMIN, Role.TRANSLATOR)
@operation(
    Reply(200, "OK", SegmentReview, headers={"ETag": "The segment's new etag"}),
    errors=[404, 410, 412, 428],
    body=SegmentPatch,
    parameters=[replace(IF_MATCH, description="The segment's etag from the last GET")],
)
def patch_segment(article_id: int, lang_tag: str, key: str) -> Response:
    """Review a segment: new text, approve, back to the model, or dismiss a warning."""
    language = target_language(lang_tag)
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
    terms = terms_of(current_store(), language.tag)
    response = respond(segment_review(segment, language.tag, terms))
    response.headers["ETag"] = quote_etag(segment_etag(segment))
    return response
