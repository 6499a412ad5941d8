"""Translators' work on segments: edit, approve, reject, import; memory and publishing follow.

Every change is recorded in the segment's history, approved text enters the translation
memory, and the variant is rebuilt so feeds show the new text and provenance at once."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import qa
from .articles import Clock, utcnow
from .config import SOURCE_LANGUAGE
from .domain import (
    FieldError,
    Invalid,
    NotFound,
    PreconditionFailed,
    SegmentOrigin,
    SegmentState,
    SegmentStatus,
)
from .exchange import (
    Entry,
    ExchangeError,
    Unit,
    export_po,
    export_xliff,
    parse_po,
    parse_xliff,
)
from .store import Store
from .translation import normalized, publish_variant, source_hash


def segment_etag(segment: SegmentState) -> str:
    """Changes whenever the segment's target or status does."""
    return f"segment-{segment.id}-{int(segment.updated_at.timestamp() * 1_000_000)}"


def terms_of(store: Store, lang: str) -> list[qa.Term]:
    return [
        qa.Term(t.source_term, t.target_term, t.do_not_translate)
        for t in store.glossary(SOURCE_LANGUAGE, lang)
    ]


def issues(
    segment: SegmentState, target: str, terms: Sequence[qa.Term], lang: str
) -> list[qa.Issue]:
    return qa.check(segment.source, target, segment.placeholders, terms, SOURCE_LANGUAGE, lang)


@dataclass(frozen=True)
class Suggestion:
    source: str
    target: str
    match: int  # percent


def suggestions(store: Store, segment: SegmentState, lang: str, limit: int = 3) -> list[Suggestion]:
    """Translation memory entries whose source resembles this one, best first."""
    wanted = normalized(segment.source)
    scored = []
    for source, target in store.memory_candidates(SOURCE_LANGUAGE, lang, len(wanted)):
        ratio = difflib.SequenceMatcher(None, wanted, normalized(source)).ratio()
        if ratio >= 0.6:
            scored.append(Suggestion(source, target, round(ratio * 100)))
    return sorted(scored, key=lambda s: -s.match)[:limit]


@dataclass
class ImportReport:
    applied: list[str] = field(default_factory=list)  # locations
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (location, reason)


class Reviewer:
    def __init__(self, store: Store, lang: str, actor: str, clock: Clock = utcnow) -> None:
        self.store = store
        self.lang = lang
        self.actor = actor
        self.clock = clock

    def _segment(self, article_id: int, key: str, if_match: str | None) -> SegmentState:
        segment = self.store.segment(article_id, self.lang, key)
        if if_match is not None and if_match not in ("*", segment_etag(segment)):
            raise PreconditionFailed(f"segment {key} changed since you loaded it; reload it")
        return segment

    def save(
        self,
        article_id: int,
        key: str,
        target: str,
        approve: bool,
        if_match: str | None = None,
        action: str = "edit",
    ) -> SegmentState:
        """A translator's text for one segment; refused when it would break the markup."""
        segment = self._segment(article_id, key, if_match)
        target = target.strip()
        blocking = [
            i
            for i in issues(segment, target, terms_of(self.store, self.lang), self.lang)
            if i.severity == "error"
        ]
        if blocking:
            raise Invalid([FieldError("/target", qa.message(issue)) for issue in blocking])
        origin = segment.origin if target == segment.target else SegmentOrigin.HUMAN
        status = SegmentStatus.APPROVED if approve else SegmentStatus.TRANSLATED
        return self._change(segment, target, status, origin, action)

    def approve(self, article_id: int, key: str, if_match: str | None = None) -> SegmentState:
        segment = self._segment(article_id, key, if_match)
        if segment.target is None:
            raise Invalid([FieldError("/target", "there is no text to approve yet")])
        return self.save(article_id, key, segment.target, True, action="approve")

    def reject(self, article_id: int, key: str, if_match: str | None = None) -> SegmentState:
        """Back to the model's text (or to pending, if the model never made one)."""
        segment = self._segment(article_id, key, if_match)
        if segment.machine_target is None:
            return self._change(segment, None, SegmentStatus.PENDING, None, "reject")
        return self._change(
            segment, segment.machine_target, SegmentStatus.TRANSLATED, SegmentOrigin.MODEL, "reject"
        )

    def approve_unchanged(self, article_id: int) -> int:
        """Approve every segment still carrying the machine's or memory's proposal."""
        approved = 0
        for segment in self.store.segments(article_id, self.lang):
            if (
                segment.status is SegmentStatus.TRANSLATED
                and segment.target is not None
                and segment.origin is not SegmentOrigin.HUMAN
            ):
                self._change(
                    segment,
                    segment.target,
                    SegmentStatus.APPROVED,
                    segment.origin,
                    "approve",
                    publish=False,
                )
                approved += 1
        self._publish(article_id)
        return approved

    def _change(
        self,
        segment: SegmentState,
        target: str | None,
        status: SegmentStatus,
        origin: SegmentOrigin | None,
        action: str,
        publish: bool = True,
    ) -> SegmentState:
        now = self.clock()
        changed = self.store.change_segment(
            segment.article_id,
            self.lang,
            segment.key,
            target,
            status,
            origin,
            self.actor,
            action,
            now,
        )
        if status is SegmentStatus.APPROVED and target:
            self.store.remember(
                SOURCE_LANGUAGE, self.lang, source_hash(segment.source), segment.source, target, now
            )
        if publish:
            self._publish(segment.article_id)
        return changed

    def _publish(self, article_id: int) -> None:
        publish_variant(self.store, self.store.article(article_id), self.lang, self.clock())

    def apply(self, entries: Sequence[Entry]) -> ImportReport:
        """Apply a CAT tool's file entry by entry; each is checked and reported on its own."""
        report = ImportReport()
        touched: set[int] = set()
        terms = terms_of(self.store, self.lang)
        for entry in entries:
            reason = None
            segment = None
            if entry.article_id is None or entry.key is None:
                reason = "not a feedsvc segment (unknown id)"
            else:
                try:
                    segment = self.store.segment(entry.article_id, self.lang, entry.key)
                except NotFound:
                    reason = "unknown segment (the article changed or was deleted)"
            if segment is not None and normalized(entry.source) != normalized(segment.source):
                reason = "the English source changed since the export; export it again"
            if segment is not None and reason is None and not entry.target.strip():
                report.unchanged.append(entry.location)
                continue
            if segment is not None and reason is None:
                broken = [
                    i
                    for i in issues(segment, entry.target, terms, self.lang)
                    if i.severity == "error"
                ]
                if broken:
                    reason = "; ".join(qa.message(i) for i in broken)
            if reason is not None or segment is None:
                report.rejected.append((entry.location, reason or "unknown segment"))
                continue
            status = SegmentStatus.APPROVED if entry.approved else SegmentStatus.TRANSLATED
            if entry.target.strip() == (segment.target or "") and status is segment.status:
                report.unchanged.append(entry.location)
                continue
            origin = (
                segment.origin if entry.target.strip() == segment.target else SegmentOrigin.HUMAN
            )
            self._change(segment, entry.target.strip(), status, origin, "import", publish=False)
            touched.add(segment.article_id)
            report.applied.append(entry.location)
        for article_id in sorted(touched):
            self._publish(article_id)
        return report


def pending_units(store: Store, lang: str, article_id: int | None) -> list[Unit]:
    """Segments to hand to a CAT tool: one article's, or every unapproved one of a language."""
    if article_id is not None:
        store.article(article_id)
        ids = [article_id]
    else:
        ids = [item.article_id for item in store.review_queue(lang) if item.approved < item.total]
    units = []
    for current in ids:
        article = store.article(current)
        for segment in store.segments(current, lang):
            if article_id is None and segment.status is SegmentStatus.APPROVED:
                continue
            units.append(
                Unit(
                    current,
                    segment.key,
                    segment.source,
                    segment.target,
                    segment.status is SegmentStatus.APPROVED,
                    dict(segment.placeholders),
                    note=article.title,
                )
            )
    return units


def export_file(store: Store, lang: str, article_id: int | None, fmt: str) -> tuple[bytes, str]:
    units = pending_units(store, lang, article_id)
    if fmt == "po":
        return export_po(units, SOURCE_LANGUAGE, lang), "text/x-po"
    return export_xliff(units, SOURCE_LANGUAGE, lang), "application/xliff+xml"


def read_exchange_file(data: bytes, media_type: str) -> list[Entry]:
    """PO or XLIFF, by media type or, failing that, by content; Invalid when unreadable."""
    looks_like_xml = data.lstrip()[:1] == b"<"
    try:
        if media_type in ("application/xliff+xml", "application/xml", "text/xml") or (
            media_type not in ("text/x-po", "text/x-gettext-translation") and looks_like_xml
        ):
            return parse_xliff(data)
        return parse_po(data)
    except ExchangeError as exc:
        raise Invalid([FieldError("/", f"not a readable PO or XLIFF 2.0 file: {exc}")]) from exc
