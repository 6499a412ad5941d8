"""Translations: an article's variant in one language with its job and segments, for any
token (a translator's only in the languages it covers)."""

from __future__ import annotations

from flask import Response

from ...config import Language
from ...domain import Role, SegmentStatus
from ...feeds.data import publishable
from ...review import live_article
from ...schemas import JobOut, SegmentOut, TranslationOut
from ..openapi import Reply, operation
from ..scope import current_store
from .common import ARTICLE_ID, bp, out, requires, respond, target_language


def translation_out(article_id: int, language: Language) -> TranslationOut:
    """The state of one translation as the API shows it: variant, latest job, segments."""
    st = current_store()
    article = live_article(st, article_id)
    variant = st.variants.get(article_id, language.tag)
    job = st.jobs.latest(article_id, language.tag)
    segments = st.segments.of(article_id, language.tag)
    counts = {status.value: 0 for status in SegmentStatus}
    for segment in segments:
        counts[segment.status.value] += 1
    return TranslationOut(
        article_id=article.id,
        lang=language.tag,
        policy=language.policy.value,
        published=variant is not None and variant.status in publishable(language),
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


@bp.get(f"/articles/{ARTICLE_ID}/translations/<lang_tag>")
@requires(*Role)
@operation(Reply(200, "OK", TranslationOut), errors=[404, 410])
def get_translation(article_id: int, lang_tag: str) -> Response:
    """A translation: status, job, and every segment with its origin."""
    return respond(translation_out(article_id, target_language(lang_tag)))
