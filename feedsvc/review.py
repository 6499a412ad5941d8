"""Translators' work on segments: edit, approve, reject, import; memory and publishing follow.

Every change is recorded in the segment's history, approved text enters the translation
memory, and the variant is rebuilt so feeds show the new text and provenance at once. A
change in a language others are derived from (zh-Hans for zh-Hant) reaches their matching
segment in the same transaction (feedsvc.derived), and their variants are rebuilt too."""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import derived, qa
from .articles import Clock, utcnow
from .config import SOURCE_LANGUAGE, Language
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
from .store.memory import length_window, normalized, source_hash
from .translation import publish_variant


def segment_etag(segment: SegmentState) -> str:
    """Changes with every stored write of the segment (its version)."""
    return f"segment-{segment.id}-v{segment.version}"


def terms_of(store: Store, lang: str) -> list[qa.Term]:
    return [
        qa.Term(t.source_term, t.target_term, t.do_not_translate)
        for t in store.glossary.terms(SOURCE_LANGUAGE, lang)
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


SUGGESTION_RATIO = 0.6  # the least resemblance worth showing
SUGGESTION_CANDIDATES = 500  # memory entries fetched for a page, however long the article
# Full difflib comparisons per segment, most promising candidates first: ratio() is what
# costs (~0.3 ms for a sentence), and an unmatched sentence would otherwise be compared
# with every candidate (English letter counts are too alike for quick_ratio to rule
# many out).
SUGGESTION_COMPARISONS = 20


def suggestions_for(
    store: Store, segments: Sequence[SegmentState], lang: str, limit: int = 3
) -> dict[int, list[Suggestion]]:
    """Suggestions for many segments (by segment id) from one memory query: a page costs
    one query, at most ``SUGGESTION_CANDIDATES`` candidates and at most
    ``SUGGESTION_COMPARISONS`` full comparisons per segment, whatever its length."""
    wanted = {segment.id: normalized(segment.source) for segment in segments}
    if not wanted:
        return {}
    found = store.memory.candidates_for(
        SOURCE_LANGUAGE, lang, {len(text) for text in wanted.values()}, SUGGESTION_CANDIDATES
    )
    candidates = [_Candidate(order, source, target) for order, (source, target) in enumerate(found)]
    best = {text: _best_matches(text, candidates, limit) for text in set(wanted.values())}
    return {segment_id: best[text] for segment_id, text in wanted.items()}


def _trigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 3] for i in range(len(text) - 2))


class _Candidate:
    """A memory entry (``order``: newest first), with what depends on it alone computed
    once for all the segments of a page: its trigrams and its matcher's index."""

    def __init__(self, order: int, source: str, target: str) -> None:
        self.order = order
        self.source = source
        self.target = target
        self.text = normalized(source)
        self.trigrams = _trigrams(self.text)
        self._matcher: difflib.SequenceMatcher[str] | None = None

    def shared(self, trigrams: frozenset[str]) -> float:
        """How much of its text it shares with a segment's: cheap, and a good predictor
        of difflib's ratio, so it decides which candidates get compared first."""
        total = len(trigrams) + len(self.trigrams)
        return 2 * len(trigrams & self.trigrams) / total if total else 0.0

    def matcher(self, wanted: str) -> difflib.SequenceMatcher[str]:
        """Compares ``wanted`` (a) with this source (b): difflib indexes b once, in
        ``set_seq2``, and keeps that index while a changes."""
        if self._matcher is None:
            self._matcher = difflib.SequenceMatcher(None, "", self.text)
        self._matcher.set_seq1(wanted)
        return self._matcher


def _best_matches(wanted: str, candidates: Sequence[_Candidate], limit: int) -> list[Suggestion]:
    """The ``limit`` best candidates whose ratio is at least ``SUGGESTION_RATIO``, best
    first, newer first among equal matches. Candidates of a length within the window are
    tried by shared trigrams; real_quick_ratio and quick_ratio, upper bounds of ratio,
    skip one that cannot reach the threshold or, once ``limit`` are kept, beat the worst
    kept; ratio() runs at most ``SUGGESTION_COMPARISONS`` times."""
    if limit <= 0:
        return []
    low, high = length_window(len(wanted))
    grams = _trigrams(wanted)
    tried = sorted(
        (c for c in candidates if low <= len(c.source) <= high),
        key=lambda c: (-c.shared(grams), c.order),
    )
    kept: list[tuple[Suggestion, int]] = []
    worst: list[int] = []  # min-heap of the kept matches (percent), at most ``limit``
    compared = 0
    for candidate in tried:
        if compared == SUGGESTION_COMPARISONS:
            break
        matcher = candidate.matcher(wanted)
        if matcher.real_quick_ratio() < SUGGESTION_RATIO:
            continue
        bound = matcher.quick_ratio()
        if bound < SUGGESTION_RATIO or (len(worst) == limit and round(bound * 100) < worst[0]):
            continue
        compared += 1
        ratio = matcher.ratio()
        if ratio < SUGGESTION_RATIO:
            continue
        match = round(ratio * 100)
        kept.append((Suggestion(candidate.source, candidate.target, match), candidate.order))
        heapq.heappush(worst, match)
        if len(worst) > limit:
            heapq.heappop(worst)
    kept.sort(key=lambda item: (-item[0].match, item[1]))
    return [suggestion for suggestion, _ in kept[:limit]]


@dataclass
class ImportReport:
    applied: list[str] = field(default_factory=list)  # locations
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (location, reason)


class Reviewer:
    def __init__(self, store: Store, language: Language, actor: str, clock: Clock = utcnow) -> None:
        self.store = store
        self.language = language
        self.lang = language.tag
        self.shown = language.shown
        self.actor = actor
        self.clock = clock
        self.queued: list[int] = []  # jobs to dispatch once the caller has committed
        self.derived: set[int] = set()  # articles whose derived segments changed

    def _segment(self, article_id: int, key: str, if_match: str | None) -> SegmentState:
        segment = self.store.segments.get(article_id, self.lang, key)
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
        return self._save(self._segment(article_id, key, if_match), target, approve, action)

    def approve(self, article_id: int, key: str, if_match: str | None = None) -> SegmentState:
        segment = self._segment(article_id, key, if_match)
        if segment.target is None:
            raise Invalid([FieldError("/target", "there is no text to approve yet")])
        return self._save(segment, segment.target, True, "approve")

    def reject(self, article_id: int, key: str, if_match: str | None = None) -> SegmentState:
        """Back to the model's text, or, when the rejected text is the model's or no model
        text exists (a memory hit), to pending. Either way the variant follows at once (a
        language under review leaves the feeds) and a job runs the article again."""
        segment = self._segment(article_id, key, if_match)
        if segment.target:
            # A rejected text must not come back from the memory, here or elsewhere.
            self.store.memory.forget(
                SOURCE_LANGUAGE, self.lang, source_hash(segment.source), segment.target
            )
        if segment.machine_target is None or segment.target == segment.machine_target:
            changed = self._change(segment, None, SegmentStatus.PENDING, None, "reject")
        else:
            changed = self._change(
                segment,
                segment.machine_target,
                SegmentStatus.TRANSLATED,
                SegmentOrigin.MODEL,
                "reject",
            )
        article = self.store.articles.get(article_id)
        job_id = self.store.jobs.requeue(article.id, self.lang, article.revision, self.clock())
        if job_id is not None:
            self.queued.append(job_id)
        return changed

    def _save(self, segment: SegmentState, target: str, approve: bool, action: str) -> SegmentState:
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

    def approve_unchanged(self, article_id: int) -> int:
        """Approve every segment still carrying the machine's or memory's proposal."""
        approved = 0
        for segment in self.store.segments.of(article_id, self.lang):
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
        changed = self.store.segments.change(
            segment, target, status, origin, self.actor, action, now
        )
        if status is SegmentStatus.APPROVED and target:
            self.store.memory.remember(
                SOURCE_LANGUAGE, self.lang, source_hash(segment.source), segment.source, target, now
            )
        for language in self.language.derivatives:
            followed = derived.follow(
                self.store, language, segment, changed, self.actor, now, action == "reject"
            )
            if followed.wrote:
                self.derived.add(segment.article_id)
        if publish:
            self._publish(segment.article_id)
        return changed

    def _publish(self, article_id: int) -> None:
        now = self.clock()
        publish_variant(self.store, article_id, self.lang, now, self.shown)
        if article_id in self.derived:
            self.derived.discard(article_id)
            for language in self.language.derivatives:
                publish_variant(self.store, article_id, language.tag, now, language.shown)
                if job_id := derived.wake_finished_job(self.store, article_id, language, now):
                    self.queued.append(job_id)

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
                    segment = self.store.segments.get(entry.article_id, self.lang, entry.key)
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
    """Segments to hand to a CAT tool: one article's, or every unapproved one of a language.
    A few queries in all (queue, articles, segments), however many articles there are."""
    if article_id is not None:
        store.articles.get(article_id)
        ids = [article_id]
    else:
        ids = [
            item.article_id
            for item in store.segments.review_queue(lang)
            if item.approved < item.total
        ]
    if not ids:
        return []
    articles = store.articles.many(ids)
    segments = store.segments.of_articles(ids, lang)
    units = []
    for current in ids:
        article = articles.get(current)
        if article is None:  # deleted for good between the queue and now
            continue
        for segment in segments[current]:
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
