"""Translators' work on segments: edit, approve, reject, import; memory and publishing follow.

Every change is recorded in the segment's history, approved text enters the translation
memory, and the variant is rebuilt so feeds show the new text and provenance at once. A
change in a language others are derived from (zh-Hans for zh-Hant) reaches their matching
segment in the same transaction (feedsvc.derived), and their variants are rebuilt too."""

from __future__ import annotations

import difflib
import heapq
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from . import derived, qa
from .articles import Clock, utcnow
from .config import SOURCE_LANGUAGE, Language
from .domain import (
    Article,
    FieldError,
    Gone,
    Invalid,
    NotFound,
    PreconditionFailed,
    SegmentOrigin,
    SegmentStatus,
    StoredSegment,
)
from .exchange import (
    ExchangeError,
    ImportedUnit,
    Unit,
    export_po,
    export_xliff,
    parse_po,
    parse_xliff,
)
from .placeholders import normalize_tokens
from .sanitize import clean_html, clean_text
from .segments import reassemble, render_text
from .store import QueueFilter, Store
from .store.memory import length_window, normalized, source_hash
from .translation import cut, publish_variant
from .typography import punctuate


def typed_text(text: str) -> str:
    """A translator's text as stored: placeholders typed with an IME in their canonical
    spelling, line ends as "\n" (a browser's form sends "\r\n"), no outer whitespace."""
    return normalize_tokens(text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def live_article(store: Store, article_id: int) -> Article:
    """The article, unless deleted: its text is then only for editors (Gone)."""
    article = store.articles.get(article_id)
    if article.deleted_at is not None:
        raise Gone(f"article {article_id} was deleted")
    return article


def segment_etag(segment: StoredSegment) -> str:
    """Changes with every stored write of the segment (its version)."""
    return f"segment-{segment.id}-v{segment.version}"


def terms_of(store: Store, lang: str) -> list[qa.Term]:
    """The language's glossary in the form QA checks against."""
    return [
        qa.Term(t.source_term, t.target_term, t.do_not_translate)
        for t in store.glossary.terms(SOURCE_LANGUAGE, lang)
    ]


def issues(
    segment: StoredSegment, target: str, terms: Sequence[qa.Term], lang: str
) -> list[qa.Issue]:
    """QA issues of a target for a stored segment, in its language."""
    return qa.check(segment.source, target, segment.placeholders, terms, SOURCE_LANGUAGE, lang)


@dataclass(frozen=True)
class Suggestion:
    """A translation the editor offers beside a segment, with how well it matches."""

    source: str
    target: str
    match: int  # percent
    kind: str = "memory"  # "previous": set aside by a source change; "machine": the model's


_WORDS = re.compile(r"\s+|[^\w\s]|\w+")


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Word-level changes from ``before`` to ``after`` as (op, text), op "same", "del" or
    "ins": what a translator reads to see how an English sentence changed."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    parts: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(("del", "".join(old[i1:i2])))
        if j2 > j1:
            parts.append(("ins", "".join(new[j1:j2])))
    return parts


def match_percent(before: str, after: str) -> int:
    """How alike two sentences are, in percent, as CAT tools show matches."""
    return round(100 * difflib.SequenceMatcher(None, normalized(before), normalized(after)).ratio())


SUGGESTION_RATIO = 0.6  # the least resemblance worth showing
SUGGESTION_CANDIDATES = 500  # memory entries fetched for a page, however long the article
# Full difflib comparisons per segment, most promising candidates first: ratio() is what
# costs (~0.3 ms for a sentence), and an unmatched sentence would otherwise be compared
# with every candidate (English letter counts are too alike for quick_ratio to rule
# many out).
SUGGESTION_COMPARISONS = 20


def suggestions_for(
    store: Store, segments: Sequence[StoredSegment], lang: str, limit: int = 3
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
    best = {text: _best_matches(text, candidates, limit + 1) for text in set(wanted.values())}
    found_for: dict[int, list[Suggestion]] = {}
    for segment in segments:
        # The segment's own approved text is no suggestion for it; a translation set aside
        # by a source change comes first.
        own = [
            s
            for s in best[wanted[segment.id]]
            if not (s.target == segment.target and normalized(s.source) == wanted[segment.id])
        ]
        if segment.previous_source is not None and segment.previous_target:
            previous = Suggestion(
                segment.previous_source,
                segment.previous_target,
                match_percent(segment.previous_source, segment.source),
                "previous",
            )
            own = [previous, *(s for s in own if s.target != previous.target)]
        found_for[segment.id] = own[:limit]
    return found_for


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


IMPORT_CODES = ("applied", "unchanged", "conflict", "source_changed", "unknown", "qa")
NOT_APPLIED = frozenset({"conflict", "source_changed", "unknown", "qa"})


@dataclass(frozen=True)
class ImportItem:
    """What became of one entry of an imported file, for a report naming article, segment
    and English source (the web view localizes ``code`` and ``params``; ``reason`` is the
    English sentence, for the API and logs).

    ``params`` by code: applied {"status"}; conflict {"why": "approved" | "newer" |
    "unversioned", "revision", "version", "current", "current_status", "file"};
    source_changed {"file_source"}; unknown {"why": "no_id" | "not_found"};
    qa {"issues": [{"code", "params"}]}."""

    code: str
    location: str  # "line 42" / "unit body.0.1 in file article-12", as the file has it
    article_id: int | None
    article_title: str | None
    key: str | None
    source: str  # the English source: the stored segment's when known, else the file's
    line: int | None = None
    params: dict[str, object] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """Why an item was not applied, in words a translator can act on."""
        params = self.params
        if self.code == "conflict":
            if params.get("why") == "approved":
                return "the segment is approved with a different text; not overwritten"
            if params.get("why") == "unversioned":
                return (
                    "the file carries no revision and the segment has a reviewed or human "
                    "text that differs; not overwritten"
                )
            return (
                f"the segment changed since the export (revision {params.get('revision')}, "
                f"now {params.get('version')}); not overwritten"
            )
        if self.code == "source_changed":
            return "the English source changed since the export; export it again"
        if self.code == "unknown":
            if params.get("why") == "no_id":
                return "not a feedsvc segment (unknown id)"
            return "unknown segment (the article changed or was deleted)"
        if self.code == "qa":
            found = params.get("issues") or []
            return "; ".join(
                qa.message(qa.Issue(i["code"], i["params"], "error"))
                for i in found  # type: ignore[attr-defined]
            )
        return ""


UNDO_WINDOW = timedelta(minutes=10)  # how long a bulk approval can be undone
DISMISS_REASON_LENGTH = 500


def batch_note(batch: str) -> str:
    """The history note that ties a bulk approval's changes together for undo."""
    return f"batch:{batch}"


@dataclass
class BulkPlan:
    """Which segments a bulk approval would approve and which it skips, and why."""

    approvable: list[StoredSegment] = field(default_factory=list)
    skipped: list[tuple[StoredSegment, list[qa.Issue]]] = field(default_factory=list)


@dataclass(frozen=True)
class BulkApproval:
    """What a bulk approval did, with the batch id that undoes it."""

    batch: str
    approved: list[str]  # keys
    skipped: list[tuple[StoredSegment, list[qa.Issue]]]


@dataclass
class ExchangeImportReport:
    """What became of each unit of an imported PO or XLIFF file."""

    items: list[ImportItem] = field(default_factory=list)  # in file order

    def of(self, *codes: str) -> list[ImportItem]:
        """The items with one of ``codes``."""
        return [item for item in self.items if item.code in codes]

    @property
    def applied(self) -> list[str]:  # locations
        """Locations of the units whose text was saved."""
        return [item.location for item in self.of("applied")]

    @property
    def unchanged(self) -> list[str]:
        """Locations of the units that changed nothing."""
        return [item.location for item in self.of("unchanged")]

    @property
    def conflicts(self) -> list[ImportItem]:
        """Units not applied because the segment changed since the export."""
        return self.of("conflict")

    @property
    def rejected(self) -> list[tuple[str, str]]:  # (location, reason): all not applied
        """Every unit not applied, with the reason."""
        return [(item.location, item.reason) for item in self.items if item.code in NOT_APPLIED]


class Reviewer:
    """A translator's actions on one language's segments, checked and recorded."""

    def __init__(self, store: Store, language: Language, actor: str, clock: Clock = utcnow) -> None:
        self.store = store
        self.language = language
        self.lang = language.tag
        self.shown = language.shown
        self.actor = actor
        self.clock = clock
        self.queued: list[int] = []  # jobs to dispatch once the caller has committed
        self.derived: set[int] = set()  # articles whose derived segments changed

    def _segment(self, article_id: int, key: str, if_match: str | None) -> StoredSegment:
        live_article(self.store, article_id)
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
    ) -> StoredSegment:
        """A translator's text for one segment; refused when it would break the markup."""
        return self._save(self._segment(article_id, key, if_match), target, approve, action)

    def approve(self, article_id: int, key: str, if_match: str | None = None) -> StoredSegment:
        """Approve a segment's current text; its QA errors must be fixed first."""
        segment = self._segment(article_id, key, if_match)
        if segment.target is None:
            raise Invalid([FieldError("/target", "there is no text to approve yet")])
        return self._save(segment, segment.target, True, "approve")

    def reject(self, article_id: int, key: str, if_match: str | None = None) -> StoredSegment:
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

    def _save(
        self, segment: StoredSegment, target: str, approve: bool, action: str
    ) -> StoredSegment:
        target = typed_text(target)
        blocking = [
            i
            for i in issues(segment, target, terms_of(self.store, self.lang), self.lang)
            if i.severity == "error"
        ]
        if blocking:
            raise Invalid([FieldError("/target", qa.message(issue)) for issue in blocking])
        origin = segment.origin if target == segment.target else SegmentOrigin.HUMAN
        status = SegmentStatus.APPROVED if approve else SegmentStatus.TRANSLATED
        return self._change(segment, target, status, origin, action, reviewed=True)

    def dismiss(
        self, article_id: int, key: str, code: str, reason: str, if_match: str | None = None
    ) -> StoredSegment:
        """Set one QA warning of the current text aside, with a reason for the history;
        errors (broken structure) cannot be dismissed."""
        segment = self._segment(article_id, key, if_match)
        reason = reason.strip()
        if not reason or len(reason) > DISMISS_REASON_LENGTH:
            raise Invalid(
                [FieldError("/reason", f"say in 1 to {DISMISS_REASON_LENGTH} characters why")]
            )
        found = issues(segment, segment.target or "", terms_of(self.store, self.lang), self.lang)
        if not any(i.code == code and i.severity == "warning" for i in found):
            raise Invalid([FieldError("/code", f"no warning {code!r} on this segment's text")])
        codes = tuple(sorted({*segment.dismissed, code}))
        return self.store.segments.dismiss(segment, codes, self.actor, reason, self.clock())

    def bulk_plan(self, article_id: int, keys: Sequence[str] | None = None) -> BulkPlan:
        """What a bulk approval would do: the segments it approves and those it skips for
        QA issues not dismissed. Without ``keys``: every segment still carrying the
        machine's or memory's proposal; with them, those of them not approved yet."""
        terms = terms_of(self.store, self.lang)
        wanted = set(keys) if keys is not None else None
        plan = BulkPlan()
        for segment in self.store.segments.of(article_id, self.lang):
            if segment.status is not SegmentStatus.TRANSLATED or segment.target is None:
                continue
            if wanted is None and segment.origin is SegmentOrigin.HUMAN:
                continue
            if wanted is not None and segment.key not in wanted:
                continue
            found = [
                i
                for i in issues(segment, segment.target, terms, self.lang)
                if i.code not in segment.dismissed
            ]
            if found or segment.source_changed:
                plan.skipped.append((segment, found))
            else:
                plan.approvable.append(segment)
        return plan

    def approve_many(self, article_id: int, keys: Sequence[str] | None = None) -> BulkApproval:
        """Approve what :meth:`bulk_plan` allows, as one batch that :meth:`undo` can revert."""
        live_article(self.store, article_id)
        plan = self.bulk_plan(article_id, keys)
        batch = uuid.uuid4().hex[:16]
        for segment in plan.approvable:
            self._change(
                segment,
                segment.target,
                SegmentStatus.APPROVED,
                segment.origin,
                "approve",
                publish=False,
                note=batch_note(batch),
            )
        self._publish(article_id)
        return BulkApproval(batch, [s.key for s in plan.approvable], plan.skipped)

    def undo(self, article_id: int, batch: str) -> int:
        """Revert a bulk approval made less than ``UNDO_WINDOW`` ago, segment by segment,
        where nobody has changed the segment since; the count of segments reverted."""
        segments = self.store.segments.last_changed_by(article_id, self.lang, batch_note(batch))
        latest = self.store.segments.histories([s.id for s in segments])
        reverted = 0
        for segment in segments:
            entry = latest[segment.id][0]
            if self.clock() - entry.at > UNDO_WINDOW:
                continue
            self._change(
                segment,
                entry.before_target,
                SegmentStatus(entry.before_status),
                segment.origin,
                "undo",
                publish=False,
            )
            reverted += 1
        if reverted:
            self._publish(article_id)
        return reverted

    def _change(
        self,
        segment: StoredSegment,
        target: str | None,
        status: SegmentStatus,
        origin: SegmentOrigin | None,
        action: str,
        publish: bool = True,
        note: str | None = None,
        reviewed: bool = False,
    ) -> StoredSegment:
        now = self.clock()
        changed = self.store.segments.change(
            segment, target, status, origin, self.actor, action, now, note=note, reviewed=reviewed
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

    def apply(
        self, entries: Sequence[ImportedUnit], overwrite: bool = False
    ) -> ExchangeImportReport:
        """Apply a CAT tool's file entry by entry; each is checked and reported on its own.

        An entry never replaces newer work unless ``overwrite`` (the translator's explicit
        choice): a segment that changed since the export (its version is past the file's
        revision), or that is approved, keeps its text and status when the file would change
        them; such an entry is reported as a conflict. Entries without a revision (files
        exported before revisions, or by other tools) conflict with any approved or
        human-edited segment they would change."""
        report = ExchangeImportReport()
        touched: set[int] = set()
        terms = terms_of(self.store, self.lang)
        ids = {entry.article_id for entry in entries if entry.article_id is not None}
        titles = {a.id: a.title for a in self.store.articles.many(ids).values()}
        for entry in entries:
            segment = None
            if entry.article_id is not None and entry.key is not None:
                try:
                    live_article(self.store, entry.article_id)
                    segment = self.store.segments.get(entry.article_id, self.lang, entry.key)
                except (NotFound, Gone):
                    segment = None
            item = partial(_import_item, entry, segment, titles)
            if segment is None:
                why = "no_id" if entry.article_id is None or entry.key is None else "not_found"
                report.items.append(item("unknown", why=why))
                continue
            if normalized(entry.source) != normalized(segment.source):
                report.items.append(item("source_changed", file_source=entry.source))
                continue
            target = typed_text(entry.target)
            if not target:
                report.items.append(item("unchanged"))
                continue
            found = issues(segment, target, terms, self.lang)
            broken = [i for i in found if i.severity == "error"]
            if broken:
                problems = [{"code": i.code, "params": dict(i.params)} for i in broken]
                report.items.append(item("qa", issues=problems))
                continue
            status = SegmentStatus.APPROVED if entry.approved else SegmentStatus.TRANSLATED
            if target == (segment.target or "") and status is segment.status:
                report.items.append(item("unchanged"))
                continue
            conflict = None if overwrite else _conflict(segment, entry, target)
            if conflict is not None:
                report.items.append(
                    item(
                        "conflict",
                        why=conflict,
                        revision=entry.revision,
                        version=segment.version,
                        current=segment.target,
                        current_status=segment.status.value,
                        file=target,
                    )
                )
                continue
            origin = segment.origin if target == segment.target else SegmentOrigin.HUMAN
            self._change(segment, target, status, origin, "import", publish=False)
            touched.add(segment.article_id)
            report.items.append(item("applied", status=status.value))
        for article_id in sorted(touched):
            self._publish(article_id)
        return report


def _import_item(
    entry: ImportedUnit,
    segment: StoredSegment | None,
    titles: dict[int, str],
    code: str,
    **params: object,
) -> ImportItem:
    return ImportItem(
        code=code,
        location=entry.location,
        article_id=entry.article_id,
        article_title=titles.get(entry.article_id) if entry.article_id is not None else None,
        key=entry.key,
        source=segment.source if segment is not None else entry.source,
        line=entry.line,
        params=params,
    )


def _conflict(segment: StoredSegment, entry: ImportedUnit, target: str) -> str | None:
    """Why applying ``target`` (already known to change the segment's text or status)
    would overwrite newer or reviewed work: "approved", "newer", "unversioned"; or None.
    Approving the very text the segment has is never a conflict."""
    same_text = target == (segment.target or "")
    approved = segment.status is SegmentStatus.APPROVED
    if same_text and not approved:
        return None  # the file approves the stored text as it is
    if approved:
        return "approved"  # a different text, or the file would take the approval back
    if entry.revision is None:
        return "unversioned" if segment.origin is SegmentOrigin.HUMAN else None
    return "newer" if segment.version > entry.revision else None


@dataclass(frozen=True)
class Preview:
    """An article as it would read with unsaved texts, sanitized."""

    title: str
    summary: str | None
    body_html: str  # sanitized


def preview(store: Store, article_id: int, lang: str, typed: Mapping[str, str]) -> Preview:
    """The article as it would read with ``typed`` texts (by segment key) over the stored
    ones; a typed text QA would refuse, and a segment without text, show the stored text
    or the English. Sanitized like a published variant."""
    article = live_article(store, article_id)
    pieces = cut(article.title, article.summary, article.body_html)
    texts = {}
    terms = terms_of(store, lang)
    for segment in store.segments.of(article_id, lang):
        text = typed_text(typed.get(segment.key, ""))
        if text and text == segment.target:  # stored text passed QA when it was saved
            texts[segment.key] = text
            continue
        broken = any(i.severity == "error" for i in issues(segment, text, terms, lang))
        if text and not broken:
            texts[segment.key] = text
        elif segment.target:
            texts[segment.key] = segment.target
    by_key = {segment.key: segment for segment in pieces.segments}
    current = {key: text for key, text in texts.items() if key in by_key}

    def line(key: str) -> str:
        segment = by_key[key]
        return clean_text(punctuate(render_text(segment, current.get(key, segment.source)), lang))

    return Preview(
        title=line("title"),
        summary=line("summary") if "summary" in by_key else None,
        body_html=clean_html(reassemble(pieces.body, current, lang)),
    )


EXPORT_MAX_SEGMENTS = 2_000  # FEEDSVC_EXPORT_MAX_SEGMENTS' default


def export_max_segments() -> int:
    """The running app's FEEDSVC_EXPORT_MAX_SEGMENTS, or the default outside an app."""
    from flask import current_app, has_app_context

    if has_app_context() and (settings := current_app.extensions.get("feedsvc.settings")):
        return int(settings.export_max_segments)
    return EXPORT_MAX_SEGMENTS


def export_article_ids(
    store: Store, lang: str, after: int = 0, max_segments: int | None = None
) -> tuple[list[int], int | None]:
    """One page of a whole-language export: the articles with unapproved segments, by id
    above ``after``, as many whole articles as fit in ``max_segments`` (at least one); and
    the id to continue after when more remain (else None)."""
    limit = export_max_segments() if max_segments is None else max_segments
    waiting = sorted(
        (item.article_id, item.total - item.approved)
        for item in store.segments.review_queue(QueueFilter(lang))
        if item.approved < item.total and item.article_id > after
    )
    ids: list[int] = []
    used = 0
    for current, count in waiting:
        if ids and used + count > limit:
            return ids, ids[-1]
        ids.append(current)
        used += count
    return ids, None


def pending_units(
    store: Store,
    lang: str,
    article_id: int | None,
    after: int = 0,
    max_segments: int | None = None,
) -> list[Unit]:
    """Segments to hand to a CAT tool: one article's, or every unapproved one of a language
    (one page of them: see ``export_article_ids``). A few queries in all (queue, articles,
    segments), however many articles there are."""
    return _units(store, lang, article_id, after, max_segments)[0]


def _units(
    store: Store, lang: str, article_id: int | None, after: int, max_segments: int | None
) -> tuple[list[Unit], int | None]:
    following = None
    if article_id is not None:
        live_article(store, article_id)
        ids = [article_id]
    else:
        ids, following = export_article_ids(store, lang, after, max_segments)
    if not ids:
        return [], None
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
                    revision=segment.version,
                )
            )
    return units, following


@dataclass(frozen=True)
class ExportPage:
    """One page of an export file, and where the next page starts."""

    data: bytes
    media_type: str
    next_after: int | None  # more remain: ask again with ?after=this (an article id)


def export_page(
    store: Store,
    lang: str,
    article_id: int | None,
    fmt: str,
    after: int = 0,
    max_segments: int | None = None,
) -> ExportPage:
    """A PO or XLIFF file of one article, or of one page of a language's unapproved
    segments. When more remain, the file ends with a comment saying where to go on."""
    units, following = _units(store, lang, article_id, after, max_segments)
    if fmt == "po":
        data, media_type = export_po(units, SOURCE_LANGUAGE, lang), "text/x-po"
    else:
        data, media_type = export_xliff(units, SOURCE_LANGUAGE, lang), "application/xliff+xml"
    if following is not None:
        note = (
            f"More segments wait for review: export again with ?after={following} "
            f"(this file holds {len(units)} segments, up to article {following})."
        )
        data += (f"\n# {note}\n" if fmt == "po" else f"<!-- {note} -->\n").encode()
    return ExportPage(data, media_type, following)


def export_file(
    store: Store, lang: str, article_id: int | None, fmt: str, after: int = 0
) -> tuple[bytes, str]:
    """``export_page`` as (bytes, media type): the first page unless ``after`` is given."""
    page = export_page(store, lang, article_id, fmt, after)
    return page.data, page.media_type


def read_exchange_file(data: bytes, media_type: str) -> list[ImportedUnit]:
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
